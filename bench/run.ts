/**
 * `npm run bench [suite ...]`: runs benchmark suites, prints a table per suite and writes
 * bench/results/<suite>.json with the machine, the commit and the figures, so a change can be
 * compared with main. Every row compares Fresco against a named baseline measured in the same run.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { table } from '../src/cli/output.js';
import { packageRoot } from '../src/package-root.js';
import { runKernelBenchmarks } from './kernels.js';
import { runOfflineBenchmarks } from './offline.js';
import { runRegistryBenchmarks } from './registry.js';
import { runDslBenchmarks } from './dsl.js';
import { runTrainingBenchmarks } from './training.js';
import { runServingBenchmarks } from './serving.js';
import type { BenchRow } from './row.js';
import { runBatchBenchmarks } from './batch.js';

/** Suites by name. Add a suite: write bench/<name>.ts returning BenchRow[], and list it here. */
const SUITES: Record<string, (log: (line: string) => void) => Promise<BenchRow[]>> = {
  serving: runServingBenchmarks,
  kernels: runKernelBenchmarks,
  offline: runOfflineBenchmarks,
  registry: runRegistryBenchmarks,
  dsl: runDslBenchmarks,
  'dsl-scale': (log) => import('./dsl-scale.js').then((m) => m.runDslScaleBenchmarks(log)),
  training: runTrainingBenchmarks,
  online: (log) => import('./online.js').then((m) => m.runOnlineBenchmarks(log)),
  batch: runBatchBenchmarks,
  'cli-start': (log) => import('./cli-start.js').then((m) => m.runCliStartBenchmarks(log)),
};

function commit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

const formatNs = (ns: number) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);

const requested = process.argv.slice(2);
for (const name of requested) if (!SUITES[name]) throw new Error(`unknown suite "${name}"; suites: ${Object.keys(SUITES).join(', ')}`);
const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
const dir = join(packageRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });

for (const name of requested.length ? requested : Object.keys(SUITES)) {
  console.error(`== ${name}`);
  const rows = await SUITES[name]!((line) => console.error(line));
  console.log(
    table(
      ['benchmark', 'fresco', 'baseline', 'speedup', 'baseline is', 'notes'],
      rows.map((r) => [
        r.name,
        formatNs(r.nativeNs),
        formatNs(r.baselineNs),
        `${r.speedup.toFixed(1)}x`,
        r.baseline,
        Object.entries(r.extra ?? {})
          .map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`)
          .join(' '),
      ]),
    ),
  );
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ suite: name, commit: commit(), date: new Date().toISOString(), machine, results: rows }, null, 2)}\n`);
  console.log(`written to ${file}\n`);
}
