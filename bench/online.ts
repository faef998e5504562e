/**
 * The online store: materialization rate and read latency, embedded (LMDB, in-process) against
 * Redis (a real redis-server on loopback, started here), measured in the same run.
 *
 *  - materialize: the flights project (examples/flights-project: 4 feature tables over the 3M
 *    flights of 2001 + airports.csv), end to end (DuckDB rows, quality checks, store writes), into
 *    the embedded store vs into Redis; rows/s are entity rows written per second, and source
 *    rows/s the 3M flights scanned per second.
 *  - write: a synthetic table of 100 000 entities x 50 float64 features, 10 000 rows per batch.
 *  - read: 1 and 100 entities x 50 features; every call timed alone (hrtime), p50/p99 over many
 *    calls. Embedded through both read paths: the typed-array matrix (readMatrixSync) and the
 *    object API (read); Redis: one MGET per call, binary values (mgetBuffer).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setUpFlightsProject } from '../examples/steps/offline.js';
import { applyProject } from '../src/features/project.js';
import { EmbeddedOnlineStore, encodeEntityKey, materialize, RedisOnlineStore, type OnlineRow, type OnlineStore, type TableSchema } from '../src/online/index.js';
import { packageRoot } from '../src/package-root.js';
import type { BenchRow } from './row.js';

const vega = (name: string) => join(packageRoot(), 'node_modules', 'vega-datasets', 'data', name);
const FEATURES = 50;
const ENTITIES = 100_000;
const T0 = Date.UTC(2024, 0, 1);

const schema: TableSchema = {
  name: 'wide',
  joinKeys: ['id'],
  ttlSeconds: 0,
  features: Array.from({ length: FEATURES }, (_, i) => ({ name: `f${i}`, type: 'float64' as const })),
};

/** A throwaway redis-server on a free loopback port (no persistence), as the tests start one. */
async function startRedis(): Promise<{ port: number; dir: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'fresco-bench-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  proc.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      const probe = await RedisOnlineStore.open({ url: `redis://127.0.0.1:${port}`, timeoutMs: 200 });
      await probe.close();
      break;
    } catch (error) {
      if (i > 100 || proc.exitCode !== null) throw new Error(`redis-server did not start on port ${port} (is it installed?): ${String(error)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { port, dir, stop: () => new Promise((r) => (proc.exitCode !== null ? r() : (proc.once('exit', () => r()), proc.kill('SIGKILL')))) };
}

interface Latency {
  meanNs: number;
  p50Ns: number;
  p99Ns: number;
}

function stats(samples: Float64Array): Latency {
  const s = samples.slice().sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { meanNs: s.reduce((a, b) => a + b, 0) / s.length, p50Ns: at(0.5), p99Ns: at(0.99) };
}

async function timeCalls(n: number, warmup: number, call: (i: number) => unknown): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await call(i);
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = call(i);
    if (r instanceof Promise) await r;
    samples[i] = Number(process.hrtime.bigint() - t);
  }
  return stats(samples);
}

const us = (ns: number) => Number((ns / 1000).toFixed(2));

function rows(from: number, to: number): OnlineRow[] {
  const out: OnlineRow[] = [];
  for (let e = from; e < to; e++) out.push({ key: [e], eventTime: T0 + e, values: Array.from({ length: FEATURES }, (_, i) => e * 0.5 + i) });
  return out;
}

async function writeAll(store: OnlineStore): Promise<number> {
  await store.defineTable(schema);
  const t = performance.now();
  for (let e = 0; e < ENTITIES; e += 10_000) await store.write('wide', rows(e, Math.min(ENTITIES, e + 10_000)));
  return performance.now() - t;
}

export async function runOnlineBenchmarks(log: (line: string) => void = console.log): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-bench-online-'));
  const redis = await startRedis();
  const url = `redis://127.0.0.1:${redis.port}`;
  const out: BenchRow[] = [];
  try {
    // ---- materialize the flights tables, embedded vs Redis
    setUpFlightsProject(dir, { flightsParquet: vega('flights-3m.parquet'), airportsCsv: vega('airports.csv') });
    applyProject(dir);
    const end = new Date('2001-12-31T23:00:00Z');
    const matTimes: number[] = [];
    let entityRows = 0;
    for (const kind of ['embedded', 'redis'] as const) {
      const store: OnlineStore = kind === 'embedded' ? new EmbeddedOnlineStore(join(dir, 'online')) : await RedisOnlineStore.open({ url, prefix: 'flights:' });
      const t = performance.now();
      const r = await materialize({ project: dir, end, store });
      matTimes.push(performance.now() - t);
      entityRows = r.tables.reduce((a, x) => a + x.rows, 0);
      log(`  materialize flights -> ${kind}: ${entityRows} entity rows of ${r.tables.length} tables in ${(matTimes.at(-1)! / 1000).toFixed(2)} s`);
      await store.close();
    }
    out.push({
      name: `materialize flights (3M flights, ${entityRows} entity rows), per entity row`,
      baseline: 'same into Redis',
      nativeNs: (matTimes[0]! * 1e6) / entityRows,
      baselineNs: (matTimes[1]! * 1e6) / entityRows,
      speedup: matTimes[1]! / matTimes[0]!,
      extra: { 'embedded_rows/s': Math.round(entityRows / (matTimes[0]! / 1000)), 'redis_rows/s': Math.round(entityRows / (matTimes[1]! / 1000)), 'source_rows/s': Math.round(3_000_000 / (matTimes[0]! / 1000)) },
    });

    // ---- write a wide synthetic table
    const embedded = new EmbeddedOnlineStore(join(dir, 'wide'));
    const rstore = await RedisOnlineStore.open({ url, prefix: 'bench:' });
    const we = await writeAll(embedded);
    const wr = await writeAll(rstore);
    log(`  write ${ENTITIES} x ${FEATURES}: embedded ${(we / 1000).toFixed(2)} s, Redis ${(wr / 1000).toFixed(2)} s`);
    out.push({
      name: `write ${ENTITIES / 1000}k entities x ${FEATURES} features (10k/batch), per row`,
      baseline: 'same into Redis (Lua put-if-newer)',
      nativeNs: (we * 1e6) / ENTITIES,
      baselineNs: (wr * 1e6) / ENTITIES,
      speedup: wr / we,
      extra: { 'embedded_rows/s': Math.round(ENTITIES / (we / 1000)), 'redis_rows/s': Math.round(ENTITIES / (wr / 1000)) },
    });

    // ---- reads
    const pick = (i: number, n: number) => Array.from({ length: n }, (_, k) => ((i * 7919 + k * 104_729) % ENTITIES));
    const keySets = (n: number, count: number) => Array.from({ length: count }, (_, i) => pick(i, n));
    for (const n of [1, 100]) {
      const sets = keySets(n, 512);
      const encoded = sets.map((s) => s.map((k) => encodeEntityKey(schema, [k])));
      const objKeys = sets.map((s) => s.map((k) => [k]));
      const N = n === 1 ? 50_000 : 10_000;
      const matrix = await timeCalls(N, 2000, (i) => embedded.readMatrixSync('wide', encoded[i & 511]!));
      const objects = await timeCalls(N, 2000, (i) => embedded.readSync('wide', objKeys[i & 511]!));
      const viaRedis = await timeCalls(n === 1 ? 10_000 : 3000, 500, (i) => rstore.read('wide', objKeys[i & 511]!));
      // Same answers from both stores (a sanity check, not a timing).
      const a = embedded.readSync('wide', objKeys[3]!);
      const b = await rstore.read('wide', objKeys[3]!);
      if (JSON.stringify(a.rows) !== JSON.stringify(b.rows) || a.rows.some((r) => r.status !== 'present')) throw new Error('embedded and Redis reads differ');
      log(`  read ${n} x ${FEATURES}: matrix p50 ${us(matrix.p50Ns)} µs p99 ${us(matrix.p99Ns)} µs; objects p50 ${us(objects.p50Ns)} p99 ${us(objects.p99Ns)}; Redis p50 ${us(viaRedis.p50Ns)} p99 ${us(viaRedis.p99Ns)}`);
      out.push({
        name: `read ${n} entit${n === 1 ? 'y' : 'ies'} x ${FEATURES} features, embedded typed-array path`,
        baseline: 'Redis on loopback (one MGET)',
        nativeNs: matrix.meanNs,
        baselineNs: viaRedis.meanNs,
        speedup: viaRedis.meanNs / matrix.meanNs,
        extra: { p50_us: us(matrix.p50Ns), p99_us: us(matrix.p99Ns), redis_p50_us: us(viaRedis.p50Ns), redis_p99_us: us(viaRedis.p99Ns) },
      });
      out.push({
        name: `read ${n} entit${n === 1 ? 'y' : 'ies'} x ${FEATURES} features, embedded object API`,
        baseline: 'Redis on loopback (one MGET)',
        nativeNs: objects.meanNs,
        baselineNs: viaRedis.meanNs,
        speedup: viaRedis.meanNs / objects.meanNs,
        extra: { p50_us: us(objects.p50Ns), p99_us: us(objects.p99Ns), redis_p50_us: us(viaRedis.p50Ns), redis_p99_us: us(viaRedis.p99Ns) },
      });
    }
    await embedded.close();
    await rstore.close();
    return out;
  } finally {
    await redis.stop();
    rmSync(redis.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}
