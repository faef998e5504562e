import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyProject } from '../src/features/project.js';
import { buildDataset } from '../src/offline/dataset-builder.js';
import { openEngine } from '../src/offline/engine.js';
import { DuckDbDialect } from '../src/offline/sql-dialect.js';
import { copyFixture, query } from './offline-helpers.js';

describe('point-in-time training sets (Feast rule), hand-made edge cases', () => {
  it('handles exact ties, the TTL boundary, created-timestamp tie-breaks, no qualifying row and duplicate label rows', async () => {
    const dir = copyFixture('pit-project');
    applyProject(dir);
    const r = await buildDataset({ project: dir, labels: join(dir, 'data/labels.csv'), timestamp: 'ts', features: ['driver_model', 'driver_totals.trips_total'], out: join(dir, 'out/train.parquet') });
    const rows = await query(`SELECT * FROM '${r.out}'`);
    const cols = ['driver_id', 'ts', 'label', 'driver_hourly__conv_rate', 'driver_hourly__trips', 'driver_facts__city', 'driver_totals__trips_total'];
    expect(Object.keys(rows[0]!)).toEqual(cols);
    const got = rows.map((row) => cols.map((c) => (typeof row[c] === 'number' ? Math.round((row[c] as number) * 1000) / 1000 : row[c])));
    // Written by hand from data/driver_stats.csv (ttl 2h), data/driver_profile.csv and data/labels.csv.
    expect(got).toEqual([
      ['1', '2021-01-01 10:00:00', 'a', 0.2, 2, 'SF', '2'], // exact tie at 10:00; created 10:05 beats created 10:00
      ['1', '2021-01-01 11:59:00', 'b', 0.2, 2, 'SF', '2'], // latest event <= label
      ['1', '2021-01-01 12:00:00', 'c', 0.3, 3, 'SF', '3'], // exact tie at 12:00 is inclusive
      ['2', '2021-01-01 11:00:00', 'd', 0.5, 5, 'LA', '5'], // event exactly label - ttl qualifies
      ['2', '2021-01-01 11:00:01', 'e', null, null, 'LA', '5'], // one second past the ttl: null (the no-ttl table still has it)
      ['3', '2021-01-01 12:00:00', 'f', null, null, null, null], // only a future row: nothing qualifies
      ['4', '2021-01-01 12:00:00', 'g', null, null, null, null], // unknown entity
      ['1', '2021-01-01 11:59:00', 'b', 0.2, 2, 'SF', '2'], // duplicate label row: kept, once
      ['1', '2021-01-01 09:59:00', 'h', null, null, 'SF', null], // before the entity's first row
    ]);
    expect(r.manifest.output.rows).toBe(9);
    expect(Object.keys(r.manifest.versions).sort()).toEqual(['driver_facts', 'driver_hourly', 'driver_totals']);
    expect(r.manifest.labels?.files[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(readFileSync(r.manifestFile, 'utf8')).quality.status).toBe('passed');
  });

  it('computes windowed aggregations from whole tiles strictly before each label: no flight sees its own delay', async () => {
    const dir = copyFixture('pit-project');
    applyProject(dir);
    const r = await buildDataset({ project: dir, labels: join(dir, 'data/flight_labels.csv'), timestamp: 'date', features: ['origin_delays.*'], out: join(dir, 'f.parquet') });
    const rows = await query(`SELECT strftime(date, '%H:%M') AS t, origin_delays__n_1h AS n1, origin_delays__avg_1h AS a1, origin_delays__n_2h AS n2, round(origin_delays__avg_2h, 3) AS a2, origin_delays__max_2h AS mx, round(origin_delays__sd_2h, 3) AS sd FROM '${r.out}'`);
    // SFO flights: 10:15 delay 10, 10:45 delay 20, 11:30 delay 40 (1h tiles; windows 1h and 2h).
    expect(rows).toEqual([
      { t: '10:15', n1: null, a1: null, n2: null, a2: null, mx: null, sd: null }, // its own tile has not ended
      { t: '11:00', n1: '2', a1: 15, n2: '2', a2: 15, mx: 20, sd: 7.071 },
      { t: '11:30', n1: '2', a1: 15, n2: '2', a2: 15, mx: 20, sd: 7.071 }, // the 11:30 flight does not see its delay 40
      { t: '12:00', n1: '1', a1: 40, n2: '3', a2: 23.333, mx: 40, sd: 15.275 },
      { t: '12:30', n1: '1', a1: 40, n2: '3', a2: 23.333, mx: 40, sd: 15.275 },
      { t: '13:00', n1: '0', a1: null, n2: '1', a2: 40, mx: 40, sd: null }, // windows empty out as tiles leave them
      { t: '14:00', n1: '0', a1: null, n2: '0', a2: null, mx: null, sd: null },
    ]);
  });

  it('agrees with a naive correlated-subquery join on random data', async () => {
    const engine = await openEngine();
    const d = new DuckDbDialect();
    try {
      await engine.run(`CREATE TABLE f AS SELECT (i % 7) AS k, TIMESTAMP '2021-01-01' + INTERVAL (hash(i) % 5000) MINUTE AS __event_ts,
        TIMESTAMP '2021-01-01' + INTERVAL (hash(i * 3) % 50) MINUTE AS __created_ts, i AS v FROM range(3000) t(i)`);
      await engine.run(`CREATE TABLE l AS SELECT (hash(i + 1) % 9) AS k, TIMESTAMP '2021-01-01' + INTERVAL (hash(i * 5) % 5200) MINUTE AS ts FROM range(2000) t(i)`);
      for (const ttl of [0, 3600]) {
        const args = { labels: 'l', labelColumns: ['k', 'ts'], labelTimestamp: 'ts', tables: [{ alias: 't0', relation: d.latestPerEvent({ relation: 'f', keys: ['k'], eventTs: '__event_ts', createdTs: '__created_ts', columns: ['v'] }), keys: [{ label: 'k', table: 'k' }], timed: true, ttlSeconds: ttl, features: [{ column: 'v', as: 'x' }] }] };
        const fast = await engine.rows(d.pointInTimeJoin(args));
        const naive = await engine.rows(d.naivePointInTimeJoin({ ...args, tables: [{ ...args.tables[0]!, relation: 'f' }], createdTs: { t0: '__created_ts' } }));
        expect(fast.length).toBe(2000);
        expect(fast.map((r) => r.x)).toEqual(naive.map((r) => r.x));
        expect(fast.filter((r) => r.x !== null).length).toBeGreaterThan(ttl ? 100 : 1000);
      }
    } finally {
      engine.close();
    }
  });

  it('builds a prediction set for entity rows as of a time, and writes HDF5 with the same values', async () => {
    const dir = copyFixture('pit-project');
    applyProject(dir);
    writeFileSync(join(dir, 'drivers.csv'), 'driver_id\n2\n1\n5\n');
    const r = await buildDataset({ project: dir, entities: join(dir, 'drivers.csv'), asOf: '2021-01-01T11:00:00Z', features: ['driver_model'], out: join(dir, 'predict.h5') });
    expect(r.manifest.kind).toBe('prediction');
    expect(r.manifest.output.columns.map((c) => c.name)).toEqual(['driver_id', 'driver_hourly__conv_rate', 'driver_hourly__trips', 'driver_facts__city']);
    const { loadHdf5IntoDuckDb } = await import('../src/offline/hdf5-lake.js');
    const engine = await openEngine();
    try {
      await loadHdf5IntoDuckDb(engine, r.out, 'p');
      const rows = await engine.rows('SELECT driver_id, round(CAST(driver_hourly__conv_rate AS DOUBLE), 3) AS c, driver_hourly__trips AS t, driver_facts__city AS city FROM p');
      expect(rows).toEqual([
        { driver_id: 2n, c: 0.5, t: 5, city: 'LA' },
        { driver_id: 1n, c: 0.2, t: 2, city: 'SF' },
        { driver_id: 5n, c: null, t: null, city: null },
      ]);
    } finally {
      engine.close();
    }
  });

  it('rejects bad input with the file and column named, and leaves no partial output', async () => {
    const dir = copyFixture('pit-project');
    applyProject(dir);
    const out = join(dir, 'bad', 'x.parquet');
    const build = (extra: Record<string, unknown>) => buildDataset({ project: dir, labels: join(dir, 'data/labels.csv'), timestamp: 'ts', features: ['driver_hourly.trips'], out, ...extra });
    await expect(build({ timestamp: 'when' })).rejects.toMatchObject({ code: 'FRESCO_ERR_DATA_INVALID', message: expect.stringMatching(/labels\.csv: no column "when" \(label timestamp\)/) });
    await expect(build({ timestamp: 'label' })).rejects.toMatchObject({ code: 'FRESCO_ERR_DATA_INVALID', message: expect.stringMatching(/column "label" \(label timestamp\) has type VARCHAR/) });
    await expect(build({ labels: join(dir, 'data/missing.csv') })).rejects.toMatchObject({ code: 'FRESCO_ERR_NOT_FOUND', message: expect.stringContaining('missing.csv') });
    writeFileSync(join(dir, 'nokey.csv'), 'ts,label\n2021-01-01 10:00:00,a\n');
    await expect(build({ labels: join(dir, 'nokey.csv') })).rejects.toMatchObject({ code: 'FRESCO_ERR_DATA_INVALID', message: expect.stringMatching(/nokey\.csv: no column "driver_id" \(join key "driver_id" of table "driver_hourly"\)/) });
    await expect(build({ features: ['driver_hourly.nope'] })).rejects.toMatchObject({ code: 'FRESCO_ERR_NOT_FOUND' });
    await expect(build({ features: ['driver_hourly.trips', 'driver_hourly.trips'] })).rejects.toMatchObject({ code: 'FRESCO_ERR_INVALID_ARGUMENT' });
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(dir, 'bad')) ? readdirSync(join(dir, 'bad')) : []).toEqual([]);
  });

  it('refuses definitions changed since the last apply', async () => {
    const dir = copyFixture('pit-project');
    applyProject(dir);
    const file = join(dir, 'features/drivers.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('ttl: 2h', 'ttl: 3h'));
    await expect(buildDataset({ project: dir, labels: join(dir, 'data/labels.csv'), timestamp: 'ts', features: ['driver_hourly.trips'], out: join(dir, 'x.parquet') })).rejects.toMatchObject({ code: 'FRESCO_ERR_NOT_APPLIED' });
    const { applied } = applyProject(dir);
    expect(applied.find((a) => a.name === 'driver_hourly')).toMatchObject({ version: 2, change: 'changed' });
  });
});
