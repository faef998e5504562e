#!/usr/bin/env node
// Packs a release: fresco-ml-<version>.tgz and one fresco-ml-<platform>-<version>.tgz per prebuilt
// addon, ready for `npm publish <tarball>` (platform packages first). What napi-rs's
// `napi prepublish` does to package.json happens here, on a copy: the published manifest lists the
// platform packages in optionalDependencies at the same version. The repository's own
// package.json does not, so `npm ci` in a checkout never installs a published binary over the
// contributor's build, and its lock file needs no entry for packages not yet published.
//   node scripts/pack-release.mjs [--out dir] [--addon <triple>=<file.node> ...]
// Without --addon: this machine's target from native/fresco.node. Build first (npm run build).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hostTriple, nativePackageFolder, npmPack } from './pack-native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {{ out?: string, addons?: { triple: string, file: string }[] }} [options]
 * @returns {{ main: { file: string, size: number, entryCount: number }, native: { name: string, file: string, size: number }[] }}
 */
export function packRelease({ out = join(root, 'npm'), addons = [{ triple: hostTriple(), file: join(root, 'native', 'fresco.node') }] } = {}) {
  if (!existsSync(join(root, 'dist', 'src', 'index.js'))) throw new Error('pack-release: dist/ is not built; run `npm run build` first');
  out = resolve(out);
  mkdirSync(out, { recursive: true });
  const native = addons.map(({ triple, file }) => {
    const folder = nativePackageFolder({ addon: file, triple, out });
    return { name: folder.name, version: folder.version, ...npmPack(folder.dir, out) };
  });

  // The main package: npm pack of the checkout (its `files`), unpacked, manifest rewritten, packed again.
  const stage = mkdtempSync(join(tmpdir(), 'fresco-release-'));
  try {
    const first = npmPack(root, stage);
    const untar = spawnSync('tar', ['-xzf', first.file, '-C', stage], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`pack-release: tar -xzf ${first.file} failed: ${untar.stderr}`);
    const dir = join(stage, 'package');
    const pruned = pruneStaleOutput(dir);
    if (pruned.length) console.error(`pack-release: left out ${pruned.length} compiled file(s) whose source is gone: ${pruned.join(', ')}`);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    pkg.optionalDependencies = Object.fromEntries(native.map((n) => [n.name, n.version]));
    // allowScripts is the repository's install policy (npm reads it from the root project only);
    // the scripts build and test a checkout. A user's install runs neither.
    delete pkg.allowScripts;
    pkg.scripts = { 'build:native': pkg.scripts['build:native'] };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    const main = npmPack(dir, out);
    return { main, native };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * Removes from the staged package the compiled files (.js and .d.ts under dist/src) whose TypeScript
 * source no longer exists: tsc never deletes output, so a checkout's dist/ keeps files of
 * modules since renamed or removed, and `files` would ship them. Returns their paths.
 */
function pruneStaleOutput(dir) {
  const pruned = [];
  const walk = (rel) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else {
        const source = path.replace(/^dist\//, '').replace(/(\.d)?\.js$|\.d\.ts$/, '.ts');
        if (!existsSync(join(root, source))) {
          rmSync(join(dir, path));
          pruned.push(path);
        }
      }
    }
  };
  if (existsSync(join(dir, 'dist', 'src'))) walk('dist/src');
  return pruned;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  const addons = [];
  args.forEach((a, i) => {
    if (a !== '--addon') return;
    const [triple, file] = (args[i + 1] ?? '').split('=');
    if (!triple || !file) throw new Error('pack-release: --addon takes <rust triple>=<file.node>');
    addons.push({ triple, file: resolve(file) });
  });
  try {
    const result = packRelease({ ...(at >= 0 ? { out: args[at + 1] } : {}), ...(addons.length ? { addons } : {}) });
    for (const n of result.native) console.log(`${n.file}  ${n.size} bytes`);
    console.log(`${result.main.file}  ${result.main.size} bytes`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
