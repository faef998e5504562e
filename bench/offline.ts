/**
 * The offline store on the real flights data (vega-datasets, 3M rows): the quickstart's training set
 * (examples/flights-project: 2 windowed delay tables over 1h/24h/7d on 1h tiles + 2 static airport
 * tables = 4 feature tables, 23 features, 28 columns), built end to end: aggregations, as-of joins,
 * quality profiles of inputs and output, Parquet write, manifest with input hashes.
 *
 * Baselines, measured in the same run:
 *  - the same point-in-time join done naively (a correlated LATERAL lookup per label row, ORDER BY
 *    event time DESC LIMIT 1) over the same feature rows, on a 20k-label sample (it does not finish
 *    on 3M rows in reasonable time), compared per label row;
 *  - a raw DuckDB scan + Parquet write of the label file (the floor: reading and writing the rows).
 * Peak memory: whole-process RSS sampled every 20 ms during the build, and VmHWM at the end.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setUpFlightsProject, writeFlightLabels } from '../examples/steps/offline.js';
import { applyProject, loadProject } from '../src/features/project.js';
import { buildDataset } from '../src/offline/dataset-builder.js';
import { openEngine } from '../src/offline/engine.js';
import { SQL_TYPES } from '../src/offline/sources.js';
import { DuckDbDialect, type PitTable } from '../src/offline/sql-dialect.js';
import { packageRoot } from '../src/package-root.js';
import type { BenchRow } from './row.js';

const SAMPLE = 20_000;
const vega = (name: string) => join(packageRoot(), 'node_modules', 'vega-datasets', 'data', name);

function vmHwmBytes(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export async function runOfflineBenchmarks(log: (line: string) => void = console.log): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-bench-offline-'));
  try {
    setUpFlightsProject(dir, { flightsParquet: vega('flights-3m.parquet'), airportsCsv: vega('airports.csv') });
    applyProject(dir);
    const labels = join(dir, 'data', 'labels.parquet');
    await writeFlightLabels(vega('flights-3m.parquet'), labels);

    // Baseline 1: raw scan + write of the labels.
    const raw = await openEngine();
    let t = performance.now();
    await raw.run(`COPY (SELECT * FROM read_parquet('${labels}')) TO '${join(dir, 'raw.parquet')}' (FORMAT parquet, COMPRESSION zstd)`);
    const rawMs = performance.now() - t;
    raw.close();

    // Fresco: the full build, with RSS sampled.
    log('building the 3M-row flights training set ...');
    let peak = process.memoryUsage().rss;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    t = performance.now();
    const result = await buildDataset({ project: dir, labels, timestamp: 'date', features: ['delay_model'], out: join(dir, 'data', 'training.parquet') });
    const buildMs = performance.now() - t;
    clearInterval(timer);
    const hwm = vmHwmBytes();
    const rows = result.manifest.output.rows;
    const tables = Object.keys(result.manifest.versions).length;
    log(`  ${rows} rows, ${result.manifest.output.columns.length} columns, ${tables} feature tables in ${(buildMs / 1000).toFixed(1)} s; timings ${JSON.stringify(result.manifest.timingsMs)}`);

    // Baseline 2: naive correlated point-in-time lookups over the same feature rows, on a sample.
    const project = loadProject(dir);
    const d = new DuckDbDialect();
    const engine = await openEngine();
    const pit: PitTable[] = [];
    for (const [i, table] of [...project.definitions.tables.values()].entries()) {
      const q = (s: string) => d.ident(s);
      const keys = table.joinKeys.map((k) => `${q(table.keyMap[k]!)} AS ${q(k)}`);
      const source = `read_parquet('${join(dir, 'data', 'flights-3m.parquet')}')`;
      if (table.kind === 'windowed') {
        const columns = [...new Set(table.features.filter((f) => f.column !== '*').map((f) => q(f.column)))];
        await engine.run(`CREATE TABLE r${i} AS SELECT * FROM ${d.windowedFeatureRows({ relation: `(SELECT ${keys.join(', ')}, date, ${columns.join(', ')} FROM ${source})`, keys: table.joinKeys, eventTs: 'date', intervalSeconds: table.intervalSeconds!, features: table.features.map((f) => ({ name: f.name, function: f.function!, column: f.column, windowSeconds: f.windowSeconds!, sqlType: SQL_TYPES[f.type] })) })}`);
      } else {
        await engine.run(`CREATE TABLE r${i} AS SELECT ${keys.join(', ')}, ${table.features.map((f) => q(f.column)).join(', ')} FROM read_csv('${join(dir, 'data', 'airports.csv')}')`);
      }
      pit.push({ alias: `t${i}`, relation: `r${i}`, keys: table.joinKeys.map((k) => ({ label: table.joinKeyMap[k]!, table: k })), timed: table.kind !== 'static', ttlSeconds: table.ttlSeconds, features: table.features.map((f) => ({ column: f.name, as: `${table.name}__${f.name}` })) });
    }
    await engine.run(`CREATE TABLE sample AS SELECT * FROM read_parquet('${labels}') USING SAMPLE ${SAMPLE} ROWS (reservoir, 42)`);
    const args = { labels: 'sample', labelColumns: ['date', 'origin', 'destination', 'distance', 'delayed'], labelTimestamp: 'date', tables: pit };
    log(`naive correlated point-in-time join on a ${SAMPLE}-row sample ...`);
    t = performance.now();
    await engine.run(`CREATE TABLE naive AS ${d.naivePointInTimeJoin({ ...args, createdTs: {} })}`);
    const naiveMs = performance.now() - t;
    t = performance.now();
    await engine.run(`CREATE TABLE fast AS ${d.pointInTimeJoin(args)}`);
    const asofSampleMs = performance.now() - t;
    const [diff] = await engine.rows('SELECT count(*) AS n FROM (SELECT * FROM naive EXCEPT ALL SELECT * FROM fast)');
    engine.close();
    if (Number(diff?.n) !== 0) throw new Error(`naive and as-of joins disagree on ${String(diff?.n)} sample rows`);
    log(`  naive ${(naiveMs / 1000).toFixed(2)} s, as-of ${(asofSampleMs / 1000).toFixed(2)} s on the sample; results identical`);

    const perRow = (ms: number, n: number) => (ms * 1e6) / n;
    return [
      {
        name: `flights training set, ${rows} rows, ${tables} feature tables (end to end)`,
        baseline: `naive correlated PIT join, ${SAMPLE}-row sample, per row`,
        nativeNs: perRow(buildMs, rows),
        baselineNs: perRow(naiveMs, SAMPLE),
        speedup: perRow(naiveMs, SAMPLE) / perRow(buildMs, rows),
        extra: { wallSeconds: buildMs / 1000, rowsPerSecond: rows / (buildMs / 1000), peakRssMB: peak / 2 ** 20, vmHwmMB: hwm / 2 ** 20, columns: result.manifest.output.columns.length },
      },
      {
        name: `flights training set vs raw scan + Parquet write of the labels`,
        baseline: 'DuckDB COPY of the 3M label rows',
        nativeNs: perRow(buildMs, rows),
        baselineNs: perRow(rawMs, rows),
        speedup: rawMs / buildMs,
        extra: { rawSeconds: rawMs / 1000, buildSeconds: buildMs / 1000 },
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
