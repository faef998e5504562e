/**
 * Quickstart step: the feature DSL on real flights. Compiles examples/flights.features against the
 * flights request fields (examples/flights.schema.json), fits its fitted functions on a sample,
 * prints the frozen plan (explain), writes it to the project, and runs it natively on the sample.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { table } from '../../src/cli/output.js';
import { compileSpecFile, explainPlan, fitSpec, planColumns, readFeatureSchema, readPlanColumns, serializeFrozenPlan } from '../../src/dsl/index.js';
import { packageRoot } from '../../src/package-root.js';
import { compilePlan } from '../../src/plan/index.js';
import type { QuickstartContext } from '../context.js';

/** Rows of flights to fit on and run: enough for stable statistics, quick on two cores. */
const SAMPLE_ROWS = 200_000;

export async function dslStep(ctx: QuickstartContext): Promise<void> {
  const root = packageRoot();
  const specFile = join(root, 'examples', 'flights.features');
  const schema = readFeatureSchema(join(root, 'examples', 'flights.schema.json'));

  const t0 = performance.now();
  const spec = compileSpecFile(specFile, schema);
  ctx.log(`compiled ${specFile} in ${(performance.now() - t0).toFixed(1)} ms: ${spec.outputs.length} outputs, ${spec.fitSites.length} fitted functions`);

  const data = await readPlanColumns(ctx.flightsParquet, spec.draft(), { limit: SAMPLE_ROWS });
  const t1 = performance.now();
  const frozen = fitSpec(spec, data);
  ctx.log(`fitted on ${data.rows.toLocaleString('en-US')} flights in ${(performance.now() - t1).toFixed(0)} ms`);
  ctx.log(explainPlan(frozen));

  const out = join(ctx.projectDir, 'flights.frozen-plan.json');
  writeFileSync(`${out}.tmp`, serializeFrozenPlan(frozen));
  renameSync(`${out}.tmp`, out);
  ctx.log(`frozen plan ${frozen.hash} written to ${out}`);

  const compiled = compilePlan(frozen.plan);
  const t2 = performance.now();
  const matrix = compiled.run(planColumns(frozen.plan, data), data.rows);
  const ms = performance.now() - t2;
  const names = frozen.plan.output_names ?? [];
  ctx.log(`ran natively: ${data.rows.toLocaleString('en-US')} rows x ${names.length} columns in ${ms.toFixed(1)} ms`);
  const shown = names.slice(0, 10);
  const head = Array.from({ length: 3 }, (_, r) => shown.map((_, j) => Number((matrix[r * names.length + j] as number).toPrecision(4))));
  ctx.log(table(shown, head));
}
