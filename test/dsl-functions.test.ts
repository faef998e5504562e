// Each DSL operator and function, with nulls, on both engines: what a spec author relies on.
import { describe, expect, it } from 'vitest';
import { compileSpec, fitSpec } from '../src/dsl/index.js';
import type { FeatureSchema } from '../src/features/schema.js';
import type { ColumnTable } from '../src/offline/read-columns.js';
import { dictColumn, type Engine, planRunner } from '../src/plan/index.js';

const schema: FeatureSchema = {
  tables: { delays: { avg: { type: 'float', nullable: true } } },
  request: {
    x: { type: 'float', nullable: true },
    y: { type: 'float', nullable: true },
    n: { type: 'int', nullable: true },
    b: { type: 'bool', nullable: true },
    c: { type: 'bool', nullable: true },
    s: { type: 'string', nullable: true },
    t: { type: 'timestamp', nullable: true },
    u: { type: 'timestamp', nullable: true },
  },
};

const MON = Date.UTC(2001, 0, 1, 0, 0); // a Monday
const N = null;
// Nine rows; every column has a null somewhere.
const data = {
  x: [1, -2.5, N, 0, 3, 10, -1, 7, 2],
  y: [2, 0, 1, N, -1, 4, 4, 0.5, N],
  n: [1, 2, N, 4, 4, 4, 9, 1, 2],
  b: [1, 0, N, 1, 0, 1, N, 0, 1],
  c: [1, 1, 1, N, N, 0, 0, 0, N],
  s: ['SFO', 'lax', N, 'ORD', 'SFO', 'SFO', 'LAX', 'ord', 'Jfk'],
  t: [MON, MON + 17 * 3600e3 + 59 * 60e3, N, MON + 5 * 86400e3 + 1, MON + 6 * 86400e3 + 23 * 3600e3, MON - 1, MON, MON, MON],
  u: [MON + 1.5 * 86400e3, MON, MON, N, MON, MON, MON - 86400e3, MON, MON],
  'delays__avg': [5, N, 7, 1, 2, 3, 4, 5, 6],
};
const ROWS = 9;

function table(): ColumnTable {
  const names = Object.keys(data);
  const columns = names.map((name) => {
    const values = data[name as keyof typeof data];
    return name === 's' ? dictColumn(values as (string | null)[]) : { kind: 'f64' as const, values: Float64Array.from(values as (number | null)[], (v) => (v === null ? NaN : v)) };
  });
  return { names, types: names.map((n) => (n === 's' ? 'str' : 'num')), columns, rows: ROWS };
}

/** Compiles `name = expr` lines, fits when needed, runs, and returns each output column (null for NaN). */
function run(spec: string, engine: Engine): Record<string, (number | null)[]> {
  const compiled = compileSpec(spec, schema, { file: 'test.features' });
  const t = table();
  const plan = compiled.needsFit ? fitSpec(compiled, t, { engine }).plan : compiled.plan();
  const columns = plan.inputs.map((input) => {
    const name = input.name.startsWith('request.') ? input.name.slice(8) : input.name.replace('.', '__');
    return t.columns[t.names.indexOf(name)]!;
  });
  const matrix = planRunner(plan, engine)(columns, ROWS);
  const names = plan.output_names!;
  const out: Record<string, (number | null)[]> = {};
  names.forEach((name, j) => {
    out[name] = Array.from({ length: ROWS }, (_, i) => {
      const v = matrix[i * names.length + j]!;
      return Number.isNaN(v) ? null : v;
    });
  });
  return out;
}

const f32 = (xs: (number | null)[]) => xs.map((v) => (v === null ? null : Math.fround(v)));

describe.each(['reference', 'native'] as Engine[])('DSL semantics (%s engine)', (engine) => {
  const col = (expr: string) => run(`v = ${expr}`, engine).v;

  it('references read request fields and features (features as <table>__<feature>)', () => {
    expect(col('@request.x')).toEqual(f32(data.x));
    expect(col('@delays.avg')).toEqual(f32(data.delays__avg));
    expect(col('@request.b')).toEqual(data.b);
  });

  it('arithmetic is null when either side is null; division by zero is null', () => {
    expect(col('@request.x + @request.y')).toEqual(f32([3, -2.5, N, N, 2, 14, 3, 7.5, N]));
    expect(col('@request.x - @request.y')).toEqual(f32([-1, -2.5, N, N, 4, 6, -5, 6.5, N]));
    expect(col('@request.x * @request.y')).toEqual(f32([2, -0, N, N, -3, 40, -4, 3.5, N]));
    expect(col('@request.x / @request.y')).toEqual(f32([0.5, N, N, N, -3, 2.5, -0.25, 14, N]));
    expect(col('-@request.x')).toEqual(f32([-1, 2.5, N, -0, -3, -10, 1, -7, -2]));
    expect(col('2 * @request.n + 1')).toEqual([3, 5, N, 9, 9, 9, 19, 3, 5]);
    expect(col('@request.x + null')).toEqual(Array(ROWS).fill(N));
  });

  it('comparisons give 1/0, null when either side is null', () => {
    expect(col('@request.x > @request.y')).toEqual([0, 0, N, N, 1, 1, 0, 1, N]);
    expect(col('@request.x <= 1')).toEqual([1, 1, N, 1, 0, 0, 1, 0, 0]);
    expect(col('@request.n == 4')).toEqual([0, 0, N, 1, 1, 1, 0, 0, 0]);
    expect(col('@request.n != 4')).toEqual([1, 1, N, 0, 0, 0, 1, 1, 1]);
    expect(col('@request.t < @request.u')).toEqual([1, 0, N, N, 0, 1, 0, 0, 0]);
  });

  it('string equality with a literal is exact and case-sensitive; null stays null', () => {
    expect(col('@request.s == "SFO"')).toEqual([1, 0, N, 0, 1, 1, 0, 0, 0]);
    expect(col('"SFO" != @request.s')).toEqual([0, 1, N, 1, 0, 0, 1, 1, 1]);
    expect(col('lower(@request.s) == "lax"')).toEqual([0, 1, N, 0, 0, 0, 1, 0, 0]);
  });

  it('and/or follow Kleene logic; not keeps null', () => {
    // b: 1 0 N 1 0 1 N 0 1 ; c: 1 1 1 N N 0 0 0 N
    expect(col('@request.b and @request.c')).toEqual([1, 0, N, N, 0, 0, 0, 0, N]);
    expect(col('@request.b or @request.c')).toEqual([1, 1, 1, 1, N, 1, N, 0, 1]);
    expect(col('not @request.b')).toEqual([0, 1, N, 0, 1, 0, N, 1, 0]);
    expect(col('true and null')).toEqual(Array(ROWS).fill(N));
    expect(col('false and null')).toEqual(Array(ROWS).fill(0));
  });

  it('if picks else when the condition is null; coalesce takes the first non-null', () => {
    expect(col('if(@request.b, @request.x, -1)')).toEqual(f32([1, -1, -1, 0, -1, 10, -1, -1, 2]));
    expect(col('if(@request.x > 0, 1, null)')).toEqual([1, N, N, N, 1, 1, N, 1, 1]);
    expect(col('coalesce(@request.y, @delays.avg, 99)')).toEqual(f32([2, 0, 1, 1, -1, 4, 4, 0.5, 6]));
    expect(col('coalesce(@request.y, @request.x)')).toEqual(f32([2, 0, 1, 0, -1, 4, 4, 0.5, 2]));
  });

  it('fill_null with a literal or a column; is_null on numbers and strings', () => {
    expect(col('fill_null(@request.x, 0)')).toEqual(f32([1, -2.5, 0, 0, 3, 10, -1, 7, 2]));
    expect(col('fill_null(@request.y, @request.x)')).toEqual(f32([2, 0, 1, 0, -1, 4, 4, 0.5, 2]));
    expect(col('fill_null(@request.b, false)')).toEqual([1, 0, 0, 1, 0, 1, 0, 0, 1]);
    expect(col('is_null(@request.x)')).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(col('is_null(@request.s)')).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('log1p, abs, clip', () => {
    expect(col('log1p(@request.x)')).toEqual(f32([Math.log1p(1), N, N, 0, Math.log1p(3), Math.log1p(10), -Infinity, Math.log1p(7), Math.log1p(2)]));
    expect(col('abs(@request.x)')).toEqual(f32([1, 2.5, N, 0, 3, 10, 1, 7, 2]));
    expect(col('clip(@request.x, 0, 5)')).toEqual(f32([1, 0, N, 0, 3, 5, 0, 5, 2]));
    expect(col('clip(@request.x, null, 2)')).toEqual(f32([1, -2.5, N, 0, 2, 2, -1, 2, 2]));
    expect(col('clip(@request.x, -1, null)')).toEqual(f32([1, -1, N, 0, 3, 10, -1, 7, 2]));
  });

  it('bucketize counts the boundaries <= x', () => {
    expect(col('bucketize(@request.x, [0, 2, 5])')).toEqual([1, 0, N, 1, 2, 3, 0, 3, 2]);
  });

  it('one_hot makes <name>__<category> columns plus <name>__other; a null is all zeros', () => {
    const out = run('o = one_hot(@request.s, ["SFO", "ORD"])', engine);
    expect(Object.keys(out)).toEqual(['o__SFO', 'o__ORD', 'o__other']);
    expect(out.o__SFO).toEqual([1, 0, 0, 0, 1, 1, 0, 0, 0]);
    expect(out.o__ORD).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(out.o__other).toEqual([0, 1, 0, 0, 0, 0, 1, 1, 1]);
  });

  it('hash_bucket is fnv1a32 mod n; null stays null', () => {
    const fnv = (s: string) => {
      let h = 0x811c9dc5;
      for (const byte of new TextEncoder().encode(s)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
      return h;
    };
    expect(col('hash_bucket(@request.s, 10)')).toEqual(data.s.map((s) => (s === null ? N : fnv(s) % 10)));
  });

  it('hour, day_of_week (Monday = 0, UTC) and days_between', () => {
    expect(col('hour(@request.t)')).toEqual([0, 17, N, 0, 23, 23, 0, 0, 0]);
    expect(col('day_of_week(@request.t)')).toEqual([0, 0, N, 5, 6, 6, 0, 0, 0]);
    expect(col('days_between(@request.t, @request.u)')).toEqual(f32([1.5, -(17 * 60 + 59) / 1440, N, N, -(6 + 23 / 24), 1 / 86400e3, -1, 0, 0]));
  });

  it('fitted functions learn from the training rows, ignoring nulls', () => {
    const xs = [1, -2.5, 0, 3, 10, -1, 7, 2];
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    const out = run('s = standardize(@request.x)\nm = min_max(@request.x)\nfm = fill_mean(@request.x)\nfd = fill_median(@request.x)', engine);
    expect(out.s).toEqual(f32(data.x.map((x) => (x === null ? N : (x - mean) / std))));
    expect(out.m).toEqual(f32(data.x.map((x) => (x === null ? N : (x + 2.5) / 12.5))));
    expect(out.fm).toEqual(f32(data.x.map((x) => (x === null ? mean : x))));
    expect(out.fd).toEqual(f32(data.x.map((x) => (x === null ? 1.5 : x)))); // median of 8 values: (1 + 2) / 2
  });

  it('vocab_one_hot keeps the top-k values by frequency (ties by value) and sends the rest to other', () => {
    const out = run('o = vocab_one_hot(lower(@request.s), top=2)', engine);
    // lower: sfo x3, lax x2, ord x2, jfk x1: top 2 = sfo, then lax (tie with ord broken by value)
    expect(Object.keys(out)).toEqual(['o__sfo', 'o__lax', 'o__other']);
    expect(out.o__sfo).toEqual([1, 0, 0, 0, 1, 1, 0, 0, 0]);
    expect(out.o__lax).toEqual([0, 1, 0, 0, 0, 0, 1, 0, 0]);
    expect(out.o__other).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 1]);
  });
});

describe('spec shape', () => {
  it('writes output_names always and shares identical sub-expressions', () => {
    const spec = compileSpec('a = hour(@request.t) >= 17\nb = hour(@request.t) < 5\nc = 1', schema);
    const plan = spec.plan();
    expect(plan.output_names).toEqual(['a', 'b', 'c']);
    expect(plan.inputs).toEqual([{ name: 'request.t', type: 'num' }]);
    expect(plan.ops.filter((op) => op.op === 'hour')).toHaveLength(1);
  });

  it('types each output, nullable or not', () => {
    const spec = compileSpec('a = fill_null(@request.x, 0)\nb = @request.n + 1\nc = @request.x / 2\nd = hour(@request.t)\ne = fill_mean(@request.n)\nf = one_hot(@request.s, ["a"])', schema);
    expect(spec.outputs.map((o) => [o.name, o.type, o.nullable])).toEqual([
      ['a', 'float', false],
      ['b', 'int', true],
      ['c', 'float', true],
      ['d', 'int', true],
      ['e', 'float', false],
      ['f', 'float', false],
    ]);
    expect(spec.outputs[5]?.columns).toEqual(['f__a', 'f__other']);
  });

  it('accepts comments, blank lines and expressions spanning lines inside brackets', () => {
    const spec = compileSpec('# header\n\nx = clip(\n  @request.x,   # the value\n  0, 10\n)\n', schema);
    expect(spec.plan().ops).toEqual([{ op: 'clip', args: [0], lo: 0, hi: 10 }]);
  });
});
