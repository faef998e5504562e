/**
 * Quickstart step: score the held-out flights (May 2001 onwards) in batch with whatever
 * `flights-delay@production` is in the project's registry (registered by the registry step, later
 * by training), through the same package, frozen plan and ONNX runtime as serving, and print a
 * summary: rows, rows/s, mean score, output path.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { batchScore } from '../../src/batch/index.js';
import { openEngine } from '../../src/offline/engine.js';
import { quoteString } from '../../src/offline/read-columns.js';
import type { QuickstartContext } from '../context.js';

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
  const output = join(dir, 'scores.parquet');
  let lastTenth = -1;
  const r = await batchScore({
    registry: join(ctx.projectDir, '.fresco', 'registry'),
    models: ['flights-delay@production'],
    input: [heldOut],
    output,
    overwrite: true,
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
    const [row] = await stats.rows(`SELECT count(*) AS n, avg(delay_probability) AS mean, avg(CASE WHEN delay_probability > 0.5 THEN 1 ELSE 0 END) AS share FROM read_parquet(${quoteString(output)})`);
    const m = r.models[0]!;
    ctx.log(
      `batch-scored ${r.rows} held-out flights (2001-05 onwards) with ${m.name}@${m.version} (alias ${m.alias}) in ${r.seconds.toFixed(1)} s: ` +
        `${Math.round(r.rowsPerSecond)} rows/s, mean score ${Number(row!.mean).toFixed(4)}, ${(100 * Number(row!.share)).toFixed(1)}% above 0.5, ${r.errors} bad row(s)`,
    );
    ctx.log(`  output: ${output} (${Number(row!.n)} rows: input keys, model_name, model_version, model_alias, delay_probability)`);
  } finally {
    stats.close();
  }
}
