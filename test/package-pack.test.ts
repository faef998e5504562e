/**
 * What `npm publish` would ship: the main package's tarball (package.json `files`) holds the CLI,
 * the compiled library with its type declarations, the schema, the docs and the Rust sources
 * (the build-from-source path), and no tests, fixtures, benchmarks, source maps or build output;
 * the release's manifest lists the prebuilt addon's platform package at the same version; that
 * package holds the addon alone, limited to the platform it runs on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativePackageName, nativePlatform } from '../src/native.js';
import { packageRoot } from '../src/package-root.js';
// @ts-expect-error: a plain .mjs script, no declarations
import { declaredTargets } from '../scripts/pack-native.mjs';
// @ts-expect-error: a plain .mjs script, no declarations
import { packRelease } from '../scripts/pack-release.mjs';

const root = packageRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  engines: { node: string };
  scripts: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  optionalDependencies?: Record<string, string>;
};

interface Packed {
  name: string;
  version: string;
  size: number;
  files: { path: string }[];
}

/** `npm pack --dry-run --json` of a folder: what its tarball would hold, and what npm printed on stderr. */
function dryRun(dir: string): { packed: Packed; stderr: string } {
  // --ignore-scripts: packing must not rebuild (the suite runs after the build).
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return { packed: (JSON.parse(r.stdout) as Packed[])[0]!, stderr: r.stderr };
}

function tarList(file: string): string[] {
  const r = spawnSync('tar', ['-tzf', file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map((p) => p.replace(/^package\//, '')).sort();
}

function manifestIn(file: string): Record<string, unknown> {
  const r = spawnSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const out = mkdtempSync(join(tmpdir(), 'fresco-pack-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm package contents', () => {
  it('ships the CLI, library, types, schema, docs and Rust sources, and nothing else', () => {
    expect(existsSync(join(root, 'dist', 'src', 'index.js')), 'dist/ is built (npm run build)').toBe(true);
    const { packed, stderr } = dryRun(root);
    // No "Unknown project config" (.npmrc) or any other warning from npm.
    expect(stderr).not.toMatch(/npm warn/i);
    expect(packed.name).toBe('fresco-ml');
    const files = packed.files.map((f) => f.path);
    const has = (p: string) => expect(files, p).toContain(p);

    for (const p of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/fresco.js', 'schema/fresco.fbs', 'python/fresco_runner.py']) has(p);
    for (const doc of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) has(`docs/${doc}`);
    for (const p of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/client/index.js', 'dist/src/client/index.d.ts', 'dist/src/native.js', 'dist/src/cli/main.js']) has(p);
    // Building from source (platforms without a prebuilt addon): the whole Rust workspace and the script.
    // (cargo reads the bench native/core/Cargo.toml declares, and train's vendored forust-ml, to load the workspace.)
    for (const p of ['native/Cargo.toml', 'native/Cargo.lock', 'native/core/Cargo.toml', 'native/core/src/lib.rs', 'native/core/benches/kernels.rs', 'native/binding/Cargo.toml', 'native/binding/build.rs', 'native/binding/src/lib.rs', 'native/binding/napi.json', 'native/train/Cargo.toml', 'native/train/vendor/forust-ml/Cargo.toml', 'scripts/build.mjs', 'scripts/build-native.mjs']) has(p);

    // Every entry point the manifest names is in the tarball.
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin), ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))];
    for (const t of targets) has(t.replace(/^\.\//, ''));

    const junk = files.filter((f) =>
      /^(test|bench|examples|models|docker|coverage|node_modules|\.ci|\.quickstart|npm)\//.test(f) ||
      /^dist\/(?!src\/)/.test(f) ||
      /(^|\/)target\//.test(f) ||
      /(^|\/)fixtures\//.test(f) ||
      /\.(node|map|tsbuildinfo|log|tgz)$/.test(f) ||
      /^scripts\/(?!build\.mjs$|build-native\.mjs$)/.test(f),
    );
    expect(junk).toEqual([]);
  });

  it('declares ESM entry points with types, the engines, and no install-time scripts', () => {
    expect(pkg.exports['.']).toEqual({ types: './dist/src/index.d.ts', default: './dist/src/index.js' });
    expect(pkg.exports['./client']).toEqual({ types: './dist/src/client/index.d.ts', default: './dist/src/client/index.js' });
    expect(pkg.types).toBe('./dist/src/index.d.ts');
    expect(pkg.bin).toEqual({ fresco: 'bin/fresco.js' });
    expect(pkg.engines.node).toBe('>=20.17');
    // npm asks users to review a dependency's install scripts (and `prepare`, for tarball and git
    // installs): fresco-ml has none. The repository builds with scripts/setup.mjs instead.
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts[s], s).toBeUndefined();
    // The platform packages are added when a release is packed, never to the checkout's manifest.
    expect(pkg.optionalDependencies).toBeUndefined();
  });

  it('every install-script policy the docs show is the one in package.json', () => {
    const policy = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> }).allowScripts;
    expect(policy['onnxruntime-node']).toBe(false);
    let shown = 0;
    for (const doc of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(root, 'docs', doc), 'utf8');
      // `npm pkg set --json 'allowScripts={...}'` one-liners and package.json blocks.
      const found = [...text.matchAll(/allowScripts=(\{[^']*\})'/g)].map((m) => JSON.parse(m[1]!) as unknown);
      for (const m of text.matchAll(/```json\n([\s\S]*?)```/g)) {
        if (m[1]!.includes('"allowScripts"')) found.push((JSON.parse(m[1]!) as { allowScripts: unknown }).allowScripts);
      }
      for (const f of found) expect(f, doc).toEqual(policy);
      shown += found.length;
    }
    expect(shown).toBeGreaterThanOrEqual(2);
  });

  it('names each declared target\'s package as the loader looks for it', () => {
    const targets = declaredTargets() as { triple: string; platform: string; os: string; cpu: string; libc?: string }[];
    expect(targets.map((t) => t.platform)).toEqual(['linux-x64-gnu', 'linux-arm64-gnu', 'darwin-x64', 'darwin-arm64']);
    for (const t of targets) expect(nativePlatform(t.os, t.cpu, t.libc === 'musl'), t.triple).toBe(t.platform);
    expect(nativePlatform('linux', 'x64', true)).toBe('linux-x64-musl');
    expect(nativePlatform('win32', 'x64', false)).toBe('win32-x64-msvc');
  });

  it('packs a release: the main package lists the platform package, which holds the addon alone', () => {
    const release = packRelease({ out }) as { main: { file: string; size: number }; native: { name: string; file: string; size: number }[] };
    console.log(`release tarballs: ${release.native.map((n) => `${n.name} ${n.size} bytes`).join(', ')}, fresco-ml ${release.main.size} bytes`);
    const [native] = release.native;
    expect(release.native).toHaveLength(1);
    expect(native!.name).toBe(nativePackageName());

    const main = manifestIn(release.main.file);
    expect(main).toMatchObject({ name: 'fresco-ml', version: pkg.version, optionalDependencies: { [native!.name]: pkg.version } });
    expect(main.allowScripts).toBeUndefined();
    expect(Object.keys(main.scripts as object)).toEqual(['build:native']);
    // What the checkout's `files` select, less compiled files whose source is gone (tsc never
    // deletes its output, so a checkout's dist/ can hold modules since renamed or removed).
    const isStale = (f: string) => /^dist\/src\/.*\.js$|^dist\/src\/.*\.d\.ts$/.test(f) && !existsSync(join(root, f.replace(/^dist\//, '').replace(/(\.d)?\.js$|\.d\.ts$/, '.ts')));
    const shipped = tarList(release.main.file);
    expect(shipped.filter(isStale)).toEqual([]);
    expect(shipped).toEqual(dryRun(root).packed.files.map((f) => f.path).filter((f) => !isStale(f)).sort());

    const platform = native!.name.slice('fresco-ml-'.length);
    const addon = `fresco.${platform}.node`;
    expect(tarList(native!.file)).toEqual(['LICENSE', 'README.md', addon, 'package.json']);
    const manifest = manifestIn(native!.file);
    expect(manifest).toMatchObject({ name: native!.name, version: pkg.version, main: addon, files: [addon], os: [process.platform], cpu: [process.arch] });
    if (process.platform === 'linux') expect(manifest.libc).toEqual([platform.endsWith('-musl') ? 'musl' : 'glibc']);
    expect(manifest.scripts).toBeUndefined();
    expect(manifest.dependencies).toBeUndefined();
  });
});

