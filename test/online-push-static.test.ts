// Pushing to a static source (no timestamp: one row per entity) replaces the entity's row in the
// lake, so dataset builds and materialization keep working and see the latest values.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProject } from '../src/features/project.js';
import { buildDataset } from '../src/offline/dataset-builder.js';
import { EmbeddedOnlineStore, materialize, push } from '../src/online/index.js';
import { sqlRows } from './offline-helpers.js';
import { writeOnlineProject } from './online-project.js';

const dir = writeOnlineProject({ drivers: 20, airports: 2 });
const profileCsv = join(dir, 'data', 'driver_profile.csv');
const usersParquet = join(dir, 'data', 'users.parquet');

beforeAll(async () => {
  await sqlRows(`COPY (SELECT i::BIGINT AS user_id, 'plan-' || i AS plan, (i * 1.5)::DOUBLE AS score FROM range(1, 6) t(i)) TO '${usersParquet}' (FORMAT parquet)`);
  mkdirSync(join(dir, 'data', 'teams'));
  await sqlRows(`COPY (SELECT 1::BIGINT AS user_id, 'a' AS team) TO '${join(dir, 'data', 'teams', 'part-0.parquet')}' (FORMAT parquet)`);
  writeFileSync(
    join(dir, 'features', 'users.yaml'),
    `entities:
  - { name: user, join_keys: [user_id] }
sources:
  - { name: users, path: data/users.parquet }
  - { name: teams, path: data/teams/*.parquet }
feature_tables:
  - name: user_plan
    entities: [user]
    source: users
    features:
      - { name: plan, type: string }
      - { name: score, type: float64 }
  - name: user_team
    entities: [user]
    source: teams
    features:
      - { name: team, type: string }
`,
  );
  applyProject(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function trainingRow(labels: string, features: string[]): Promise<Record<string, unknown>[]> {
  const out = join(dir, 'out', `${Math.random().toString(36).slice(2)}.parquet`);
  const r = await buildDataset({ project: dir, labels, timestamp: 'ts', features, out });
  return sqlRows(`SELECT * EXCLUDE (ts) FROM read_parquet('${r.out}')`);
}

describe('push to a static source', () => {
  it('CSV: a second push for the same entity replaces its row, other lines stay byte for byte; datasets and materialize see the latest', async () => {
    const before = readFileSync(profileCsv, 'utf8').split('\n');
    const line = before.find((l) => l.startsWith('1,'))!;
    expect(line).toBeDefined();
    writeFileSync(join(dir, 'p1.csv'), 'driver_id,city,joined\n1,Bern,2020-01-01 00:00:00\n');
    await push({ project: dir, source: 'driver_profile', file: join(dir, 'p1.csv') });
    // Two rows for one entity in one push: the last one wins, as online.
    writeFileSync(join(dir, 'p2.csv'), 'driver_id,city,joined\n1,Chur,2020-01-01 00:00:00\n1,Basel,2021-06-01 12:00:00\n');
    const r = await push({ project: dir, source: 'driver_profile', file: join(dir, 'p2.csv') });
    expect(r.lakeFile).toBe(profileCsv);

    const after = readFileSync(profileCsv, 'utf8').split('\n');
    expect(after.filter((l) => l.startsWith('1,'))).toEqual(['1,Basel,2021-06-01 12:00:00']);
    expect(after.filter((l) => !l.startsWith('1,'))).toEqual(before.filter((l) => l !== line));
    expect(readdirSync(join(dir, 'data')).filter((f) => f.startsWith('.'))).toEqual([]);

    writeFileSync(join(dir, 'labels.csv'), 'driver_id,ts\n1,2024-01-02 00:00:00\n');
    expect(await trainingRow(join(dir, 'labels.csv'), ['driver_profile.city'])).toEqual([{ driver_id: 1n, driver_profile__city: 'Basel' }]);

    const m = await materialize({ project: dir, tables: ['driver_profile'], end: '2024-01-03T00:00:00Z' });
    expect(m.tables[0]!.rows).toBeGreaterThan(0);
    const store = new EmbeddedOnlineStore(join(dir, '.fresco', 'online'));
    try {
      const got = await store.read('driver_profile', [[1]], { asOf: Date.now() });
      expect(got.rows[0]!.values).toEqual(['Basel', new Date(Date.UTC(2021, 5, 1, 12))]);
    } finally {
      await store.close();
    }
  });

  it('Parquet: the entity row is replaced, the others kept, column types unchanged', async () => {
    const records = [{ user_id: 3, plan: 'pro', score: 7 }];
    await push({ project: dir, source: 'users', records: records.map((fields, i) => ({ row: i + 1, fields, text: false })) });
    await push({ project: dir, source: 'users', records: [{ row: 1, fields: { user_id: 3, plan: 'team', score: 8 }, text: false }] });
    const rows = await sqlRows(`SELECT user_id, plan, score, typeof(score) AS t FROM read_parquet('${usersParquet}') ORDER BY user_id`);
    expect(rows.map((r) => [r.user_id, r.plan, r.score])).toEqual([
      [1n, 'plan-1', 1.5],
      [2n, 'plan-2', 3],
      [3n, 'team', 8],
      [4n, 'plan-4', 6],
      [5n, 'plan-5', 7.5],
    ]);
    expect(new Set(rows.map((r) => r.t))).toEqual(new Set(['DOUBLE']));
    writeFileSync(join(dir, 'ulabels.csv'), 'user_id,ts\n3,2024-01-02 00:00:00\n4,2024-01-02 00:00:00\n');
    expect(await trainingRow(join(dir, 'ulabels.csv'), ['user_plan.*'])).toEqual([
      { user_id: 3n, user_plan__plan: 'team', user_plan__score: 8 },
      { user_id: 4n, user_plan__plan: 'plan-4', user_plan__score: 6 },
    ]);
    await materialize({ project: dir, tables: ['user_plan'], end: '2024-01-03T00:00:00Z' });
  });

  it('refuses a static glob source and a CSV it cannot rewrite faithfully, leaving the lake as it was', async () => {
    await expect(push({ project: dir, source: 'teams', records: [{ row: 1, fields: { user_id: 1, team: 'b' }, text: false }] })).rejects.toMatchObject({
      code: 'FRESCO_ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/source "teams" is static .* several files .*--online-only/),
    });
    expect(readdirSync(join(dir, 'data', 'teams'))).toEqual(['part-0.parquet']);

    // A semicolon-separated CSV reads fine in DuckDB, but a rewrite could not keep it as it is.
    const semi = 'driver_id;city;joined\n1;SF;2020-01-01 00:00:00\n2;LA;2020-01-01 00:00:00\n';
    writeFileSync(profileCsv, semi);
    await expect(push({ project: dir, source: 'driver_profile', records: [{ row: 1, fields: { driver_id: 1, city: 'Bern' }, text: false }] })).rejects.toMatchObject({
      code: 'FRESCO_ERR_DATA_INVALID',
      message: expect.stringMatching(/driver_profile\.csv: cannot replace rows in it: .*not the comma-separated header/),
    });
    expect(readFileSync(profileCsv, 'utf8')).toBe(semi);
    expect(readdirSync(join(dir, 'data')).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
