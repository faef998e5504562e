// Push ingestion: `fresco push` from files, the HTTP endpoint and a Redis Stream tail, on a
// generated project (CSV sources, plus a Parquet glob source) with a real redis-server.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { applyProject } from '../src/features/project.js';
import { openEngine } from '../src/offline/engine.js';
import { EmbeddedOnlineStore, push, pushFileFor, startPushServer, tailStream } from '../src/online/index.js';
import { writeOnlineProject } from './online-project.js';
import { type RedisServer, skipRedis, startRedis } from './online-redis-helpers.js';

const dir = writeOnlineProject({ drivers: 20, airports: 4 });
const hash = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const statsCsv = join(dir, 'data', 'driver_stats.csv');

async function count(sql: string): Promise<number> {
  const e = await openEngine({ threads: 1 });
  try {
    const [r] = await e.rows(sql);
    return Number(r!.n);
  } finally {
    e.close();
  }
}

async function readDriver(id: number, table = 'driver_hourly') {
  const store = new EmbeddedOnlineStore(join(dir, '.fresco', 'online'));
  try {
    return (await store.read(table, [[id]], { asOf: Date.UTC(2024, 0, 2, 15) })).rows[0]!;
  } finally {
    await store.close();
  }
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

beforeAll(async () => {
  // A Parquet glob source next to the generated CSV ones.
  mkdirSync(join(dir, 'data', 'events'));
  const e = await openEngine({ threads: 1 });
  await e.run(`COPY (SELECT 1::BIGINT AS driver_id, TIMESTAMP '2024-01-01 00:00:00' AS ts, 0.5::DOUBLE AS score) TO '${join(dir, 'data', 'events', 'part-0.parquet')}' (FORMAT parquet)`);
  e.close();
  writeFileSync(
    join(dir, 'features', 'events.yaml'),
    `sources:
  - { name: events, path: data/events/*.parquet, timestamp: ts }
feature_tables:
  - name: driver_events
    entities: [driver]
    source: events
    features:
      - { name: score, type: float64 }
`,
  );
  applyProject(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('push from files', () => {
  it('writes the online store (latest per entity, put-if-newer) and appends to a single-file CSV source', async () => {
    const before = await count(`SELECT count(*) AS n FROM read_csv('${statsCsv}')`);
    writeFileSync(
      join(dir, 'new.csv'),
      'event_timestamp,created,driver_id,conv_rate,trips,rating,active\n2024-01-02 10:00:00,2024-01-02 10:00:00,9001,0.25,3,4.5,true\n2024-01-02 11:00:00,2024-01-02 11:00:00,9001,0.75,4,,false\n2024-01-02 09:00:00,2024-01-02 09:00:00,9002,"0.5",1,3,1\n',
    );
    const r = await push({ project: dir, source: 'driver_stats', file: join(dir, 'new.csv') });
    expect(r.rows).toBe(3);
    expect(r.tables).toEqual([{ table: 'driver_hourly', kind: 'batch', written: 2, skippedOlder: 0 }]);
    expect(r.lakeFile).toBe(statsCsv);
    const d = await readDriver(9001);
    expect(d.status).toBe('present');
    expect(d.eventTime).toBe(Date.UTC(2024, 0, 2, 11));
    expect(d.values).toEqual([0.75, 4, null, false]);
    expect((await readDriver(9002)).values).toEqual([0.5, 1, 3, true]);
    // The offline store sees the rows: the CSV gained 3 and still parses with its types.
    expect(await count(`SELECT count(*) AS n FROM read_csv('${statsCsv}') WHERE driver_id = 9001`)).toBe(2);
    expect(await count(`SELECT count(*) AS n FROM read_csv('${statsCsv}')`)).toBe(before + 3);
    // An older event for 9001 is skipped online.
    writeFileSync(join(dir, 'old.jsonl'), '{"event_timestamp":"2024-01-01T00:00:00Z","created":"2024-01-01T00:00:00Z","driver_id":9001,"conv_rate":0.1}\n');
    const old = await push({ project: dir, source: 'driver_stats', file: join(dir, 'old.jsonl'), onlineOnly: true });
    expect(old.tables[0]).toMatchObject({ written: 0, skippedOlder: 1 });
    expect(old.lakeFile).toBeUndefined();
  });

  it('rejects the whole push on one bad row, naming row, line and column; nothing is written', async () => {
    const lake = hash(statsCsv);
    const cases: [string, RegExp][] = [
      ['event_timestamp,created,driver_id,conv_rate\n2024-01-02 12:00:00,2024-01-02 12:00:00,9003,0.5\n2024-01-02 12:00:00,2024-01-02 12:00:00,9004,abc\n', /row 2 \(line 3\), column "conv_rate": expected a number/],
      ['event_timestamp,created,driver_id,speed\n2024-01-02 12:00:00,2024-01-02 12:00:00,9003,1\n', /row 1 \(line 2\), column "speed": source "driver_stats" has no such column/],
      ['event_timestamp,created,conv_rate\n2024-01-02 12:00:00,2024-01-02 12:00:00,0.5\n', /row 1 \(line 2\), column "driver_id": missing or null, but it is the join key "driver_id"/],
      ['event_timestamp,created,driver_id\nyesterday,2024-01-02 12:00:00,9003\n', /row 1 \(line 2\), column "event_timestamp": expected a time/],
      ['event_timestamp,created,driver_id,trips\n2024-01-02 12:00:00,2024-01-02 12:00:00,9003,1.5\n', /column "trips": expected an integer/],
    ];
    for (const [csv, message] of cases) {
      writeFileSync(join(dir, 'bad.csv'), csv);
      await expect(push({ project: dir, source: 'driver_stats', file: join(dir, 'bad.csv') })).rejects.toMatchObject({ code: 'FRESCO_ERR_DATA_INVALID', message: expect.stringMatching(message) });
    }
    expect(hash(statsCsv)).toBe(lake);
    expect((await readDriver(9003)).status).toBe('missing');
  });

  it('adds a new Parquet file to a glob source, read back by the offline store', async () => {
    writeFileSync(join(dir, 'ev.jsonl'), '{"driver_id": 7, "ts": "2024-01-02T08:00:00Z", "score": 0.9}\n{"driver_id": 8, "ts": 1704182400000, "score": null}\n');
    const r = await push({ project: dir, source: 'events', file: join(dir, 'ev.jsonl') });
    expect(r.lakeFile).toMatch(/data\/events\/fresco-push-\d{8}T\d{9}Z-[0-9a-f]{6}\.parquet$/);
    expect(readdirSync(join(dir, 'data', 'events')).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(await count(`SELECT count(*) AS n FROM read_parquet('${join(dir, 'data', 'events', '*.parquet')}') WHERE driver_id IN (7, 8) AND typeof(ts) = 'TIMESTAMP'`)).toBe(2);
    const store = new EmbeddedOnlineStore(join(dir, '.fresco', 'online'));
    const got = await store.read('driver_events', [[7], [8]], { asOf: Date.UTC(2024, 0, 3) });
    await store.close();
    expect(got.rows.map((x) => x.values[0])).toEqual([0.9, null]);
    expect(pushFileFor('/d/x/**/part-*.parquet', 'P')).toBe('/d/x/part-P.parquet');
    expect(() => pushFileFor('/d/*/x.parquet', 'P')).toThrow(/file name has a `\*`/);
  });

  it('windowed tables are fed through the lake only', async () => {
    writeFileSync(join(dir, 'f.csv'), 'date,origin,delay\n2024-01-02 10:00:00,A1,12\n');
    const r = await push({ project: dir, source: 'flights', file: join(dir, 'f.csv') });
    expect(r.tables).toEqual([expect.objectContaining({ table: 'origin_delays', kind: 'windowed', written: 0, note: expect.stringContaining('materialize') })]);
    expect(readFileSync(join(dir, 'data', 'flights.csv'), 'utf8')).toMatch(/\n2024-01-02 10:00:00,A1,12\n$/);
  });

  it('`fresco push <source> -` reads JSON lines from stdin; errors name the row', async () => {
    const c = capture();
    expect(await runCli(['node', 'fresco', 'push', 'driver_profile', 'missing.csv', '--project', dir], c.io)).toBe(1);
    expect(c.err.join('')).toContain('FRESCO_ERR_NOT_FOUND');
    const ok = capture();
    expect(await runCli(['node', 'fresco', 'push', 'driver_profile', join(dir, 'p.csv'), '--project', dir, '--json'], ok.io)).toBe(1);
    writeFileSync(join(dir, 'p.csv'), 'driver_id,city,joined\n4242,Bern,2020-01-01 00:00:00\n');
    const good = capture();
    expect(await runCli(['node', 'fresco', 'push', 'driver_profile', join(dir, 'p.csv'), '--project', dir, '--json'], good.io), good.err.join('')).toBe(0);
    expect(JSON.parse(good.out.join('')).tables[0]).toMatchObject({ table: 'driver_profile', kind: 'static', written: 1 });
    expect((await readDriver(4242, 'driver_profile')).values).toEqual(['Bern', new Date(Date.UTC(2020, 0, 1))]);
  });
});

describe('HTTP push endpoint', () => {
  it('needs the bearer token (401, nothing written), bounds the body (413), pushes CSV and JSON lines', async () => {
    const server = await startPushServer({ project: dir, port: 0, token: 's3cret', maxBytes: 2000 });
    const url = `http://127.0.0.1:${server.port}/push/driver_stats`;
    const lake = hash(statsCsv);
    try {
      const body = 'event_timestamp,created,driver_id,conv_rate\n2024-01-02 13:00:00,2024-01-02 13:00:00,9101,0.125\n';
      const none = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/csv' } });
      expect(none.status).toBe(401);
      expect((await none.json()).error.code).toBe('FRESCO_ERR_UNAUTHORIZED');
      const wrong = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/csv', authorization: 'Bearer s3cre' } });
      expect(wrong.status).toBe(401);
      expect(hash(statsCsv)).toBe(lake);
      expect((await readDriver(9101)).status).toBe('missing');
      const big = await fetch(url, { method: 'POST', body: body + '2024-01-02 13:00:00,2024-01-02 13:00:00,9102,0.5\n'.repeat(100), headers: { 'content-type': 'text/csv', authorization: 'Bearer s3cret' } });
      expect(big.status).toBe(413);
      expect((await big.json()).error.code).toBe('FRESCO_ERR_PAYLOAD_TOO_LARGE');
      const bad = await fetch(url, { method: 'POST', body: '{"driver_id": 9103, "event_timestamp": "2024-01-02T13:00:00Z", "created": "2024-01-02T13:00:00Z"}\n{"driver_id": "x"}\n', headers: { authorization: 'Bearer s3cret' } });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.message).toMatch(/row 2 \(line 2\), column "driver_id": expected an integer/);
      expect(hash(statsCsv)).toBe(lake);
      expect((await readDriver(9103)).status).toBe('missing');
      const ok = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/csv', authorization: 'Bearer s3cret' } });
      expect(ok.status).toBe(200);
      expect((await ok.json()).tables[0]).toMatchObject({ table: 'driver_hourly', written: 1 });
      expect((await readDriver(9101)).values[0]).toBe(0.125);
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(skipRedis)('push --tail (Redis Stream)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => redis?.stop());

  it('consumes with a consumer group, acks after the write, dead-letters bad entries with the reason', async () => {
    const client = new Redis(`redis://127.0.0.1:${redis.port}`);
    try {
      await client.xadd('ingest', '*', 'event_timestamp', '2024-01-02 14:00:00', 'created', '2024-01-02 14:00:00', 'driver_id', '9201', 'conv_rate', '0.5');
      await client.xadd('ingest', '*', 'json', JSON.stringify({ event_timestamp: '2024-01-02T14:00:00Z', created: '2024-01-02T14:00:00Z', driver_id: 9202, trips: 'many' }));
      await client.xadd('ingest', '*', 'json', JSON.stringify({ event_timestamp: '2024-01-02T15:00:00Z', created: '2024-01-02T15:00:00Z', driver_id: 9203, trips: 5 }));
      await client.xadd('ingest', '*', 'json', '{not json');
      const stats = await tailStream({ project: dir, source: 'driver_stats', url: `redis://127.0.0.1:${redis.port}/ingest`, batchSize: 2, blockMs: 50, stopWhenIdle: 1 });
      expect(stats).toEqual({ batches: 2, rows: 2, dead: 2 });
      expect((await readDriver(9201)).values[0]).toBe(0.5);
      expect((await readDriver(9203)).values[1]).toBe(5);
      expect((await readDriver(9202)).status).toBe('missing');
      const dead = (await client.xrange('ingest:dead', '-', '+')).map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]]]))));
      expect(dead).toHaveLength(2);
      expect(dead[0]!.reason).toMatch(/column "trips": expected an integer/);
      expect(dead[1]!.reason).toMatch(/JSON/);
      expect(dead[1]!.json).toBe('{not json');
      const pending = (await client.xpending('ingest', 'fresco-push')) as [number, ...unknown[]];
      expect(pending[0]).toBe(0);
      // The lake saw the good rows.
      expect(await count(`SELECT count(*) AS n FROM read_csv('${statsCsv}') WHERE driver_id IN (9201, 9203)`)).toBe(2);
    } finally {
      client.disconnect();
    }
  });
});
