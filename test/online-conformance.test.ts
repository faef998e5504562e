// One conformance suite, run against every online store: embedded (LMDB), Redis, Redis Cluster.
// The Redis servers are real redis-server processes started by the test (online-redis-helpers.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedOnlineStore, RedisOnlineStore, type OnlineStore, type TableSchema } from '../src/online/index.js';
import { type RedisCluster, type RedisServer, skipRedis, startCluster, startRedis } from './online-redis-helpers.js';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

const stats: TableSchema = {
  name: 'driver_stats',
  joinKeys: ['driver_id'],
  ttlSeconds: 24 * 3600,
  features: [
    { name: 'conv_rate', type: 'float32' },
    { name: 'acc_rate', type: 'float64' },
    { name: 'trips', type: 'int32' },
    { name: 'lifetime_trips', type: 'int64' },
    { name: 'active', type: 'bool' },
    { name: 'city', type: 'string' },
    { name: 'last_seen', type: 'timestamp' },
  ],
};
const pairs: TableSchema = { name: 'route', joinKeys: ['origin', 'dest'], ttlSeconds: 0, features: [{ name: 'n', type: 'int64' }] };

function conformance(name: string, open: () => Promise<OnlineStore>, skip = false) {
  describe.skipIf(skip)(`online store conformance: ${name}`, () => {
    let store: OnlineStore;
    beforeAll(async () => {
      store = await open();
      await store.defineTable(stats);
      await store.defineTable(pairs);
    });
    afterAll(async () => store?.close());

    it('writes a batch and reads values, statuses and timestamps back, every type and null', async () => {
      await store.write('driver_stats', [
        { key: [1001], eventTime: T0, values: [0.5, 0.25, 7, 12345678901, true, 'Paris', new Date(T0 - HOUR)] },
        { key: [1002], eventTime: T0 + HOUR, values: [null, null, null, null, null, null, null] },
        { key: ['1003'], eventTime: T0 - 2 * HOUR, values: [1.5, -2, -3, -4, false, 'héllo ✓', new Date(0)] },
      ]);
      const r = await store.read('driver_stats', [[1001], ['1002'], [1003], [9999]], { asOf: T0 + 2 * HOUR });
      expect(r.features).toEqual(stats.features.map((f) => f.name));
      expect(r.rows.map((x) => x.status)).toEqual(['present', 'present', 'present', 'missing']);
      expect(r.rows.map((x) => x.eventTime)).toEqual([T0, T0 + HOUR, T0 - 2 * HOUR, null]);
      expect(r.rows[0]!.values).toEqual([0.5, 0.25, 7, 12345678901, true, 'Paris', new Date(T0 - HOUR)]);
      expect(r.rows[1]!.values).toEqual([null, null, null, null, null, null, null]);
      expect(r.rows[2]!.values).toEqual([1.5, -2, -3, -4, false, 'héllo ✓', new Date(0)]);
      expect(r.rows[3]!.values).toEqual(new Array(7).fill(null));
      expect(await store.count('driver_stats')).toBe(3);
    });

    it('honours the TTL relative to asOf: the boundary is present, older is expired with no values', async () => {
      const ttl = stats.ttlSeconds * 1000;
      const at = (asOf: number) => store.read('driver_stats', [[1001]], { asOf }).then((r) => r.rows[0]!);
      expect((await at(T0 + ttl)).status).toBe('present');
      const expired = await at(T0 + ttl + 1);
      expect(expired).toEqual({ status: 'expired', eventTime: T0, values: new Array(7).fill(null) });
    });

    it('keeps the newer row: an older write is skipped, a replay is idempotent', async () => {
      const old = await store.write('driver_stats', [{ key: [1001], eventTime: T0 - HOUR, values: [9, 9, 9, 9, false, 'old', null] }]);
      expect(old).toEqual({ written: 0, skippedOlder: 1 });
      const same = await store.write('driver_stats', [{ key: [1001], eventTime: T0, values: [0.5, 0.25, 7, 12345678901, true, 'Paris', new Date(T0 - HOUR)] }]);
      expect(same.written).toBe(1);
      const newer = await store.write('driver_stats', [{ key: [1001], eventTime: T0 + 3 * HOUR, values: [0.75, null, 8, null, null, 'Lyon', null] }]);
      expect(newer.written).toBe(1);
      const r = await store.read('driver_stats', [[1001]], { asOf: T0 + 3 * HOUR });
      expect(r.rows[0]!.values.slice(0, 3)).toEqual([0.75, null, 8]);
      expect(r.rows[0]!.values[5]).toBe('Lyon');
    });

    it('composite keys are kept apart and read in the order asked', async () => {
      await store.write('route', [
        { key: ['ORD', 'JFK'], eventTime: T0, values: [1n] },
        { key: ['JFK', 'ORD'], eventTime: T0, values: [2] },
      ]);
      const r = await store.read('route', [['JFK', 'ORD'], ['ORD', 'JFK'], ['ORD', 'LAX']]);
      expect(r.rows.map((x) => x.values[0])).toEqual([2, 1, null]);
      await expect(store.read('route', [['ORD']])).rejects.toMatchObject({ code: 'FRESCO_ERR_INVALID_ARGUMENT' });
    });

    it('deletes keys and expires rows older than a time', async () => {
      expect(await store.delete('driver_stats', [[1002], [4242]])).toBe(1);
      expect((await store.read('driver_stats', [[1002]])).rows[0]!.status).toBe('missing');
      expect(await store.expire('driver_stats', T0)).toBe(1); // 1003 (T0 - 2h); 1001 is at T0 + 3h
      expect(await store.count('driver_stats')).toBe(1);
    });

    it('redeclaring a table with another schema drops its rows; the schema round-trips', async () => {
      expect(await store.schema('route')).toEqual(pairs);
      expect(await store.tables()).toEqual(expect.arrayContaining(['driver_stats', 'route']));
      await store.defineTable(pairs); // unchanged: rows stay
      expect(await store.count('route')).toBe(2);
      const changed: TableSchema = { ...pairs, features: [{ name: 'n', type: 'float64' }] };
      await store.defineTable(changed);
      expect(await store.count('route')).toBe(0);
      expect(await store.schema('route')).toEqual(changed);
      await store.dropTable('route');
      expect(await store.schema('route')).toBeUndefined();
      await expect(store.read('route', [['a', 'b']])).rejects.toMatchObject({ code: 'FRESCO_ERR_NOT_FOUND' });
    });

    it('reads 500 keys in one call', async () => {
      await store.defineTable(pairs);
      const rows = Array.from({ length: 500 }, (_, i) => ({ key: [`o${i}`, 'd'], eventTime: T0 + i, values: [i] }));
      await store.write('route', rows);
      const r = await store.read('route', rows.map((x) => x.key));
      expect(r.rows.map((x) => x.values[0])).toEqual(rows.map((_, i) => i));
      expect(r.rows.every((x) => x.status === 'present')).toBe(true);
    });
  });
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

conformance('embedded (LMDB)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-online-'));
  dirs.push(dir);
  return new EmbeddedOnlineStore(join(dir, 'online'));
});

let server: RedisServer | undefined;
let cluster: RedisCluster | undefined;
afterAll(async () => {
  await server?.stop();
  await cluster?.stop();
});

conformance(
  'Redis',
  async () => {
    server = await startRedis();
    return RedisOnlineStore.open({ url: `redis://127.0.0.1:${server.port}`, prefix: 'test:' });
  },
  skipRedis,
);

conformance(
  'Redis Cluster (3 masters)',
  async () => {
    cluster = await startCluster();
    return RedisOnlineStore.open({ cluster: cluster.nodes, prefix: 'test:' });
  },
  skipRedis,
);
