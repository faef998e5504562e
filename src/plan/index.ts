/**
 * Feature plans: the serializable programs that turn input columns into a model's input tensor.
 * Run them natively (compilePlan) everywhere it matters; the reference evaluator (runReference)
 * defines the semantics and backs the parity tests.
 */
import { compileNativePlan, compileNativePlanAsync, type NativePlan } from '../native.js';
import { runReference } from './reference.js';
import type { Column } from './types.js';

export * from './types.js';
export { validatePlan, OP_SPECS, opWidth } from './validate.js';
export { runReference, fnv1a32 } from './reference.js';
export { checkColumns, columnLength, dictColumn, utf8Column, bitmapFrom, isValid } from './columns.js';

export type CompiledPlan = NativePlan;

/** Compiles a plan for the native core, once; the result runs batches (`run`) and single rows (`runRow`). */
export function compilePlan(plan: unknown): CompiledPlan {
  return compileNativePlan(plan);
}

/** compilePlan with the compile itself off the event loop (a server loading a version under load). */
export function compilePlanAsync(plan: unknown): Promise<CompiledPlan> {
  return compileNativePlanAsync(plan);
}

export type Engine = 'native' | 'reference';

/** A batch runner for either engine, for comparisons and for the CLI's --engine option. */
export function planRunner(plan: unknown, engine: Engine): (columns: Column[], rows: number) => Float32Array {
  if (engine === 'reference') return (columns, rows) => runReference(plan, columns, rows);
  const compiled = compilePlan(plan);
  return (columns, rows) => compiled.run(columns, rows);
}
export { compareMatrices, f32UlpDistance } from './compare.js';
