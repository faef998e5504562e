// Materialization into the embedded store, checked against the offline store: for random
// entities and several window ends, the online value equals the offline point-in-time value as
// of the end (the dataset builder's prediction set is the oracle). Plus incremental runs,
// idempotency, recorded state, quality checks, and getOnlineFeatures.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { StateStore } from '../src/features/state-store.js';
import { applyProject, loadProject } from '../src/features/project.js';
import { buildDataset } from '../src/offline/dataset-builder.js';
import { EmbeddedOnlineStore, getOnlineFeatures, materialize } from '../src/online/index.js';
import { BASE, writeOnlineProject } from './online-project.js';

const HOUR = 3_600_000;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function readParquet(file: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    return (await c.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

function norm(v: unknown): unknown {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Math.fround(v) === v ? v : Number(v.toPrecision(12));
  return v ?? null;
}

describe('materialize (embedded store)', () => {
  const dir = writeOnlineProject({ drivers: 200, airports: 30 });
  dirs.push(dir);
  applyProject(dir);
  const project = loadProject(dir);

  it('the online value equals the offline point-in-time value as of the window end, for random entities', async () => {
    const entities = join(dir, 'entities.csv');
    // Random drivers (some unknown) and airports, one file per entity type.
    const ids = Array.from({ length: 60 }, (_, i) => 1 + ((i * 37) % 230));
    writeFileSync(entities, `driver_id\n${ids.join('\n')}\n`);
    const airports = join(dir, 'airports.csv');
    const codes = Array.from({ length: 20 }, (_, i) => `A${(i * 7) % 33}`);
    writeFileSync(airports, `origin\n${codes.join('\n')}\n`);
    for (const endHours of [13, 60]) {
      const end = new Date(BASE + endHours * HOUR + 17 * 60_000);
      const storeDir = join(dir, `.fresco/online-${endHours}`);
      const store = new EmbeddedOnlineStore(storeDir);
      try {
        const result = await materialize({ project, end, store, chunkRows: 37 });
        expect(result.tables.map((t) => t.table).sort()).toEqual(['driver_hourly', 'driver_profile', 'origin_delays']);
        for (const [features, file, keyCol] of [
          [['driver_hourly.*', 'driver_profile.*'], entities, 'driver_id'],
          [['origin_delays.*'], airports, 'origin'],
        ] as const) {
          const out = join(dir, `oracle-${endHours}-${keyCol}.parquet`);
          await buildDataset({ project, entities: file, asOf: end, features: [...features], out });
          const oracle = await readParquet(out);
          const keys = oracle.map((r) => (keyCol === 'driver_id' ? { driver_id: Number(r[keyCol]) } : { airport: String(r[keyCol]) }));
          const online = await getOnlineFeatures({ project, features: [...features], entities: keys, asOf: end, store });
          expect(online.rows.length).toBe(oracle.length);
          online.rows.forEach((row, i) => {
            for (const c of online.columns) {
              expect(norm(row.values[c.name]), `${JSON.stringify(keys[i])} ${c.name} as of ${end.toISOString()}`).toEqual(norm(oracle[i]![c.name]));
            }
          });
          // Statuses agree with the oracle: a known entity with all-null features was expired or missing.
          expect(online.rows.some((r) => Object.values(r.statuses).includes('present'))).toBe(true);
        }
      } finally {
        await store.close();
      }
    }
  });

  it('records state, is idempotent, and runs incrementally from the last end', async () => {
    const store = new EmbeddedOnlineStore(join(dir, '.fresco/online-inc'));
    try {
      const first = await materialize({ project, tables: ['driver_hourly'], end: new Date(BASE + 20 * HOUR), store });
      const again = await materialize({ project, tables: ['driver_hourly'], end: new Date(BASE + 20 * HOUR), store });
      expect(again.tables[0]!.rows).toBe(first.tables[0]!.rows);
      expect(again.tables[0]!.skippedOlder).toBe(0);
      const before = await store.count('driver_hourly');
      const inc = await materialize({ project, tables: ['driver_hourly'], incremental: true, end: new Date(BASE + 60 * HOUR), store });
      expect(inc.tables[0]!.start).toBe(new Date(BASE + 20 * HOUR).toISOString());
      expect(inc.tables[0]!.rows).toBeLessThan(first.tables[0]!.rows + 200);
      expect(await store.count('driver_hourly')).toBeGreaterThanOrEqual(before);
      const state = new StateStore(project.config.stateFile);
      const runs = state.materializations({ table: 'driver_hourly' });
      state.close();
      expect(runs[0]).toMatchObject({ status: 'done', start: new Date(BASE + 20 * HOUR).toISOString(), end: new Date(BASE + 60 * HOUR).toISOString() });
      expect(runs.every((r) => r.status === 'done' && r.report)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('a failing quality check writes nothing', async () => {
    const bad = writeOnlineProject({ drivers: 20, seed: 3 });
    dirs.push(bad);
    const file = join(bad, 'data', 'driver_stats.csv');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n$/, `\n2024-01-01 05:00:00,2024-01-01 05:00:00,7,1.5,1,1,true\n`));
    applyProject(bad);
    const store = new EmbeddedOnlineStore(join(bad, '.fresco/online'));
    try {
      await expect(materialize({ project: bad, store })).rejects.toMatchObject({ code: 'FRESCO_ERR_QUALITY_FAILED', message: expect.stringContaining('conv_rate') });
      expect(await store.tables()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
