// Serving with features from the online store (docs/serving.md, "Online features"): a project's
// feature tables materialized into the embedded store (and Redis), a dataframe model whose plan
// reads `<table>.<feature>` inputs plus request fields, served by FrescoServer. Predictions over
// the client equal the same plan + ONNX model run in-process on the feature values the project's
// data holds (the latest row per airport); a missing entity and an expired (TTL) row give nulls,
// which the plan fills exactly as it does in-process. Also `fresco serve --project <dir>`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { FrescoClient, type PredictInput } from '../src/client/index.js';
import { applyProject, loadProject } from '../src/features/project.js';
import { EmbeddedOnlineStore, materialize, RedisOnlineStore, type OnlineStore } from '../src/online/index.js';
import { compilePlan, type Plan } from '../src/plan/index.js';
import { ModelRegistry } from '../src/registry/index.js';
import { FrescoServer } from '../src/serving/index.js';
import { lookupRows } from '../src/serving/feature-lookup.js';
import { OnlineFeatureLookup, requestKeyNames } from '../src/serving/online-lookup.js';
import { type RedisServer, skipRedis, startRedis } from './online-redis-helpers.js';
import { registerPlanModel } from './dataframe-helpers.js';
import { eventually } from './serving-helpers.js';

const MODEL = 'airport-risk';
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const T1 = Date.UTC(2024, 0, 1);
const T2 = Date.UTC(2024, 0, 2);

/** What the project's data says each airport's features are (latest event wins; null = null). */
interface Stats {
  avg_delay: number | null;
  n_flights: number;
  region: string;
  opened: number;
}
const LATEST: Record<string, Stats> = {
  SFO: { avg_delay: 12.25, n_flights: 320, region: 'west', opened: Date.UTC(1990, 0, 1) },
  JFK: { avg_delay: 20.75, n_flights: 410, region: 'east', opened: Date.UTC(1985, 5, 1) },
  ORD: { avg_delay: null, n_flights: 500, region: 'central', opened: Date.UTC(1970, 2, 15) },
  DEN: { avg_delay: 8.5, n_flights: 120, region: 'mountain', opened: Date.UTC(1995, 1, 28) },
};
/** airport_live has a 1 h TTL: SFO's row is fresh, JFK's expired, the others have none. */
const LIVE: Record<string, number | null> = { SFO: 3, JFK: null };

// Plan inputs: features of two tables, `request.distance`, and `date` (a plain name is a field).
const plan: Plan = {
  format: 'fresco.plan',
  version: 1,
  inputs: [
    { name: 'airport_stats.avg_delay', type: 'num' }, // 0
    { name: 'airport_stats.n_flights', type: 'num' }, // 1
    { name: 'airport_stats.region', type: 'str' }, // 2
    { name: 'airport_stats.opened', type: 'num' }, // 3
    { name: 'airport_live.queue', type: 'num' }, // 4
    { name: 'request.distance', type: 'num' }, // 5
    { name: 'date', type: 'num' }, // 6
  ],
  ops: [
    { op: 'standardize', args: [0], mean: 15, std: 5 }, // 7
    { op: 'fill_null', args: [7], value: 0 }, // 8
    { op: 'standardize', args: [1], mean: 500, std: 200 }, // 9
    { op: 'fill_null', args: [9], value: 0 }, // 10
    { op: 'one_hot', args: [2], categories: ['west', 'east', 'central'] }, // 11..14
    { op: 'days_between', args: [3, 6] }, // 15
    { op: 'min_max', args: [15], min: 0, max: 20000 }, // 16
    { op: 'fill_null', args: [16], value: -1 }, // 17
    { op: 'fill_null', args: [4], value: 5 }, // 18
    { op: 'min_max', args: [18], min: 0, max: 10 }, // 19
    { op: 'standardize', args: [5], mean: 1000, std: 500 }, // 20
    { op: 'fill_null', args: [20], value: 0 }, // 21
    { op: 'is_null', args: [0] }, // 22
  ],
  outputs: [8, 10, 11, 12, 13, 14, 17, 19, 21, 22],
  output_names: ['avg_delay_std', 'n_flights_std', 'west', 'east', 'central', 'other_region', 'age', 'queue', 'distance_std', 'no_delay_stat'],
} as Plan;
const WIDTH = plan.outputs.length;

let dir: string;
let pkgDir: string;

function writeProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'fresco-serving-online-'));
  mkdirSync(join(root, 'features'));
  mkdirSync(join(root, 'data'));
  writeFileSync(join(root, 'fresco.yaml'), 'project: serving_online\n');
  writeFileSync(
    join(root, 'features', 'airports.yaml'),
    `entities:
  - { name: airport, join_keys: [airport] }
sources:
  - { name: airport_stats, path: data/airport_stats.csv, timestamp: event_timestamp }
  - { name: airport_live, path: data/airport_live.csv, timestamp: event_timestamp }
feature_tables:
  - name: airport_stats
    entities: [airport]
    source: airport_stats
    features:
      - { name: avg_delay, type: float64 }
      - { name: n_flights, type: int32 }
      - { name: region, type: string }
      - { name: opened, type: timestamp }
  - name: airport_live
    entities: [airport]
    source: airport_live
    ttl: 1h
    features:
      - { name: queue, type: float32 }
`,
  );
  const stats = ['event_timestamp,airport,avg_delay,n_flights,region,opened'];
  // An older SFO row that the later one replaces.
  stats.push(`${iso(T1)},SFO,10.5,300,west,${iso(LATEST.SFO!.opened)}`);
  for (const [airport, s] of Object.entries(LATEST)) stats.push(`${iso(T2)},${airport},${s.avg_delay ?? ''},${s.n_flights},${s.region},${iso(s.opened)}`);
  writeFileSync(join(root, 'data', 'airport_stats.csv'), `${stats.join('\n')}\n`);
  writeFileSync(join(root, 'data', 'airport_live.csv'), `event_timestamp,airport,queue\n${iso(NOW - 10 * 60_000)},SFO,3\n${iso(T2)},JFK,7\n`);
  return root;
}

/** A dataframe package (plan + ONNX MLP) registered in the project's registry as airport-risk@production. */
function registerModel(root: string): Promise<string> {
  return registerPlanModel(root, { name: MODEL, plan, hidden: 16, seed: 77, description: 'airport delay risk from online features and the request' });
}

interface Req {
  airport: string;
  distance: number | null;
  date: number;
}
const REQUESTS: Req[] = [
  { airport: 'SFO', distance: 337, date: Date.UTC(2024, 5, 1) },
  { airport: 'JFK', distance: 2586, date: Date.UTC(2024, 5, 2, 13) },
  { airport: 'ORD', distance: null, date: Date.UTC(2023, 0, 1) },
  { airport: 'DEN', distance: 1000, date: Date.UTC(2024, 1, 29) },
  { airport: 'ZZZ', distance: 500, date: Date.UTC(2024, 5, 1) }, // not in the store: every feature null
  { airport: 'SFO', distance: 10, date: Date.UTC(2001, 0, 1) },
];

/** The plan (natively, row by row) and an ONNX Runtime session, in-process, on the features the data holds. */
async function expected(requests: Req[]): Promise<number[]> {
  const compiled = compilePlan(plan);
  const matrix = new Float32Array(requests.length * WIDTH);
  requests.forEach((r, i) => {
    const s = LATEST[r.airport];
    const queue = LIVE[r.airport] ?? null;
    const n = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);
    const numeric = Float64Array.from([n(s?.avg_delay), n(s?.n_flights), NaN, n(s?.opened), n(queue), n(r.distance), r.date]);
    compiled.runRow(numeric, [s?.region ?? null], matrix.subarray(i * WIDTH, (i + 1) * WIDTH));
  });
  const session = await ort.InferenceSession.create(join(pkgDir, 'model.onnx'));
  try {
    const out = await session.run({ features: new ort.Tensor('float32', matrix, [requests.length, WIDTH]) });
    return Array.from(out.risk!.data as Float32Array);
  } finally {
    await session.release();
  }
}

const rowsOf = (requests: Req[]) => requests.map((r) => ({ keys: { airport: r.airport }, fields: { distance: r.distance, date: r.date } }));

async function predictAll(port: number, requests: Req[], extra: NonNullable<PredictInput['rows']> = []) {
  const client = await FrescoClient.connect(`ws://127.0.0.1:${port}`, { timeoutMs: 30_000 });
  try {
    return await client.predict(`${MODEL}@production`, { rows: [...rowsOf(requests), ...extra] });
  } finally {
    client.close();
  }
}

async function withServer<T>(store: OnlineStore, fn: (server: FrescoServer) => Promise<T>): Promise<T> {
  const registry = ModelRegistry.open(join(dir, '.fresco', 'registry'));
  const server = new FrescoServer({ port: 0, registry, models: [`${MODEL}@production`], onlineStore: store, logger: pino({ level: 'silent' }), syncIntervalMs: 0, defaults: { timeoutMs: 30_000 } });
  try {
    await server.start();
    return await fn(server);
  } finally {
    await server.close();
    registry.close();
  }
}

beforeAll(async () => {
  dir = writeProject();
  applyProject(dir);
  // Into the project's configured store (embedded, .fresco/online), opened and closed by materialize.
  await materialize({ project: dir, end: new Date(NOW) });
  pkgDir = await registerModel(dir);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('serving with the online store', () => {
  it('the adapter reads `table.feature` values by entity key: latest row, nulls for a missing entity and an expired row', async () => {
    const store = new EmbeddedOnlineStore(join(dir, '.fresco', 'online'));
    try {
      const lookup = new OnlineFeatureLookup(store, { now: () => NOW });
      const features = ['airport_stats.avg_delay', 'airport_stats.region', 'airport_stats.opened', 'airport_live.queue'];
      const rows = await lookupRows(lookup, features, [{ airport: 'SFO' }, { airport: 'JFK' }, { airport: 'ORD' }, { airport: 'ZZZ' }, {}, { airport: 1.5 }]);
      const plain = rows.map((r) => (r instanceof Map ? Object.fromEntries(r) : { error: r.code, message: r.message }));
      expect(plain.slice(0, 4)).toEqual([
        { 'airport_stats.avg_delay': 12.25, 'airport_stats.region': 'west', 'airport_stats.opened': LATEST.SFO!.opened, 'airport_live.queue': 3 },
        { 'airport_stats.avg_delay': 20.75, 'airport_stats.region': 'east', 'airport_stats.opened': LATEST.JFK!.opened, 'airport_live.queue': null }, // expired
        { 'airport_stats.avg_delay': null, 'airport_stats.region': 'central', 'airport_stats.opened': LATEST.ORD!.opened, 'airport_live.queue': null },
        { 'airport_stats.avg_delay': null, 'airport_stats.region': null, 'airport_stats.opened': null, 'airport_live.queue': null },
      ]);
      expect(plain[4]).toMatchObject({ error: 'FRESCO_ERR_INPUT_INVALID', message: expect.stringContaining('missing entity key "airport"') });
      expect(plain[5]).toMatchObject({ error: 'FRESCO_ERR_INPUT_INVALID', message: expect.stringContaining('must be a string or an integer') });
      // Against the object API (the path Redis takes): the same values.
      const objectOnly = new OnlineFeatureLookup({ ...bindStore(store), readMatrixSync: undefined } as unknown as OnlineStore, { now: () => NOW });
      expect((await lookupRows(objectOnly, features, [{ airport: 'SFO' }, { airport: 'JFK' }, { airport: 'ORD' }, { airport: 'ZZZ' }])).map((r) => Object.fromEntries(r as Map<string, unknown>))).toEqual(plain.slice(0, 4));
      await expect(lookupRows(lookup, ['nope.x'], [{ airport: 'SFO' }])).rejects.toThrow(/no table "nope"/);
      await expect(lookupRows(lookup, ['airport_stats.nope'], [{ airport: 'SFO' }])).rejects.toThrow(/has no feature "nope"/);
    } finally {
      await store.close();
    }
  });

  it('request keys follow each table\'s join_key_map (keyNames): two tables keyed by airport read different request keys', async () => {
    const store = new EmbeddedOnlineStore(join(dir, '.fresco', 'online'));
    try {
      // As a flight's origin and destination: airport_stats by `origin`, airport_live by `destination`.
      const lookup = new OnlineFeatureLookup(store, { now: () => NOW, keyNames: { airport_stats: { airport: 'origin' }, airport_live: { airport: 'destination' } } });
      const features = ['airport_stats.avg_delay', 'airport_live.queue'];
      const [row, missing] = await lookupRows(lookup, features, [{ origin: 'JFK', destination: 'SFO', airport: 'ORD' }, { destination: 'SFO' }]);
      expect(Object.fromEntries(row as Map<string, unknown>)).toEqual({ 'airport_stats.avg_delay': 20.75, 'airport_live.queue': 3 });
      expect(missing).toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID', message: expect.stringContaining('missing entity key "origin"') });
      // A project's definitions give the map: here no join_key_map, so each join key is its own name.
      expect(requestKeyNames(loadProject(dir))).toEqual({ airport_stats: { airport: 'airport' }, airport_live: { airport: 'airport' } });
    } finally {
      await store.close();
    }
  });

  it('predictions over the client equal the plan + ONNX run in-process on the same feature values (embedded store)', async () => {
    const want = await expected(REQUESTS);
    const store = new EmbeddedOnlineStore(join(dir, '.fresco', 'online'));
    try {
      await withServer(store, async (server) => {
        const p = await predictAll(server.port, REQUESTS);
        expect(p.rowStatus).toEqual([]);
        expect(p.outputs.risk!.shape).toEqual([REQUESTS.length, 1]);
        expect(Array.from(p.outputs.risk!.data as Float32Array)).toEqual(want);
        // Scores a feature can move (not saturated), and the missing entity is not scored like SFO.
        expect(want.every((x) => x > 0.01 && x < 0.99)).toBe(true);
        expect(new Set(want).size).toBe(want.length);
        // A row without its entity key fails alone, naming the key; the others are scored.
        const mixed = await predictAll(server.port, [REQUESTS[0]!], [{ keys: {}, fields: { distance: 1, date: 0 } }]);
        expect(mixed.rowStatus[0]!.status).toBe('OK');
        expect(mixed.rowStatus[1]).toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID', message: expect.stringContaining('"airport"') });
        expect((mixed.outputs.risk!.data as Float32Array)[0]).toBe(want[0]);
      });
    } finally {
      await store.close();
    }
  });

  describe.skipIf(skipRedis)('Redis', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => redis?.stop());

    it('gives the same predictions from Redis (the object read path)', async () => {
      const store = await RedisOnlineStore.open({ url: `redis://127.0.0.1:${redis.port}`, prefix: 'fresco:serving_online:' });
      try {
        await materialize({ project: loadProject(dir), end: new Date(NOW), store });
        const want = await expected(REQUESTS);
        await withServer(store, async (server) => {
          const p = await predictAll(server.port, REQUESTS);
          expect(p.rowStatus).toEqual([]);
          expect(Array.from(p.outputs.risk!.data as Float32Array)).toEqual(want);
        });
      } finally {
        await store.close();
      }
    });
  });

  it('`fresco serve --project <dir>` opens the project\'s online store', async () => {
    const errText: string[] = [];
    const io: Io = { out: () => {}, err: (t) => void errText.push(t) };
    process.env.FRESCO_LOG_LEVEL = 'silent';
    const serving = runCli(['node', 'fresco', 'serve', '--port', '0', '--project', dir, '--models', `${MODEL}@production`], io);
    try {
      await eventually(() => errText.some((l) => l.includes('listening on')), 60_000);
    } catch (error) {
      throw new Error(`fresco serve did not start: ${errText.join('\n')}`, { cause: error });
    }
    expect(errText.join('\n')).toContain('online features from embedded:');
    const port = Number(/:(\d+) /.exec(errText.find((l) => l.includes('listening on'))!)![1]);
    const p = await predictAll(port, REQUESTS);
    expect(Array.from(p.outputs.risk!.data as Float32Array)).toEqual(await expected(REQUESTS));
    process.emit('SIGTERM');
    expect(await serving).toBe(0);
  });
});

/** The store's methods bound to it, as a plain object (to hide its typed-array read). */
function bindStore(store: OnlineStore): OnlineStore {
  const out: Record<string, unknown> = { kind: store.kind, id: store.id };
  for (const m of ['defineTable', 'schema', 'tables', 'write', 'read', 'delete', 'expire', 'dropTable', 'count', 'close'] as const) out[m] = store[m].bind(store);
  return out as unknown as OnlineStore;
}
