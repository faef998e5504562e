// Fitting and freezing: parameters learned from the training set, frozen into plain ops, a
// content hash that detects tampering, explain showing what was learned, and the builder API
// producing the same plans as the text DSL.
import { describe, expect, it } from 'vitest';
import {
  col,
  compileFeatures,
  compileSpec,
  datasetColumnName,
  explainPlan,
  fitSpec,
  loadFrozenPlan,
  planColumns,
  planHash,
  serializeFrozenPlan,
  strCol,
  tsCol,
  when,
} from '../src/dsl/index.js';
import { FrescoError } from '../src/errors/index.js';
import type { FeatureSchema } from '../src/features/schema.js';
import type { ColumnTable } from '../src/offline/read-columns.js';
import { dictColumn, runReference } from '../src/plan/index.js';

const schema: FeatureSchema = {
  tables: { airport_delay: { delay_avg_24h: { type: 'float', nullable: true } } },
  request: { distance: { type: 'int', nullable: false }, origin: { type: 'string', nullable: false }, date: { type: 'timestamp', nullable: false } },
};

const training: ColumnTable = {
  names: ['airport_delay__delay_avg_24h', 'distance', 'origin', 'date'],
  types: ['num', 'num', 'str', 'num'],
  columns: [
    { kind: 'f64', values: Float64Array.from([10, NaN, 20, 30, NaN, 40]) },
    { kind: 'f64', values: Float64Array.from([100, 200, 300, 400, 500, 600]) },
    dictColumn(['SFO', 'SFO', 'LAX', 'ORD', 'LAX', 'SFO']),
    { kind: 'f64', values: Float64Array.from([0, 1, 2, 3, 4, 5].map((d) => Date.UTC(2001, 0, 1 + d))) },
  ],
  rows: 6,
};

const SPEC = `delay = fill_mean(@airport_delay.delay_avg_24h)
scaled = standardize(@request.distance)
unit = min_max(@request.distance)
origin = vocab_one_hot(@request.origin, top=2)
`;

describe('fit', () => {
  it('learns the parameters and freezes them into plain ops with a content hash', () => {
    const spec = compileSpec(SPEC, schema, { file: 'm.features' });
    const frozen = fitSpec(spec, training, { engine: 'reference' });
    expect(frozen.plan.ops).toEqual([
      { op: 'fill_null', args: [0], value: 25 },
      { op: 'standardize', args: [1], mean: 350, std: Math.sqrt(175_000 / 6) },
      { op: 'min_max', args: [1], min: 100, max: 600 },
      { op: 'one_hot', args: [2], categories: ['SFO', 'LAX'] },
    ]);
    expect(frozen.plan.output_names).toEqual(['delay', 'scaled', 'unit', 'origin__SFO', 'origin__LAX', 'origin__other']);
    expect(frozen.hash).toBe(planHash(frozen.plan));
    expect(frozen.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(frozen.fitted.map((f) => [f.output, f.function, f.line, f.column, f.op, f.rows])).toEqual([
      ['delay', 'fill_mean', 1, 9, 0, 6],
      ['scaled', 'standardize', 2, 10, 1, 6],
      ['unit', 'min_max', 3, 8, 2, 6],
      ['origin', 'vocab_one_hot', 4, 10, 3, 6],
    ]);
    // The same data fits the same plan, the same hash; the frozen plan runs.
    expect(fitSpec(compileSpec(SPEC, schema), training, { engine: 'reference' }).hash).toBe(frozen.hash);
    const m = runReference(frozen.plan, planColumns(frozen.plan, training), 6);
    expect(Array.from(m.subarray(0, 6))).toEqual([10, Math.fround(-250 / Math.sqrt(29166.666666666668)), 0, 1, 0, 0]);
  });

  it('fits nested fitted functions in order: the outer one sees the inner one applied', () => {
    const spec = compileSpec('x = standardize(fill_median(@airport_delay.delay_avg_24h))', schema);
    const frozen = fitSpec(spec, training, { engine: 'reference' });
    // median of 10, 20, 30, 40 = 25 fills two rows: 10 25 20 30 25 40 -> mean 25
    expect(frozen.plan.ops[0]).toEqual({ op: 'fill_null', args: [0], value: 25 });
    expect(frozen.plan.ops[1]).toMatchObject({ op: 'standardize', mean: 25 });
  });

  it('the hash changes with any parameter, and a tampered frozen plan is refused', () => {
    const frozen = fitSpec(compileSpec(SPEC, schema), training, { engine: 'reference' });
    const text = serializeFrozenPlan(frozen);
    expect(loadFrozenPlan(text)).toEqual(frozen);
    const tampered = JSON.parse(text);
    tampered.plan.ops[0].value = 26;
    expect(() => loadFrozenPlan(tampered)).toThrow(/content hash mismatch/);
    // Key order does not matter to the hash (canonical JSON).
    const reordered = { ...frozen.plan, ops: frozen.plan.ops.map((op) => Object.fromEntries(Object.entries(op).reverse())) };
    expect(planHash(reordered as typeof frozen.plan)).toBe(frozen.hash);
  });

  it('explain shows the learned parameters and where they came from; a draft shows placeholders', () => {
    const spec = compileSpec(SPEC, schema, { file: 'm.features' });
    const draft = explainPlan({ plan: spec.draft(), pending: spec.fitSites });
    expect(draft).toMatch(/draft plan \(not runnable until fitted\)/);
    expect(draft).toMatch(/standardize\(s1, mean=\?, std=\?\)/);
    expect(draft).toMatch(/one_hot\(s2, categories=\["<1>", "<2>"\]\)/);
    const frozen = fitSpec(spec, training, { engine: 'reference' });
    const text = explainPlan(frozen);
    expect(text).toContain(frozen.hash);
    expect(text).toMatch(/fill_null\(s0, value=25\)\s+fitted: fill_mean on 6 rows \(line 1, output delay\)/);
    expect(text).toMatch(/min_max\(s1, min=100, max=600\)/);
    expect(text).toMatch(/one_hot\(s2, categories=\["SFO", "LAX"\]\)/);
  });

  it('fails with FRESCO_ERR_DSL_FIT, pointing at the call, when a fitted argument has no values', () => {
    const empty: ColumnTable = { ...training, columns: [{ kind: 'f64', values: new Float64Array(6).fill(NaN) }, ...training.columns.slice(1)] };
    try {
      fitSpec(compileSpec('a = 1\nb = standardize(@airport_delay.delay_avg_24h)', schema, { file: 'm.features' }), empty, { engine: 'reference' });
      expect.unreachable();
    } catch (e) {
      expect((e as FrescoError).code).toBe('FRESCO_ERR_DSL_FIT');
      expect((e as FrescoError).message).toMatch(/standardize\(\.\.\.\) in output "b" cannot be fitted: its argument has no non-null values in the 6 training rows/);
      expect((e as FrescoError).location).toMatchObject({ file: 'm.features', line: 2, column: 5 });
    }
  });

  it('names a missing dataset column, and maps @t.f to t__f and @request.x to x', () => {
    expect(datasetColumnName('airport_delay.delay_avg_24h')).toBe('airport_delay__delay_avg_24h');
    expect(datasetColumnName('request.distance')).toBe('distance');
    const partial: ColumnTable = { ...training, names: ['delay', ...training.names.slice(1)] };
    expect(() => fitSpec(compileSpec(SPEC, schema), partial, { engine: 'reference' })).toThrow(/no column "airport_delay__delay_avg_24h" \(for @airport_delay.delay_avg_24h\); columns: delay, distance/);
  });

  it('a spec without fitted functions freezes as it is', () => {
    const spec = compileSpec('d = @request.distance / 100', schema);
    expect(spec.needsFit).toBe(false);
    expect(spec.freeze().plan).toEqual(spec.plan());
  });
});

describe('the builder API', () => {
  it('produces the same plan as the text DSL', () => {
    const built = compileFeatures(
      {
        log_delay: col('airport_delay.delay_avg_24h').fillNull(0).log1p(),
        scaled: col('@request.distance').standardize(),
        evening: tsCol('request.date').hour().ge(17).and(tsCol('request.date').dayOfWeek().lt(5)),
        band: when(col('request.distance').gt(1000), col('request.distance').bucketize([1500, 2500]), null),
        origin: strCol('request.origin').lower().oneHot(['sfo', 'lax']),
        top: strCol('request.origin').vocabOneHot({ top: 2 }),
        h: strCol('request.origin').hashBucket(8).add(-1.5),
      },
      schema,
    );
    const text = compileSpec(
      `log_delay = log1p(fill_null(@airport_delay.delay_avg_24h, 0))
scaled = standardize(@request.distance)
evening = hour(@request.date) >= 17 and day_of_week(@request.date) < 5
band = if(@request.distance > 1000, bucketize(@request.distance, [1500, 2500]), null)
origin = one_hot(lower(@request.origin), ["sfo", "lax"])
top = vocab_one_hot(@request.origin, top=2)
h = hash_bucket(@request.origin, 8) + -1.5`,
      schema,
    );
    expect(built.draft()).toEqual(text.draft());
    expect(fitSpec(built, training, { engine: 'reference' }).hash).toBe(fitSpec(text, training, { engine: 'reference' }).hash);
  });

  it('reports schema mistakes with a caret into the rendered spec', () => {
    try {
      compileFeatures({ x: col('request.origin').log1p() }, schema);
      expect.unreachable();
    } catch (e) {
      expect((e as FrescoError).code).toBe('FRESCO_ERR_DSL_TYPE');
      expect((e as FrescoError).message).toMatch(/--> <builder>:1:11\n[\s\S]*x = log1p\(@request.origin\)\n.*\^{15}/);
    }
    expect(() => col('nodot')).toThrow(/not a reference/);
    expect(() => col('request.distance').add(NaN)).toThrow(/no literal for NaN/);
  });
});
