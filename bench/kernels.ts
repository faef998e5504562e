/**
 * Plan kernels across the N-API boundary, each against a named baseline in the same run:
 *  - a 10-op plan over 1M rows: native vs the TypeScript reference evaluator;
 *  - assembling 50 f32 columns x 100k rows into the row-major matrix: native vs a TypeScript loop;
 *  - one row through a 50-feature plan (runRow, crossing included) vs the reference on one row.
 */
import { Bench } from 'tinybench';
import { assembleColumns } from '../src/native.js';
import { type Column, compilePlan, runReference } from '../src/plan/index.js';
import type { BenchRow } from './row.js';
import { f32Columns, fiftyFeaturePlan, TEN_OP_PLAN, tenOpColumns } from './inputs.js';


function tsAssemble(columns: Float32Array[], rows: number): Float32Array {
  const width = columns.length;
  const out = new Float32Array(rows * width);
  for (let j = 0; j < width; j++) {
    const column = columns[j] as Float32Array;
    for (let i = 0; i < rows; i++) out[i * width + j] = column[i] as number;
  }
  return out;
}

/** Mean nanoseconds per call of each named function, measured by tinybench in one run. */
async function measure(tasks: Record<string, () => void>, options: { time: number; perIteration?: number }): Promise<Record<string, number>> {
  const bench = new Bench({ time: options.time, warmupTime: Math.min(500, options.time / 2) });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const out: Record<string, number> = {};
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`benchmark ${task.name} did not complete: ${result.state}`);
    out[task.name] = (result.latency.mean * 1e6) / (options.perIteration ?? 1);
  }
  return out;
}

export async function runKernelBenchmarks(log: (line: string) => void = console.log): Promise<BenchRow[]> {
  const results: BenchRow[] = [];

  // 1. A 10-op plan over 1M rows.
  const rows = 1_000_000;
  const columns: Column[] = tenOpColumns(rows);
  const tenOp = compilePlan(TEN_OP_PLAN);
  const reused = new Float32Array(rows * tenOp.outputCount);
  log('10-op plan x 1M rows ...');
  const t1 = await measure(
    {
      native: () => void tenOp.run(columns, rows),
      nativeInto: () => tenOp.runInto(columns, rows, reused),
      reference: () => void runReference(TEN_OP_PLAN, columns, rows),
    },
    { time: 3000 },
  );
  results.push({
    name: '10-op plan, 1M rows',
    baseline: 'TypeScript reference evaluator',
    nativeNs: t1.native!,
    baselineNs: t1.reference!,
    speedup: t1.reference! / t1.native!,
    extra: { nativeRowsPerSecond: rows / (t1.native! / 1e9) },
  });
  results.push({
    name: '10-op plan, 1M rows, into a reused matrix (runInto)',
    baseline: 'TypeScript reference evaluator',
    nativeNs: t1.nativeInto!,
    baselineNs: t1.reference!,
    speedup: t1.reference! / t1.nativeInto!,
    extra: { nativeRowsPerSecond: rows / (t1.nativeInto! / 1e9) },
  });

  // 2. Assembly: 50 f32 columns x 100k rows into one matrix.
  const assemblyRows = 100_000;
  const f32 = f32Columns(50, assemblyRows);
  log('assemble 50 x 100k f32 ...');
  const t2 = await measure(
    { native: () => void assembleColumns(f32, assemblyRows), typescript: () => void tsAssemble(f32, assemblyRows) },
    { time: 2000 },
  );
  const bytes = 2 * 50 * assemblyRows * 4; // read every column once, write the matrix once
  results.push({
    name: 'assemble 50 f32 columns x 100k rows',
    baseline: 'TypeScript loop',
    nativeNs: t2.native!,
    baselineNs: t2.typescript!,
    speedup: t2.typescript! / t2.native!,
    extra: { nativeGBps: bytes / t2.native!, baselineGBps: bytes / t2.typescript!, bytesMoved: bytes },
  });

  // 3. One row through a 50-feature plan: the online path, N-API crossing included.
  const plan50 = fiftyFeaturePlan();
  const compiled50 = compilePlan(plan50);
  const numeric = Float64Array.from({ length: 50 }, (_, i) => (i % 7 === 0 ? NaN : i * 1.5));
  const out = new Float32Array(50);
  const oneRowColumns: Column[] = Array.from(numeric, (v) => ({ kind: 'f64', values: Float64Array.of(v) }));
  const calls = 1000;
  log('one row x 50-feature plan ...');
  const t3 = await measure(
    {
      native: () => {
        for (let k = 0; k < calls; k++) compiled50.runRow(numeric, [], out);
      },
      reference: () => {
        for (let k = 0; k < calls; k++) runReference(plan50, oneRowColumns, 1);
      },
    },
    { time: 2000, perIteration: calls },
  );
  results.push({
    name: 'one row, 50-feature plan (runRow)',
    baseline: 'TypeScript reference evaluator, one row',
    nativeNs: t3.native!,
    baselineNs: t3.reference!,
    speedup: t3.reference! / t3.native!,
  });

  return results;
}
