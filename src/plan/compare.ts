import type { Plan } from './types.js';

/** Distance in f32 units in the last place, with NaN equal to NaN and infinities exact. */
export function f32UlpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat32(0, a);
  view.setFloat32(4, b);
  const ia = view.getInt32(0);
  const ib = view.getInt32(4);
  const ordered = (i: number) => (i < 0 ? -2147483648 - i : i); // sign-magnitude to two's-complement order
  return Math.abs(ordered(ia) - ordered(ib));
}

/**
 * Compares a native and a reference matrix under the plan's agreement rule (docs/plan-format.md):
 * bit-identical, except columns that depend on log1p, where one f32 ulp is allowed.
 * Returns a description of the first disagreement, or undefined.
 */
export function compareMatrices(plan: Plan, native: Float32Array, reference: Float32Array): string | undefined {
  if (native.length !== reference.length) return `lengths differ: ${native.length} vs ${reference.length}`;
  const width = plan.outputs.length;
  const tolerant = plan.outputs.map((slot) => dependsOnLog1p(plan, slot));
  for (let i = 0; i < native.length; i++) {
    const column = width === 0 ? 0 : i % width;
    const allowed = tolerant[column] ? 1 : 0;
    const d = f32UlpDistance(native[i] as number, reference[i] as number);
    if (d > allowed) return `row ${Math.floor(i / width)}, column ${column}: native ${native[i]}, reference ${reference[i]}`;
  }
  return undefined;
}

function dependsOnLog1p(plan: Plan, slot: number): boolean {
  // Walk back from the slot through the ops that produced it.
  const producer: number[] = [];
  plan.inputs.forEach(() => producer.push(-1));
  plan.ops.forEach((op, k) => {
    const width = op.op === 'one_hot' ? op.categories.length + 1 : 1;
    for (let w = 0; w < width; w++) producer.push(k);
  });
  const seen = new Set<number>();
  const stack = [slot];
  while (stack.length) {
    const s = stack.pop() as number;
    const k = producer[s] ?? -1;
    if (k < 0 || seen.has(k)) continue;
    seen.add(k);
    const op = plan.ops[k]!;
    if (op.op === 'log1p') return true;
    stack.push(...op.args);
  }
  return false;
}
