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
 * bit-identical for every op (log1p included; NaN equals NaN, whatever its payload, and -0 differs
 * from +0). Returns a description of the first disagreement, or undefined.
 */
export function compareMatrices(plan: Plan, native: Float32Array, reference: Float32Array): string | undefined {
  if (native.length !== reference.length) return `lengths differ: ${native.length} vs ${reference.length}`;
  const width = plan.outputs.length;
  const nativeBits = new Uint32Array(native.buffer, native.byteOffset, native.length);
  const referenceBits = new Uint32Array(reference.buffer, reference.byteOffset, reference.length);
  for (let i = 0; i < native.length; i++) {
    if (nativeBits[i] === referenceBits[i]) continue;
    if (Number.isNaN(native[i]) && Number.isNaN(reference[i])) continue;
    const row = width === 0 ? 0 : Math.floor(i / width);
    const column = width === 0 ? 0 : i % width;
    const bits = (b: number | undefined) => `0x${(b ?? 0).toString(16).padStart(8, '0')}`;
    return `row ${row}, column ${column}: native ${Object.is(native[i], -0) ? '-0' : native[i]} (${bits(nativeBits[i])}), reference ${Object.is(reference[i], -0) ? '-0' : reference[i]} (${bits(referenceBits[i])})`;
  }
  return undefined;
}
