/**
 * Quickstart step: the offline feature store on the real flights data. Sets up the flights project
 * (examples/flights-project) in the quickstart's project folder, applies its definitions, and
 * builds a point-in-time training set from the 3M flights of 2001: label `delayed` (departure delay
 * > 15 minutes), windowed delay statistics per origin and per destination airport (1h/24h/7d on 1h
 * tiles), and airport facts from airports.csv. Prints rows, timings and the quality summary.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { applyProject } from '../../src/features/project.js';
import { buildDataset, type DatasetResult } from '../../src/offline/dataset-builder.js';
import { packageRoot } from '../../src/package-root.js';
import type { QuickstartContext } from '../context.js';

/** Copies the flights project and its data into `dir` (keeping an existing fresco.yaml). */
export function setUpFlightsProject(dir: string, data: { flightsParquet: string; airportsCsv: string }): void {
  const template = join(packageRoot(), 'examples', 'flights-project');
  mkdirSync(join(dir, 'data'), { recursive: true });
  if (!existsSync(join(dir, 'fresco.yaml'))) copyFileSync(join(template, 'fresco.yaml'), join(dir, 'fresco.yaml'));
  cpSync(join(template, 'features'), join(dir, 'features'), { recursive: true });
  copyFileSync(data.flightsParquet, join(dir, 'data', 'flights-3m.parquet'));
  copyFileSync(data.airportsCsv, join(dir, 'data', 'airports.csv'));
}

/**
 * The label file: every flight with `delayed = delay > 15` (the delay itself is left out), or one
 * flight in `every` (picked by a hash of the row's content: the same rows on every run, spread
 * evenly over all months, so a time split stays honest).
 */
export async function writeFlightLabels(flightsParquet: string, out: string, limit?: number, every?: number): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
    await connection.run(
      `COPY (SELECT date, origin, destination, distance, delay > 15 AS delayed FROM read_parquet(${q(flightsParquet)})${every ? ` WHERE hash(date, origin, destination, distance, delay) % ${every} = 0` : ''}${limit ? ` LIMIT ${limit}` : ''}) TO ${q(out)} (FORMAT parquet)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function offlineStep(ctx: QuickstartContext): Promise<DatasetResult> {
  setUpFlightsProject(ctx.projectDir, ctx);
  const { applied } = applyProject(ctx.projectDir);
  const tables = applied.filter((a) => a.kind === 'feature_table');
  ctx.log(`applied ${applied.length} definitions: ${tables.map((a) => `${a.name} ${a.label}`).join(', ')}`);
  const labels = join(ctx.projectDir, 'data', 'flight-labels.parquet');
  await writeFlightLabels(ctx.flightsParquet, labels);
  const started = performance.now();
  const result = await buildDataset({
    project: ctx.projectDir,
    labels,
    timestamp: 'date',
    features: ['delay_model'],
    out: join(ctx.projectDir, 'data', 'training.parquet'),
  });
  const seconds = (performance.now() - started) / 1000;
  const m = result.manifest;
  ctx.log(`training set: ${m.output.rows.toLocaleString('en-US')} rows x ${m.output.columns.length} columns in ${seconds.toFixed(1)} s (${Math.round(m.output.rows / seconds).toLocaleString('en-US')} rows/s) -> ${result.out}`);
  ctx.log(`  timings (ms): ${Object.entries(m.timingsMs).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  ctx.log(`  quality: ${m.quality.summary}`);
  ctx.log(`  report: ${m.quality.html}`);
  ctx.log(`  manifest: ${result.manifestFile}`);
  return result;
}
