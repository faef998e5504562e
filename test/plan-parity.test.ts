// Property tests: the native executor and the TypeScript reference evaluator agree on random plans
// over random columns (nulls, NaN, infinities, empty input, one row, chunk boundaries, 1M rows),
// under the agreement rule of docs/plan-format.md. Seeds make every failure reproducible.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rng, TEN_OP_PLAN, tenOpColumns } from '../bench/inputs.js';
import { bitmapFrom, type Column, compareMatrices, compilePlan, dictColumn, OP_SPECS, type OpName, type Plan, type PlanOp, runReference, type SlotType, utf8Column } from '../src/plan/index.js';

type Rand = () => number;
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, 1e300, -1e300, 5e-324, 2 ** 53, -(2 ** 53), 8.64e15, 8.64e15 + 1];
const WORDS = ['SFO', 'sfo', 'LAX', 'ATL', 'Ünïcödé', '', 'a b', '東京', 'ZZ', 'Sfo'];

function randomNumber(r: Rand): number {
  const u = r();
  if (u < 0.15) return pick(r, SPECIAL);
  if (u < 0.4) return Math.floor(r() * 41) - 20; // small integers: ties, zeros, bucket edges
  if (u < 0.6) return 978307200000 + Math.floor(r() * 3e10) * (r() < 0.1 ? -100 : 1); // timestamps, some before 1970
  return (r() - 0.5) * 10 ** Math.floor(r() * 8 - 3);
}

function numericColumn(r: Rand, rows: number): Column {
  const values = Array.from({ length: rows }, () => randomNumber(r));
  const validity = r() < 0.5 ? bitmapFrom(Array.from({ length: rows }, () => r() > 0.2)) : undefined;
  const withValidity = <C extends Column>(c: C): C => (validity ? { ...c, validity } : c);
  switch (pick(r, ['f64', 'f32', 'i32', 'i64', 'bool'] as const)) {
    case 'f64':
      return withValidity({ kind: 'f64', values: Float64Array.from(values) });
    case 'f32':
      return withValidity({ kind: 'f32', values: Float32Array.from(values) });
    case 'i32':
      return withValidity({ kind: 'i32', values: Int32Array.from(values, (v) => (Number.isFinite(v) ? v | 0 : 0)) });
    case 'i64':
      return withValidity({ kind: 'i64', values: BigInt64Array.from(values, (v) => (Number.isFinite(v) && Math.abs(v) < 9e18 ? BigInt(Math.trunc(v)) * (r() < 0.1 ? 1000n : 1n) : 0n)) });
    case 'bool':
      return withValidity({ kind: 'bool', values: Uint8Array.from(values, (v) => (r() < 0.1 ? 7 : v > 0 ? 1 : 0)) });
  }
}

function stringColumn(r: Rand, rows: number): Column {
  const values = Array.from({ length: rows }, () => (r() < 0.15 ? null : pick(r, WORDS)));
  return r() < 0.5 ? dictColumn(values) : utf8Column(values);
}

function randomParams(r: Rand, op: OpName): Record<string, unknown> {
  const num = () => (r() < 0.1 ? pick(r, [0, -1, 1e300]) : Math.round((r() - 0.5) * 200) / 4);
  switch (op) {
    case 'const':
      return { value: r() < 0.2 ? null : num() };
    case 'fill_null':
      return { value: num() };
    case 'clip': {
      const lo = r() < 0.3 ? null : num();
      const hi = r() < 0.3 ? null : (lo ?? 0) + Math.abs(num());
      return { lo, hi };
    }
    case 'standardize':
      return { mean: num(), std: r() < 0.2 ? 0 : Math.abs(num()) };
    case 'min_max': {
      const min = num();
      return { min, max: r() < 0.2 ? min : min + Math.abs(num()) + 1 };
    }
    case 'bucketize': {
      const set = [...new Set(Array.from({ length: Math.floor(r() * 6) }, num))].sort((a, b) => a - b);
      return { boundaries: set };
    }
    case 'one_hot':
      return { categories: [...new Set(Array.from({ length: Math.floor(r() * 5) }, () => pick(r, WORDS)))] };
    case 'hash_bucket':
      return { n: pick(r, [1, 2, 7, 64, 1000, 4294967295]) };
    case 'str_eq':
      return { value: pick(r, WORDS) };
    default:
      return {};
  }
}

/** A random well-formed plan: every op reads slots of the types it needs. */
function randomPlan(r: Rand): Plan {
  const inputs = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => ({ name: `in${i}`, type: (r() < 0.3 ? 'str' : 'num') as SlotType }));
  const types: SlotType[] = inputs.map((i) => i.type);
  const ops: PlanOp[] = [];
  const names = Object.keys(OP_SPECS) as OpName[];
  const opCount = Math.floor(r() * 14);
  while (ops.length < opCount) {
    const name = pick(r, names);
    const spec = OP_SPECS[name];
    const args: number[] = [];
    for (const t of spec.args) {
      const candidates = types.flatMap((type, slot) => (type === t ? [slot] : []));
      if (candidates.length === 0) break;
      args.push(pick(r, candidates));
    }
    if (args.length !== spec.args.length) continue;
    const op = { op: name, args, ...randomParams(r, name) } as PlanOp;
    ops.push(op);
    const width = op.op === 'one_hot' ? op.categories.length + 1 : 1;
    for (let w = 0; w < width; w++) types.push(spec.result);
  }
  const numSlots = types.flatMap((t, slot) => (t === 'num' ? [slot] : []));
  const outputs = numSlots.filter(() => r() < 0.7);
  return { format: 'fresco.plan', version: 1, inputs, ops, outputs };
}

function columnsFor(r: Rand, plan: Plan, rows: number): Column[] {
  return plan.inputs.map((input) => (input.type === 'num' ? numericColumn(r, rows) : stringColumn(r, rows)));
}

function expectAgreement(planObject: Plan, columns: Column[], rows: number): void {
  // Both sides evaluate the plan as its JSON document: JSON.stringify writes a -0 parameter as 0,
  // which the reference would otherwise keep as -0 (the rule compares the sign of zero).
  const plan = JSON.parse(JSON.stringify(planObject)) as Plan;
  const native = compilePlan(plan).run(columns, rows);
  const reference = runReference(plan, columns, rows);
  const diff = compareMatrices(plan, native, reference);
  expect(diff, `${diff}\nplan: ${JSON.stringify(plan)}`).toBeUndefined();
}

describe('native == reference', () => {
  it('on random plans over random columns (0, 1, chunk-boundary and random row counts)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(0, 1, 2, 1023, 1024, 1025, 3000, 17), (seed, rows) => {
        const r = rng(seed);
        const plan = randomPlan(r);
        expectAgreement(plan, columnsFor(r, plan, rows), rows);
      }),
      { numRuns: Number(process.env.FRESCO_PARITY_RUNS ?? 400) },
    );
  });

  it('row by row: runRow equals the batch result for every row', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const r = rng(seed);
        const plan = randomPlan(r);
        const rows = 40;
        // runRow takes f64 numbers and plain strings: build columns of those kinds.
        const columns = plan.inputs.map((input): Column =>
          input.type === 'num'
            ? { kind: 'f64', values: Float64Array.from({ length: rows }, () => randomNumber(r)) }
            : dictColumn(Array.from({ length: rows }, () => (r() < 0.15 ? null : pick(r, WORDS)))),
        );
        const compiled = compilePlan(plan);
        const batch = compiled.run(columns, rows);
        const width = plan.outputs.length;
        const out = new Float32Array(width);
        for (let row = 0; row < rows; row++) {
          const numeric = Float64Array.from(columns, (c) => (c.kind === 'f64' ? (c.values[row] as number) : NaN));
          const strings = columns.flatMap((c) => (c.kind === 'dict' ? [c.codes[row]! < 0 ? null : (c.dictionary[c.codes[row]!] as string)] : []));
          compiled.runRow(numeric, strings, out);
          const expected = batch.subarray(row * width, (row + 1) * width);
          expect(Array.from(out), `row ${row} of ${JSON.stringify(plan)}`).toEqual(Array.from(expected));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('log1p: native equals Math.log1p in f64, bit for bit (seen through an exact subtraction)', () => {
    // Inputs where glibc's ln_1p or musl's log1p is an ulp away from V8's fdlibm log1p, then
    // values around every branch of the algorithm. log1p(x) - Math.log1p(x) is exactly 0 when
    // the f64 results agree, and a tiny non-zero f32 when they do not.
    const hard = ['3fda827999fcef6b', 'bfef420d46190f6e', 'bfeff5713ec369db', 'bfefff9d6cca821e', 'bfefffe6b17c59f0', 'bfefffffffd004a7',
      'bfd2bec4cb04ca51', '3e1fffff9029db71', '3fda827b64a42a48', 'be1fffffcffb9165', 'bfd2bec4c27581a8', 'be1fffffafc7ae1f', '3fda8279774191c7',
      '3fd6ccb7f9bd8378', 'bfd2bec4e917dd82', '3fda82780801f8a2'];
    const view = new DataView(new ArrayBuffer(8));
    const fromHex = (h: string) => (view.setBigUint64(0, BigInt(`0x${h}`)), view.getFloat64(0));
    const r = rng(7);
    const xs = hard.map(fromHex).concat([0, -0, -1, 1, Infinity, -Infinity, NaN, -2, 5e-324, Number.MAX_VALUE, 2 ** -29, -(2 ** -29), 2 ** 53]);
    for (let i = 0; i < 20_000; i++) {
      const u = r();
      xs.push(
        [-1 + 2 ** -Math.floor(u * 52) * r(), -0.29289 - r() * 1e-5, Math.SQRT2 - 1 + (r() - 0.5) * 1e-4, (r() - 0.5) * 2 ** -28,
          (r() < 0.5 ? -1 : 1) * r() * 2 ** Math.floor(u * 80 - 40), r() * 2 ** Math.floor(u * 1000)][i % 6] as number,
      );
    }
    const rows = xs.length;
    const plan: Plan = {
      format: 'fresco.plan',
      version: 1,
      inputs: [{ name: 'x', type: 'num' }, { name: 'v8_log1p', type: 'num' }],
      ops: [{ op: 'log1p', args: [0] }, { op: 'sub', args: [2, 1] }],
      outputs: [3],
    };
    const columns: Column[] = [{ kind: 'f64', values: Float64Array.from(xs) }, { kind: 'f64', values: Float64Array.from(xs, Math.log1p) }];
    const native = compilePlan(plan).run(columns, rows);
    const off = xs.findIndex((x, i) => !(native[i] === 0 || (Number.isNaN(native[i]) && !(Math.log1p(x) > -Infinity && Math.log1p(x) < Infinity))));
    expect(off, off < 0 ? '' : `log1p(${xs[off]}) differs from Math.log1p by ${native[off]}`).toBe(-1);
    expectAgreement(plan, columns, rows);
  });

  it('on 1M rows of the benchmark plan, with nulls and a seeded mix of values', () => {
    const rows = 1_000_000;
    const columns = tenOpColumns(rows, 99);
    expectAgreement(TEN_OP_PLAN, columns, rows);
  });

  it('on 1M rows of a random plan with special values', () => {
    const r = rng(2024);
    let plan = randomPlan(r);
    while (plan.ops.length < 8) plan = randomPlan(r);
    const rows = 1_000_000;
    expectAgreement(plan, columnsFor(r, plan, rows), rows);
  });
});
