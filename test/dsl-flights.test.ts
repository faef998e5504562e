// The frozen plan of examples/flights.features, fitted on real flights (vega-datasets), gives the
// same matrix natively on the whole dataset, natively one row at a time (the online path), and in
// the TypeScript reference evaluator.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSpecFile, fitSpec, loadFrozenPlan, planColumns, readFeatureSchema, readPlanColumns, serializeFrozenPlan } from '../src/dsl/index.js';
import { packageRoot } from '../src/package-root.js';
import { compareMatrices, compilePlan, runReference } from '../src/plan/index.js';

const root = packageRoot();

describe('flights spec on real data', () => {
  it('fits, freezes, and agrees: native batch == native row-by-row == reference', async () => {
    const schema = readFeatureSchema(join(root, 'examples', 'flights.schema.json'));
    const spec = compileSpecFile(join(root, 'examples', 'flights.features'), schema);
    expect(spec.needsFit).toBe(true);
    const data = await readPlanColumns(join(root, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet'), spec.draft(), { limit: 20_000 });
    expect(data.rows).toBe(20_000);

    const frozen = loadFrozenPlan(serializeFrozenPlan(fitSpec(spec, data)));
    const plan = frozen.plan;
    const origin = frozen.fitted.find((f) => f.function === 'vocab_one_hot');
    expect(origin?.params.categories).toHaveLength(8);
    expect(plan.output_names).toContain(`origin__${(origin?.params.categories as string[])[0]}`);
    const scaler = frozen.fitted.find((f) => f.function === 'standardize');
    expect(scaler?.params.mean).toBeGreaterThan(5); // log1p of a few hundred miles
    expect(scaler?.params.std).toBeGreaterThan(0);

    const columns = planColumns(plan, data);
    const compiled = compilePlan(plan);
    const batch = compiled.run(columns, data.rows);
    const reference = runReference(plan, columns, data.rows);
    expect(compareMatrices(plan, batch, reference)).toBeUndefined();

    const width = plan.outputs.length;
    const strInputs = plan.inputs.map((input, i) => [input, i] as const).filter(([input]) => input.type === 'str');
    const out = new Float32Array(width);
    const numeric = new Float64Array(plan.inputs.length);
    let mismatches = 0;
    for (let r = 0; r < data.rows; r++) {
      columns.forEach((c, i) => {
        numeric[i] = c.kind === 'f64' ? (c.values[r] as number) : NaN;
      });
      const strings = strInputs.map(([, i]) => {
        const c = columns[i]!;
        return c.kind === 'dict' && (c.codes[r] as number) >= 0 ? (c.dictionary[c.codes[r] as number] as string) : null;
      });
      compiled.runRow(numeric, strings, out);
      for (let j = 0; j < width; j++) if (!Object.is(out[j], batch[r * width + j])) mismatches++;
    }
    expect(mismatches).toBe(0);
    // The matrix is dense where the spec says it cannot be null.
    const nonNull = plan.output_names!.map((name, j) => [name, j] as const).filter(([name]) => name !== 'log_distance');
    for (const [name, j] of nonNull) expect(Number.isNaN(batch[j]!), name).toBe(false);
  });
});
