/**
 * Issue 19's "done when": a user's install. The release tarballs (fresco-ml and the linux-x64
 * addon package, scripts/pack-release.mjs) are installed into an empty project whose package.json
 * is the one docs/install.md shows, with cargo and rustc absent from PATH and no npm or
 * onnxruntime settings from this process; then `npx fresco init`, `apply`, `dataset build`,
 * `models register`, `serve` and one `predict` run there as the docs say. npm must print no
 * warning, and onnxruntime-node must not have fetched its CUDA files.
 *
 * It takes a minute or two, most of it compiling better-sqlite3 (whose prebuilt binary is on
 * GitHub, out of reach here). FRESCO_SKIP_INSTALL_TEST=1 skips it; nothing else does.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { nativePackageName } from '../src/native.js';
import { packageRoot } from '../src/package-root.js';
// @ts-expect-error: a plain .mjs script, no declarations
import { packRelease } from '../scripts/pack-release.mjs';
import { eventually } from './serving-helpers.js';

const root = packageRoot();
const skip = process.env.FRESCO_SKIP_INSTALL_TEST === '1';
if (skip) console.warn('test/package-install.test.ts: skipped (FRESCO_SKIP_INSTALL_TEST=1)');
const work = mkdtempSync(join(tmpdir(), 'fresco-install-'));
// Removing a node_modules folder takes a while on a busy machine.
afterAll(() => rmSync(work, { recursive: true, force: true }), 120_000);

/** The package.json docs/install.md tells a user to start from (its one JSON block). */
function documentedProjectManifest(): { allowScripts: Record<string, boolean> } & Record<string, unknown> {
  const doc = readFileSync(join(root, 'docs', 'install.md'), 'utf8');
  const block = /```json\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/install.md has no ```json block');
  return JSON.parse(block[1]!) as { allowScripts: Record<string, boolean> };
}

/**
 * PATH without cargo, rustc or rustup: folders holding them are replaced by a folder of links to
 * everything else they hold (on a machine whose Rust is in /usr/bin, make and the compilers stay).
 */
function pathWithoutRust(): string {
  const rust = new Set(['cargo', 'rustc', 'rustup']);
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return dirs
    .map((dir, i) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return dir;
      }
      if (!names.some((n) => rust.has(n))) return dir;
      const shim = join(work, `path-${i}`);
      mkdirSync(shim, { recursive: true });
      for (const n of names) if (!rust.has(n)) symlinkSync(join(dir, n), join(shim, n));
      return shim;
    })
    .join(delimiter);
}

/**
 * This process's environment as a user's shell would have it: no npm_* variables (npm test sets
 * npm_config_local_prefix and others, which would point a nested npm at this repository), no
 * onnxruntime install settings, and PATH without Rust.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || /^ONNXRUNTIME_NODE_INSTALL/.test(k) || k === 'INIT_CWD' || k === 'NODE_OPTIONS' || k.startsWith('VITEST')) continue;
    env[k] = v;
  }
  env.PATH = pathWithoutRust();
  env.FRESCO_LOG_LEVEL = 'warn';
  // node-gyp compiles better-sqlite3 with one job unless told otherwise; two halve the wait here.
  env.JOBS = '2';
  return env;
}

describe.skipIf(skip)('installing fresco-ml from its tarballs (a user project)', () => {
  it('installs without Rust or npm warnings, skips the CUDA download, and runs a project with npx fresco', { timeout: 900_000 }, async () => {
    const started = Date.now();
    const step = (name: string) => console.log(`package-install: ${name} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const env = userEnv();
    expect(spawnSync('sh', ['-c', 'command -v cargo || command -v rustc'], { env }).status, 'cargo or rustc still on PATH').not.toBe(0);

    const release = packRelease({ out: join(work, 'tarballs') }) as { main: { file: string; size: number }; native: { name: string; file: string; size: number }[] };
    const addonPackage = nativePackageName();
    expect(release.native.map((n) => n.name)).toEqual([addonPackage]);
    step(`packed ${release.native[0]!.name} (${release.native[0]!.size} bytes), fresco-ml (${release.main.size} bytes)`);

    const project = join(work, 'my-project');
    mkdirSync(project);
    const manifest = documentedProjectManifest();
    // The documented policy is the repository's own: one list to keep current.
    expect(manifest.allowScripts).toEqual((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts: unknown }).allowScripts);
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    const run = (command: string, args: string[]): SpawnSyncReturns<string> => {
      const r = spawnSync(command, args, { cwd: project, env, encoding: 'utf8', timeout: 600_000 });
      expect(r.status, `${command} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stderr, `${command} ${args.join(' ')}`).not.toMatch(/npm warn/i);
      return r;
    };
    const fresco = (...args: string[]) => run('npx', ['fresco', ...args]);

    // --prefer-offline: dependencies come from npm's cache (filled by the repository's own
    // install) and the registry only for what the cache lacks.
    const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', release.main.file, release.native[0]!.file]);
    step('npm install');
    const modules = join(project, 'node_modules');
    expect(existsSync(join(modules, 'fresco-ml', 'native', 'fresco.node')), 'no addon built into fresco-ml').toBe(false);
    if (process.platform === 'linux' && process.arch === 'x64') {
      const ortBin = join(modules, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
      expect(existsSync(join(ortBin, 'libonnxruntime.so.1')), 'the CPU provider ships with onnxruntime-node').toBe(true);
      expect(existsSync(join(ortBin, 'libonnxruntime_providers_cuda.so')), 'the CUDA download was skipped').toBe(false);
    }

    // The library's entry points, as an ESM user imports them, load the prebuilt addon.
    const probe = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `
        const { FrescoClient } = await import('fresco-ml/client');
        const { ModelRegistry } = await import('fresco-ml');
        const { nativeInfo } = await import(${JSON.stringify(pathToFileURL(join(modules, 'fresco-ml', 'dist', 'src', 'native.js')).href)});
        console.log(JSON.stringify({ client: typeof FrescoClient, registry: typeof ModelRegistry, native: nativeInfo() }));`],
      { cwd: project, env, encoding: 'utf8' },
    );
    expect(probe.status, probe.stderr).toBe(0);
    const loaded = JSON.parse(probe.stdout) as { client: string; registry: string; native: { abi: number; path: string } };
    expect(loaded).toMatchObject({ client: 'function', registry: 'function' });
    expect(loaded.native.path.startsWith(join(modules, addonPackage) + '/')).toBe(true);

    // TypeScript finds the declarations through the `types` conditions of `exports`.
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['check.ts'] }));
    writeFileSync(
      join(project, 'check.ts'),
      `import { FrescoClient } from 'fresco-ml/client';\nimport { ModelRegistry } from 'fresco-ml';\n` +
        `export const client: FrescoClient = new FrescoClient('ws://127.0.0.1:8500');\nexport type Registry = ModelRegistry;\n` +
        `// @ts-expect-error: the URL is a string (an error only when the declarations were found)\nnew FrescoClient(42);\n`,
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, env, encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    step('imports and types');

    // A project, as docs/getting-started.md builds one.
    expect(fresco('init', '.').stdout).toMatch(/created project "my-project"/);
    writeFileSync(
      join(project, 'features', 'drivers.yaml'),
      `entities:\n  - { name: driver, join_keys: [driver_id] }\nsources:\n  - name: driver_stats\n    path: data/driver_stats.csv\n    timestamp: event_timestamp\n` +
        `feature_tables:\n  - name: driver_hourly\n    entities: [driver]\n    source: driver_stats\n    features:\n      - { name: trips, type: int32 }\n      - { name: rating, type: float64 }\n`,
    );
    writeFileSync(join(project, 'data', 'driver_stats.csv'), 'event_timestamp,driver_id,trips,rating\n2024-01-01 00:00:00,1,10,4.5\n2024-01-01 06:00:00,1,12,4.6\n2024-01-01 00:00:00,2,3,3.9\n');
    writeFileSync(join(project, 'data', 'labels.csv'), 'ts,driver_id,label\n2024-01-01 05:00:00,1,1\n2024-01-01 07:00:00,1,0\n2024-01-01 01:00:00,2,1\n');
    expect(fresco('apply').stdout).toMatch(/3 definition\(s\), 3 new or changed/);
    const dataset = JSON.parse(fresco('--json', 'dataset', 'build', '--labels', 'data/labels.csv', '--timestamp', 'ts', '--features', 'driver_hourly.trips,driver_hourly.rating', '--out', 'train.parquet').stdout) as { rows: number; quality: { status: string } };
    expect(dataset).toMatchObject({ rows: 3, quality: { status: 'passed' } });
    expect(existsSync(join(project, 'train.parquet'))).toBe(true);
    const registered = JSON.parse(fresco('--json', 'models', 'register', join(root, 'models', 'flights-delay'), '--alias', 'production').stdout) as { name: string; version: number };
    expect(registered).toMatchObject({ name: 'flights-delay', version: 1 });
    step('init, apply, dataset build, models register');

    // serve (its own process group: npx does not pass SIGTERM on to the server it starts).
    const serve = spawn('npx', ['fresco', 'serve', '--port', '0', '--models', 'flights-delay@production', '--no-prioritize-serving'], { cwd: project, env, detached: true });
    let serveErr = '';
    serve.stderr.setEncoding('utf8').on('data', (d: string) => (serveErr += d));
    serve.stdout.resume();
    const closed = new Promise<number | null>((resolve) => serve.once('close', (code) => resolve(code)));
    onTestFinished(() => {
      // A failed assertion must not leave a server running.
      try {
        if (serve.pid) process.kill(-serve.pid, 'SIGKILL');
      } catch {
        // the group has exited
      }
    });
    await eventually(() => {
      if (serve.exitCode !== null) throw new Error(`fresco serve exited (code ${serve.exitCode}): ${serveErr}`);
      return /listening on http:\/\/127\.0\.0\.1:\d+/.test(serveErr);
    }, 60_000);
    const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(serveErr)![1];
    // The flights plan runs in the prebuilt addon on the way to the model.
    const answer = JSON.parse(fresco('predict', 'flights-delay', '--url', `ws://127.0.0.1:${port}`, '--field', `date=${Date.UTC(2001, 4, 1, 19)}`, '--field', 'distance=337', '--field', 'origin=SFO', '--field', 'destination=LAX', '--json').stdout) as {
      model: string;
      outputs: { delay_probability: { data: number[] } };
    };
    expect(answer.model).toBe('flights-delay');
    const p = answer.outputs.delay_probability.data[0]!;
    expect(p > 0 && p < 1, `probability ${p}`).toBe(true);
    process.kill(-serve.pid!, 'SIGTERM');
    await closed;
    expect(serveErr).toMatch(/SIGTERM: draining/);
    expect(serveErr).not.toMatch(/npm warn/i);
    step('serve and predict');

    // Without the addon package, the error names the package to install, and how to build instead.
    renameSync(join(modules, addonPackage), join(work, 'addon-aside'));
    const plan = (JSON.parse(readFileSync(join(root, 'models', 'flights-delay', 'fresco.json'), 'utf8')) as { plan: unknown }).plan;
    writeFileSync(join(project, 'plan.json'), JSON.stringify(plan));
    writeFileSync(join(project, 'rows.csv'), `date,distance,origin,destination\n${Date.UTC(2001, 4, 1, 19)},337,SFO,LAX\n`);
    const missing = spawnSync('npx', ['fresco', 'plan', 'run', 'plan.json', '--input', 'rows.csv'], { cwd: project, env, encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('FRESCO_ERR_NATIVE_MISSING');
    expect(missing.stderr).toContain(`npm install ${addonPackage}@${packageVersion()}`);
    expect(missing.stderr).toContain('npm run build:native');
    step('done');
  });
});

/** fresco-ml's version: the platform package's is the same. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}
