/**
 * Quickstart step: score the held-out flights (May 2001 onwards) in batch with whatever
 * `flights-delay@production` is in the project's registry (the GBDT the training step registered),
 * through the same package, frozen plan and ONNX runtime as serving, and print a summary: rows,
 * rows/s, mean score against the actual delayed share, output path. The held-out file holds the
 * flights' own fields only; the feature-store columns the model's plan reads
 * (`origin_delays.avg_24h`, ...) are joined onto every flight point-in-time as of its departure,
 * by the same code that built the training set.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { batchScore } from '../../src/batch/index.js';
import { openEngine } from '../../src/offline/engine.js';
import { quoteIdent, quoteString } from '../../src/offline/read-columns.js';
import { ModelRegistry } from '../../src/registry/index.js';
import type { QuickstartContext } from '../context.js';

/** The feature-store inputs (`table.feature`) of a registered model's plan (for the log), and its output's name. */
export function modelInputs(registryDir: string, ref: string): { version: number; features: string[]; output: string } {
  const registry = ModelRegistry.open(registryDir);
  try {
    const v = registry.resolve(ref);
    // The registry verified the package's plan when it was registered; only its input names matter here.
    const inputs = (v.manifest.plan as { inputs?: { name: string }[] } | undefined)?.inputs ?? [];
    const features = inputs.map((i) => i.name).filter((n) => n.includes('.') && !n.startsWith('request.'));
    return { version: v.version, features, output: v.manifest.signature.outputs[0]!.name };
  } finally {
    registry.close();
  }
}

export async function batchStep(ctx: QuickstartContext): Promise<void> {
  const dir = join(ctx.projectDir, 'batch');
  mkdirSync(dir, { recursive: true });
  const heldOut = join(dir, 'flights-2001-05-onwards.parquet');
  const engine = await openEngine();
  try {
    await engine.run(`COPY (SELECT * FROM read_parquet(${quoteString(ctx.flightsParquet)}) WHERE date >= TIMESTAMP '2001-05-01') TO ${quoteString(heldOut)} (FORMAT parquet)`);
  } finally {
    engine.close();
  }
  const registryDir = join(ctx.projectDir, '.fresco', 'registry');
  const ref = 'flights-delay@production';
  const model = modelInputs(registryDir, ref);
  // batchScore infers the features to join from the plan (its `table.feature` inputs, read from
  // dataset columns `table__feature`) and joins them as of each flight's `date`.
  ctx.log(
    model.features.length
      ? `${ref} (version ${model.version}) reads ${model.features.length} feature-store columns (${model.features.slice(0, 3).join(', ')}, ...): joined point-in-time as of each flight's date`
      : `${ref} (version ${model.version}) reads request fields only: no feature join`,
  );
  const output = join(dir, 'scores.parquet');
  let lastTenth = -1;
  const r = await batchScore({
    registry: registryDir,
    models: [ref],
    input: [heldOut],
    output,
    overwrite: true,
    // The feature tables are aggregated once per job; every part (262,144 rows) joins against them.
    join: { project: ctx.projectDir, timestamp: 'date' },
    // The job's data-quality run (the feature sources' expectations), once, before scoring.
    log: (line) => line.startsWith('quality') && ctx.log(`  ${line}`),
    onProgress: (p) => {
      const tenth = Math.floor((10 * p.rowsDone) / Math.max(1, p.rowsTotal));
      if (tenth > lastTenth && tenth % 5 === 0) {
        lastTenth = tenth;
        ctx.log(`  ${p.rowsDone}/${p.rowsTotal} rows`);
      }
    },
  });
  const stats = await openEngine();
  try {
    const score = quoteIdent(model.output);
    const [row] = await stats.rows(
      `SELECT count(*) AS n, avg(${score}) AS mean, avg(CASE WHEN ${score} > 0.5 THEN 1 ELSE 0 END) AS share, avg(CASE WHEN delay > 15 THEN 1 ELSE 0 END) AS actual FROM read_parquet(${quoteString(output)})`,
    );
    const m = r.models[0]!;
    ctx.log(
      `batch-scored ${r.rows} held-out flights (2001-05 onwards) with ${m.name}@${m.version} (alias ${m.alias}) in ${r.seconds.toFixed(1)} s: ` +
        `${Math.round(r.rowsPerSecond)} rows/s, mean score ${Number(row!.mean).toFixed(4)} (actually delayed: ${(100 * Number(row!.actual)).toFixed(1)}%), ${(100 * Number(row!.share)).toFixed(1)}% above 0.5, ${r.errors} bad row(s)`,
    );
    ctx.log(`  output: ${output} (${Number(row!.n)} rows: input columns, model_name, model_version, model_alias, ${model.output})`);
  } finally {
    stats.close();
  }
}
