// `dataset build`: label timestamps with a time zone come back as given, bad input fails before
// the expensive work starts, and a build reports its steps as it goes.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyProject } from '../src/features/project.js';
import { buildDataset } from '../src/offline/dataset-builder.js';
import type { DatasetProgress } from '../src/offline/dataset-progress.js';
import { copyFixture, sqlRows } from './offline-helpers.js';

describe('label timestamps with a time zone', () => {
  it('CSV `+02:00` text comes back as written, and the join compares the instant it names', async () => {
    const dir = copyFixture('pit-project');
    applyProject(dir);
    const labels = join(dir, 'zoned.csv');
    writeFileSync(labels, 'driver_id,ts,label\n1,2021-01-01T12:00:00+02:00,a\n1,2021-01-01 14:00:00+02:00,b\n2,2021-01-01T11:00:00Z,c\n');
    const r = await buildDataset({ project: dir, labels, timestamp: 'ts', features: ['driver_hourly.trips'], out: join(dir, 'zoned.parquet') });
    const rows = await sqlRows(`SELECT ts, typeof(ts) AS type, label, driver_hourly__trips AS trips FROM read_parquet('${r.out}')`);
    // 12:00+02:00 is 10:00 UTC (trips 2 at 10:00); 14:00+02:00 is 12:00 UTC (trips 3 at 12:00).
    expect(rows).toEqual([
      { ts: '2021-01-01T12:00:00+02:00', type: 'VARCHAR', label: 'a', trips: 2 },
      { ts: '2021-01-01 14:00:00+02:00', type: 'VARCHAR', label: 'b', trips: 3 },
      { ts: '2021-01-01T11:00:00Z', type: 'VARCHAR', label: 'c', trips: 5 },
    ]);
    expect(r.manifest.labels?.timestamp).toBe('ts');
    expect(r.report.status).toBe('passed');
  });

  it('a zoned (TIMESTAMPTZ) Parquet column comes back with its type and instants, joined at those instants', async () => {
    const dir = copyFixture('pit-project');
    applyProject(dir);
    const labels = join(dir, 'zoned.parquet');
    // Written from a Berlin session: stored as UTC instants, isAdjustedToUTC.
    await sqlRows(`SET TimeZone = 'Europe/Berlin'; COPY (SELECT * FROM (VALUES (1, TIMESTAMPTZ '2021-01-01 12:00:00+02'), (1, TIMESTAMPTZ '2021-01-01 14:00:00+02')) t(driver_id, ts)) TO '${labels}' (FORMAT parquet)`);
    const r = await buildDataset({ project: dir, labels, timestamp: 'ts', features: ['driver_hourly.trips'], out: join(dir, 'out.parquet') });
    const rows = await sqlRows(`SELECT epoch_ms(ts) AS ms, typeof(ts) AS type, driver_hourly__trips AS trips FROM read_parquet('${r.out}')`);
    expect(rows).toEqual([
      { ms: BigInt(Date.UTC(2021, 0, 1, 10)), type: 'TIMESTAMP WITH TIME ZONE', trips: 2 },
      { ms: BigInt(Date.UTC(2021, 0, 1, 12)), type: 'TIMESTAMP WITH TIME ZONE', trips: 3 },
    ]);
    const [schema] = await sqlRows<{ logical_type: string }>(`SELECT logical_type FROM parquet_schema('${r.out}') WHERE name = 'ts'`);
    expect(schema!.logical_type).toMatch(/isAdjustedToUTC=1/);
    // The label profile's freshness reads the zoned newest time (it drives the sources' freshness checks).
    expect(r.report.tables.find((t) => t.name === 'labels')?.freshness?.newest).toMatch(/^2021-01-01 12:00:00/);
  });
});

describe('early validation', () => {
  it('checks every table before any is aggregated: a missing key column of the second table is reported, not the first table\'s aggregation', async () => {
    const dir = copyFixture('pit-project');
    writeFileSync(join(dir, 'data', 'big.csv'), 'date,origin,amount\n2021-01-01 10:15:00,SFO,3000000000\n');
    writeFileSync(
      join(dir, 'features', 'big.yaml'),
      `sources:
  - { name: big, path: data/big.csv, timestamp: date }
feature_tables:
  - name: big_sums
    entities: [airport]
    source: big
    key_map: { airport: origin }
    aggregation: { interval: 1h }
    features:
      - { name: total, type: int32, function: sum, column: amount, window: 1h }
`,
    );
    applyProject(dir);
    const labels = join(dir, 'airports.csv');
    writeFileSync(labels, 'origin,ts\nSFO,2021-01-01 12:00:00\n');
    const out = join(dir, 'out', 'train.parquet');
    // big_sums alone fails in its aggregation (3e9 does not fit an int32): that is the expensive step.
    await expect(buildDataset({ project: dir, labels, timestamp: 'ts', features: ['big_sums.total'], out })).rejects.toThrow(/out of range|overflow/i);
    await expect(buildDataset({ project: dir, labels, timestamp: 'ts', features: ['big_sums.total', 'driver_hourly.trips'], out })).rejects.toMatchObject({
      code: 'FRESCO_ERR_DATA_INVALID',
      message: expect.stringMatching(/airports\.csv: no column "driver_id" \(join key "driver_id" of table "driver_hourly"\)/),
    });
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('refuses an output it cannot write before joining: no quality report, no output', async () => {
    const dir = copyFixture('pit-project');
    applyProject(dir);
    writeFileSync(join(dir, 'a-file'), 'not a folder');
    const build = (out: string) => buildDataset({ project: dir, labels: join(dir, 'data/labels.csv'), timestamp: 'ts', features: ['driver_model'], out });
    await expect(build(join(dir, 'a-file', 'train.parquet'))).rejects.toMatchObject({
      code: 'FRESCO_ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/a-file\/train\.parquet: cannot write the dataset there: .*a-file is a file, not a folder/),
    });
    mkdirSync(join(dir, 'folder.parquet'));
    await expect(build(join(dir, 'folder.parquet'))).rejects.toMatchObject({ code: 'FRESCO_ERR_INVALID_ARGUMENT', message: expect.stringMatching(/folder\.parquet: cannot write the dataset there: it is a folder/) });
    // The quality report is written after the join: none means the build stopped before it.
    const reports = join(dir, '.fresco', 'quality');
    expect(existsSync(reports) ? readdirSync(reports) : []).toEqual([]);
  });
});

describe('progress', () => {
  it('reports each step in order, the join with its share of the steps', async () => {
    const dir = copyFixture('pit-project');
    applyProject(dir);
    const seen: DatasetProgress[] = [];
    await buildDataset({ project: dir, labels: join(dir, 'data/labels.csv'), timestamp: 'ts', features: ['driver_model', 'driver_totals.trips_total'], out: join(dir, 'p.parquet'), onProgress: (p) => seen.push(p) });
    const steps = [...new Map(seen.map((p) => [p.index, p.step])).entries()];
    expect(steps.map(([i]) => i)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(steps.map(([, s]) => s.replace(/ \/.*/, ''))).toEqual([
      'reading labels',
      'checking feature tables',
      'building feature rows of driver_hourly (batch)',
      'building feature rows of driver_facts (static)',
      'building feature rows of driver_totals (batch)',
      'joining 3 feature table(s) onto the labels',
      'profiling and checking quality',
      'writing',
    ]);
    expect(seen.every((p) => p.count === 8 && (p.fraction === undefined || (p.fraction >= 0 && p.fraction <= 1)))).toBe(true);
  });
});
