/**
 * `fresco --help`, `--version` and every command's `--help` start fast because they load only
 * the command definitions: each command imports its implementation (DuckDB, ONNX Runtime,
 * uWebSockets.js, h5wasm, SQLite, the native addon, zod, yaml, ...) when it runs. One eager
 * import at the top of any src/cli file undoes that for every command; this test names it.
 * It runs the executable as a user does (bin/fresco.js, so dist/ must be built) and records
 * every module the process resolves. No timings: bench/cli-start.ts measures those.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-root.js';

const root = packageRoot();
const dir = mkdtempSync(join(tmpdir(), 'fresco-cli-start-'));

/** The modules `fresco <args>` resolves: packages by name, Fresco's own modules by path. */
function loadedBy(...args: string[]): { packages: Set<string>; own: Set<string>; status: number | null; out: string } {
  const trace = join(dir, `trace-${args.join('_').replace(/[^a-z0-9_-]/gi, '')}.txt`);
  rmSync(trace, { force: true });
  const hook = join(root, 'test', 'helpers', 'trace-imports.mjs');
  const r = spawnSync(process.execPath, ['--import', hook, join(root, 'bin', 'fresco.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, FRESCO_TRACE_IMPORTS: trace } });
  const urls = readFileSync(trace, 'utf8').split('\n').filter((u) => u.startsWith('file:'));
  const packages = new Set(urls.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []));
  const own = new Set(urls.filter((u) => !u.includes('/node_modules/')).map((u) => fileURLToPath(u).slice(root.length + 1)));
  return { packages, own, status: r.status, out: r.stdout };
}

describe('fresco start-up', () => {
  for (const args of [['--help'], ['--version'], ['features', 'get', '--help'], ['serve', '--help'], ['train', '--help'], ['batch', 'score', '--help'], ['models', '--help'], ['bench', 'serve', '--help']]) {
    it(`\`fresco ${args.join(' ')}\` loads commander and the command definitions only`, () => {
      const r = loadedBy(...args);
      expect(r.status).toBe(0);
      expect(r.out).not.toBe('');
      // commander shows the trace works; any other package (@duckdb/node-api, onnxruntime-node,
      // uWebSockets.js, h5wasm, better-sqlite3, zod, yaml...) is an eager import to make lazy.
      expect(r.packages.has('commander')).toBe(true);
      expect([...r.packages].filter((p) => p !== 'commander')).toEqual([]);
      // Nor Fresco's own implementation modules: the native addon's loader, the stores, the server.
      expect([...r.own].filter((f) => /^dist\/src\/(native|offline|online\/(?!push-defaults)|serving|registry|training|models|batch\/(?!progress)|features|config|dsl|plan)\b/.test(f))).toEqual([]);
    });
  }
});
