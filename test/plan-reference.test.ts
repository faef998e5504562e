// The reference evaluator's semantics, pinned by hand-written expectations (docs/plan-format.md).
import { describe, expect, it } from 'vitest';
import { FrescoError } from '../src/errors/index.js';
import { bitmapFrom, dictColumn, utf8Column } from '../src/plan/columns.js';
import { fnv1a32, runReference } from '../src/plan/reference.js';
import type { Column, Plan, PlanOp } from '../src/plan/types.js';

const f64 = (...values: number[]): Column => ({ kind: 'f64', values: Float64Array.from(values) });

/** Runs a single op over numeric inputs and returns its first output column as plain numbers (null for NaN). */
function op1(op: PlanOp, ...inputs: Column[]): (number | null)[] {
  const slots = inputs.length;
  const plan: Plan = {
    format: 'fresco.plan',
    version: 1,
    inputs: inputs.map((c, i) => ({ name: `x${i}`, type: c.kind === 'dict' || c.kind === 'utf8' ? 'str' : 'num' })),
    ops: [op],
    outputs: [slots],
  };
  const rows = inputs.length ? (inputs[0]!.kind === 'dict' ? (inputs[0] as { codes: Int32Array }).codes.length : 'values' in inputs[0]! ? inputs[0]!.values.length : (inputs[0] as { offsets: Int32Array }).offsets.length - 1) : 3;
  return Array.from(runReference(plan, inputs, rows), (v) => (Number.isNaN(v) ? null : v));
}

const N = NaN;

describe('reference evaluator: arithmetic and null', () => {
  it('adds, subtracts and multiplies with null propagation', () => {
    expect(op1({ op: 'add', args: [0, 1] }, f64(1, N, 3), f64(10, 1, N))).toEqual([11, null, null]);
    expect(op1({ op: 'sub', args: [0, 1] }, f64(1, Infinity), f64(3, Infinity))).toEqual([-2, null]); // inf - inf is NaN: null
    expect(op1({ op: 'mul', args: [0, 1] }, f64(2, -0.5), f64(4, 4))).toEqual([8, -2]);
  });
  it('divides, with division by zero null (SQL rule)', () => {
    expect(op1({ op: 'div', args: [0, 1] }, f64(1, 1, 0, -3, N), f64(4, 0, 0, 2, 1))).toEqual([0.25, null, null, -1.5, null]);
  });
  it('treats a validity bit of 0 as null and keeps infinities as values', () => {
    const col: Column = { kind: 'i32', values: Int32Array.from([5, 6, 7]), validity: bitmapFrom([true, false, true]) };
    expect(op1({ op: 'neg', args: [0] }, col)).toEqual([-5, null, -7]);
    expect(op1({ op: 'abs', args: [0] }, f64(-Infinity))).toEqual([Infinity]);
  });
  it('reads i64 and bool columns', () => {
    expect(op1({ op: 'add', args: [0, 0] }, { kind: 'i64', values: BigInt64Array.from([3n, -4n]) })).toEqual([6, -8]);
    expect(op1({ op: 'not', args: [0] }, { kind: 'bool', values: Uint8Array.from([0, 1, 7]) })).toEqual([1, 0, 0]);
  });
  it('fills and coalesces nulls', () => {
    expect(op1({ op: 'fill_null', args: [0], value: -1 }, f64(N, 2))).toEqual([-1, 2]);
    expect(op1({ op: 'coalesce', args: [0, 1] }, f64(N, 2, N), f64(9, 9, N))).toEqual([9, 2, null]);
    expect(op1({ op: 'is_null', args: [0] }, f64(N, 0))).toEqual([1, 0]);
    expect(op1({ op: 'const', args: [], value: null })).toEqual([null, null, null]);
  });
});

describe('reference evaluator: logic', () => {
  it('compares, null when either side is null', () => {
    expect(op1({ op: 'lt', args: [0, 1] }, f64(1, 2, N), f64(2, 2, 1))).toEqual([1, 0, null]);
    expect(op1({ op: 'ge', args: [0, 1] }, f64(1, 2), f64(2, 2))).toEqual([0, 1]);
    expect(op1({ op: 'eq', args: [0, 1] }, f64(Infinity, 0), f64(Infinity, -0))).toEqual([1, 1]);
  });
  it('uses Kleene logic for and/or', () => {
    const a = f64(1, 1, 1, 0, 0, 0, N, N, N);
    const b = f64(1, 0, N, 1, 0, N, 1, 0, N);
    expect(op1({ op: 'and', args: [0, 1] }, a, b)).toEqual([1, 0, null, 0, 0, 0, null, 0, null]);
    expect(op1({ op: 'or', args: [0, 1] }, a, b)).toEqual([1, 1, 1, 1, 0, null, 1, null, null]);
  });
  it('picks b where the condition is null or false', () => {
    expect(op1({ op: 'if', args: [0, 1, 2] }, f64(1, 0, N, 5), f64(10, 10, 10, 10), f64(20, 20, 20, N))).toEqual([10, 20, 20, 10]);
  });
});

describe('reference evaluator: transforms', () => {
  it('log1p: -1 is -inf, below -1 is null', () => {
    expect(op1({ op: 'log1p', args: [0] }, f64(0, -1, -2, Math.E - 1))).toEqual([0, -Infinity, null, Math.fround(1)]);
  });
  it('clips, with null bounds meaning no bound', () => {
    expect(op1({ op: 'clip', args: [0], lo: 0, hi: null }, f64(-5, 5, N))).toEqual([0, 5, null]);
    expect(op1({ op: 'clip', args: [0], lo: -1, hi: 1 }, f64(-5, 0.5, 5))).toEqual([-1, 0.5, 1]);
  });
  it('standardizes and min-max scales, treating a zero spread as 1', () => {
    expect(op1({ op: 'standardize', args: [0], mean: 10, std: 2 }, f64(12, 8))).toEqual([1, -1]);
    expect(op1({ op: 'standardize', args: [0], mean: 10, std: 0 }, f64(12))).toEqual([2]);
    expect(op1({ op: 'min_max', args: [0], min: 0, max: 4 }, f64(1, 8))).toEqual([0.25, 2]);
    expect(op1({ op: 'min_max', args: [0], min: 3, max: 3 }, f64(3, 4))).toEqual([0, 1]);
  });
  it('bucketizes: the count of boundaries <= x', () => {
    expect(op1({ op: 'bucketize', args: [0], boundaries: [0, 10, 100] }, f64(-1, 0, 9.9, 10, 1000, N))).toEqual([0, 1, 1, 2, 3, null]);
  });
  it('hour and day of week in UTC, Monday = 0, before 1970 too', () => {
    const t = Date.UTC(2001, 0, 1, 13, 30); // a Monday
    expect(op1({ op: 'hour', args: [0] }, f64(t, 0, -1, N, Infinity))).toEqual([13, 0, 23, null, null]);
    expect(op1({ op: 'day_of_week', args: [0] }, f64(t, 0, -1, t + 6 * 86_400_000))).toEqual([0, 3, 2, 6]);
  });
  it('days between two timestamps, fractional', () => {
    expect(op1({ op: 'days_between', args: [0, 1] }, f64(0, 0), f64(86_400_000 * 2, 43_200_000))).toEqual([2, 0.5]);
  });
});

describe('reference evaluator: strings', () => {
  const plan = (ops: PlanOp[], outputs: number[]): Plan => ({ format: 'fresco.plan', version: 1, inputs: [{ name: 's', type: 'str' }], ops, outputs });
  for (const [name, make] of [
    ['dict', dictColumn],
    ['utf8', utf8Column],
  ] as const) {
    it(`one-hot with an "other" slot and all zeros for null (${name})`, () => {
      const m = runReference(plan([{ op: 'one_hot', args: [0], categories: ['SFO', 'LAX'] }], [1, 2, 3]), [make(['LAX', null, 'JFK', 'SFO'])], 4);
      expect(Array.from(m)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0]);
    });
    it(`hash buckets with FNV-1a, lower folds ASCII only, str_eq (${name})`, () => {
      const ops: PlanOp[] = [
        { op: 'hash_bucket', args: [0], n: 1000 },
        { op: 'lower', args: [0] },
        { op: 'str_eq', args: [2], value: 'sfo' },
      ];
      const m = runReference(plan(ops, [1, 3]), [make(['SFO', null, 'ÀB'])], 3);
      expect(Array.from(m)).toEqual([fnv1a32('SFO') % 1000, 1, NaN, NaN, fnv1a32('ÀB') % 1000, 0]);
    });
  }
  it('hashes the known FNV-1a test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});

describe('reference evaluator: rejects bad plans and inputs', () => {
  const base: Plan = { format: 'fresco.plan', version: 1, inputs: [{ name: 'x', type: 'num' }], ops: [], outputs: [0] };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(FrescoError);
      return { code: (error as FrescoError).code, message: (error as FrescoError).message };
    }
    throw new Error('expected an error');
  };
  it.each([
    [{ ...base, version: 2 }, /version/],
    [{ ...base, ops: [{ op: 'sqrt', args: [0] }] }, /unknown op "sqrt"/],
    [{ ...base, ops: [{ op: 'add', args: [0] }] }, /op 0 \(add\): takes 2 arg/],
    [{ ...base, ops: [{ op: 'neg', args: [4] }] }, /refers to slot 4, but only slots 0..0/],
    [{ ...base, ops: [{ op: 'one_hot', args: [0], categories: [] }] }, /must be str/],
    [{ ...base, ops: [{ op: 'bucketize', args: [0], boundaries: [2, 1] }] }, /strictly ascending/],
    [{ ...base, ops: [{ op: 'hash_bucket', args: [0], n: 0 }] }, /must be str/],
    [{ ...base, outputs: [3] }, /output 0 refers to slot 3/],
  ])('plan %#', (plan, message) => {
    const e = code(() => runReference(plan, [f64(1)], 1));
    expect(e.code).toBe('FRESCO_ERR_PLAN_INVALID');
    expect(e.message).toMatch(message);
  });
  it('names the input when columns do not fit', () => {
    expect(code(() => runReference(base, [f64(1, 2)], 1))).toMatchObject({ code: 'FRESCO_ERR_PLAN_INPUT', message: expect.stringMatching(/input 0 \("x"\): has 2 rows/) });
    expect(code(() => runReference(base, [dictColumn(['a'])], 1)).message).toMatch(/num input cannot take a dict column/);
    expect(code(() => runReference(base, [], 1)).message).toMatch(/takes 1 input column/);
  });
});
