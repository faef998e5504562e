/**
 * Quickstart step: Fresco's native plan executor on real data.
 *
 * Reads the 3M US flights of 2001 through DuckDB, runs a hand-written feature plan (time of day,
 * weekend, evening, scaled log distance, distance buckets, one-hot origin airport, hashed
 * destination) natively and in the TypeScript reference evaluator, checks they agree, and prints
 * the first rows of the model-ready matrix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { table } from '../../src/cli/output.js';
import { readColumns } from '../../src/offline/read-columns.js';
import { packageRoot } from '../../src/package-root.js';
import { compareMatrices } from '../../src/plan/compare.js';
import { compilePlan, runReference, validatePlan } from '../../src/plan/index.js';
import type { QuickstartContext } from '../context.js';

export async function kernelsStep(ctx: QuickstartContext): Promise<void> {
  const root = packageRoot();
  const flights = ctx.flightsParquet;
  const plan = validatePlan(JSON.parse(readFileSync(join(root, 'examples', 'flights.plan.json'), 'utf8'))).plan;
  const names = plan.output_names ?? plan.outputs.map((_, j) => `c${j}`);

  const t0 = performance.now();
  const data = await readColumns(flights, { columns: plan.inputs.map((input) => input.name) });
  const t1 = performance.now();
  ctx.log(`read ${data.rows.toLocaleString('en-US')} flights (${plan.inputs.map((i) => i.name).join(', ')}) from ${flights} in ${((t1 - t0) / 1000).toFixed(1)} s`);

  const compiled = compilePlan(plan);
  const t2 = performance.now();
  const native = compiled.run(data.columns, data.rows);
  const t3 = performance.now();
  const reference = runReference(plan, data.columns, data.rows);
  const t4 = performance.now();

  const nativeMs = t3 - t2;
  const referenceMs = t4 - t3;
  ctx.log(`plan: ${plan.ops.length} ops -> ${plan.outputs.length} columns`);
  ctx.log(`  native:    ${nativeMs.toFixed(1)} ms (${((data.rows / nativeMs) * 1000 / 1e6).toFixed(1)} M rows/s)`);
  ctx.log(`  reference: ${referenceMs.toFixed(1)} ms (native is ${(referenceMs / nativeMs).toFixed(1)}x faster)`);

  const diff = compareMatrices(plan, native, reference);
  if (diff) {
    throw new Error(`native and reference disagree: ${diff}`);
  }
  ctx.log('  native == reference on every row and column');

  // One row through the online path: the same plan, the same numbers.
  const row = 0;
  const out = new Float32Array(plan.outputs.length);
  const numeric = Float64Array.from(data.columns, (c) => (c.kind === 'f64' ? (c.values[row] as number) : NaN));
  const strings = data.columns.filter((c) => c.kind === 'dict').map((c) => c.dictionary[c.codes[row] as number] ?? null);
  compiled.runRow(numeric, strings, out);
  const batchRow = native.subarray(0, plan.outputs.length);
  if (!out.every((v, j) => Object.is(v, batchRow[j]))) {
    throw new Error('runRow disagrees with run on row 0');
  }
  ctx.log('  one row through runRow == the batch result\n');

  const width = plan.outputs.length;
  const head = Array.from({ length: 5 }, (_, r) => Array.from(native.subarray(r * width, (r + 1) * width), (v) => Number(v.toPrecision(4))));
  ctx.log('first rows of the model input matrix:');
  ctx.log(table(names, head));
}
