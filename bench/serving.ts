/**
 * Serving benchmarks (docs/serving.md), all in one run on one machine:
 *  1. throughput and p99 of mlp-50 (one row per request) over HTTP at equal concurrency (wrk -c32),
 *     Fresco (binary frame, POST /v1/predict) against Fastify + JSON + onnxruntime-node on the
 *     event loop;
 *  2. user-score (one entity's 50 features looked up, standardized by the plan, MLP 50-64-1) over
 *     WebSockets at a steady 5,000 requests/s (open loop, generator in a worker thread): p50, p99;
 *  3. the same load while user-score@production is hot-swapped 1 -> 2 -> 1: errors, p99 in the
 *     swap windows against the steady p99;
 *  4. RSS after 100 hot swaps of mlp-50 (onnxruntime-node leaks sessions upstream);
 *  0. first, the hand-over alone (load/handover.ts): one batch through InferenceWorker.run
 *     (mlp-50, one row, one in flight) against a raw SharedArrayBuffer + waitAsync ping-pong;
 *     and the event loop's own work per user-score request (load/main-path.ts: decode, route,
 *     lookup, plan, input tensor, metrics, encode), without sockets or load.
 * Needs `wrk` (Debian: apt-get install wrk); without it, part 1 is skipped with a note.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { packageRoot } from '../src/package-root.js';
import { encodeFrame, FrescoServer } from '../src/serving/index.js';
import { startFastifyBaseline } from './load/fastify-baseline.js';
import { measureHandover } from './load/handover.js';
import { measureMainPath } from './load/main-path.js';
import { makeServingFixture } from './load/fixtures.js';
import type { BenchRow } from './row.js';

interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function toMs(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

/** Runs wrk (asynchronously: the servers under test live in this process's event loop). */
async function wrk(url: string, script: string, seconds: number, connections: number): Promise<WrkResult> {
  const { stdout: out } = await promisify(execFile)('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50Ms: toMs(/ 50%\s+(\S+)/.exec(out)?.[1] ?? ''),
    p99Ms: toMs(/ 99%\s+(\S+)/.exec(out)?.[1] ?? ''),
    errors: Number(non2xx?.[1] ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
  };
}

function luaPost(file: string, bodyFile: string, contentType: string): string {
  writeFileSync(file, `local f = io.open("${bodyFile}", "rb")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "${contentType}"\n`);
  return file;
}

interface LoadResult {
  sentAt: Float64Array;
  latency: Float64Array;
  errors: string[];
  errorCount: number;
  elapsedMs: number;
}

function runLoad(options: { url: string; model: string; rate: number; seconds: number; connections: number; kind: 'tensor' | 'user'; users: number }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load/generator.js', import.meta.url), { workerData: options });
    worker.once('message', (m: LoadResult) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

function percentile(values: number[], p: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

export async function runServingBenchmarks(log: (line: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // 0. The hand-over alone: what the pool adds to a raw SAB + Atomics round trip.
  const hand = await measureHandover(20_000);
  log(`hand-over: pool ${hand.pool.p50Us.toFixed(1)} µs p50 / ${hand.pool.p99Us.toFixed(1)} p99; raw ping-pong ${hand.raw.p50Us.toFixed(1)} / ${hand.raw.p99Us.toFixed(1)}; ORT on main ${hand.ortMain.p50Us.toFixed(1)} / ${hand.ortMain.p99Us.toFixed(1)}`);
  rows.push({
    name: 'hand-over: InferenceWorker.run (mlp-50, 1 row, main -> worker -> main), p50',
    baseline: 'raw SAB + Atomics.waitAsync ping-pong, empty work',
    nativeNs: hand.pool.p50Us * 1e3,
    baselineNs: hand.raw.p50Us * 1e3,
    speedup: hand.raw.p50Us / hand.pool.p50Us,
    extra: { pool_p99_us: hand.pool.p99Us, raw_p99_us: hand.raw.p99Us, ort_on_main_p50_us: hand.ortMain.p50Us },
  });
  // The event loop's work per dataframe request, alone (what the 5,000 req/s run needs the loop for).
  const [one, eight] = await measureMainPath(20_000, 5, [1, 8]);
  log(`main path per user-score request: ${one!.wallUs.best.toFixed(1)} µs (CPU ${one!.cpuUs.best.toFixed(1)}) one per batch; ${eight!.wallUs.best.toFixed(1)} µs (CPU ${eight!.cpuUs.best.toFixed(1)}) eight per batch`);
  rows.push({
    name: 'event loop per user-score request: decode, route, lookup 50 features, plan, input tensor, metrics, encode (best of 5)',
    baseline: 'budget: one core at 5,000 req/s (200 µs)',
    nativeNs: one!.wallUs.best * 1e3,
    baselineNs: 200e3,
    speedup: 200 / one!.wallUs.best,
    extra: { wall_median_us: one!.wallUs.median, cpu_best_us: one!.cpuUs.best, batch8_wall_best_us: eight!.wallUs.best, batch8_cpu_best_us: eight!.cpuUs.best },
  });
  const fixture = await makeServingFixture(10_000);
  const server = await new FrescoServer({
    port: 0,
    registry: fixture.registry,
    lookup: fixture.lookup,
    models: ['mlp-50@production', 'user-score@production'],
    defaults: { maxBatchSize: 64, instances: 1, timeoutMs: 5000, maxQueueRows: 16384 },
    logger: pino({ level: 'warn' }),
    syncIntervalMs: 0,
  }).start();
  const base = `http://127.0.0.1:${server.port}`;
  const tmp = fixture.dir;

  // 1. Throughput and p99 at equal concurrency, against Fastify + JSON + ORT on the event loop.
  const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
  if (hasWrk) {
    const x = Float32Array.from({ length: 50 }, (_, i) => (i % 7) / 7);
    writeFileSync(join(tmp, 'frame.bin'), encodeFrame({ type: 'predict_request', id: 1, model: 'mlp-50@production', rows: [], tensors: [{ name: 'x', dtype: 'float32', shape: [1, 50], data: x }], timeoutUs: 0, outputs: [] }));
    writeFileSync(join(tmp, 'body.json'), JSON.stringify({ x: [Array.from(x)] }));
    const seconds = 5;
    const c = 32;
    await wrk(`${base}/v1/predict`, luaPost(join(tmp, 'f.lua'), join(tmp, 'frame.bin'), 'application/x-fresco-frame'), 1, c); // warm-up
    const fresco = await wrk(`${base}/v1/predict`, join(tmp, 'f.lua'), seconds, c);
    log(`fresco  mlp-50 HTTP frame: ${fresco.rps.toFixed(0)} req/s, p50 ${fresco.p50Ms} ms, p99 ${fresco.p99Ms} ms, errors ${fresco.errors}`);
    const fastify = await startFastifyBaseline(join(packageRoot(), 'models', 'mlp-50', 'model.onnx'));
    const fastUrl = `http://127.0.0.1:${fastify.port}/predict`;
    await wrk(fastUrl, luaPost(join(tmp, 'j.lua'), join(tmp, 'body.json'), 'application/json'), 1, c);
    const baseline = await wrk(fastUrl, join(tmp, 'j.lua'), seconds, c);
    await fastify.close();
    log(`fastify mlp-50 JSON:       ${baseline.rps.toFixed(0)} req/s, p50 ${baseline.p50Ms} ms, p99 ${baseline.p99Ms} ms, errors ${baseline.errors}`);
    rows.push({
      name: `mlp-50, 1 row/request, HTTP, wrk -t1 -c${c} ${seconds}s (time per request at saturation)`,
      baseline: 'Fastify + JSON + onnxruntime-node on the event loop',
      nativeNs: 1e9 / fresco.rps,
      baselineNs: 1e9 / baseline.rps,
      speedup: fresco.rps / baseline.rps,
      extra: { fresco_rps: fresco.rps, baseline_rps: baseline.rps, fresco_p99_ms: fresco.p99Ms, baseline_p99_ms: baseline.p99Ms, fresco_errors: fresco.errors, baseline_errors: baseline.errors },
    });
  } else {
    log('wrk not found: skipping the Fastify comparison (apt-get install wrk)');
  }

  // 2. One entity's 50 features looked up and transformed, at a steady 5,000 req/s.
  const load = { url: `ws://127.0.0.1:${server.port}`, model: 'user-score@production', rate: 5000, seconds: 8, connections: 4, kind: 'user' as const, users: 10_000 };
  await runLoad({ ...load, seconds: 2 }); // warm-up
  const steady = await runLoad(load);
  const steadyLat = Array.from(steady.latency);
  const steadyP50 = percentile(steadyLat, 50);
  const steadyP99 = percentile(steadyLat, 99);
  const achieved = (steady.latency.length - steady.errorCount) / (steady.elapsedMs / 1000);
  log(`user-score @5000/s: p50 ${steadyP50.toFixed(3)} ms, p99 ${steadyP99.toFixed(3)} ms, errors ${steady.errorCount}, achieved ${achieved.toFixed(0)}/s`);
  rows.push({
    name: 'user-score: 50 features looked up + plan + MLP, WebSocket, steady 5000 req/s: p99',
    baseline: 'target: 1 ms',
    nativeNs: steadyP99 * 1e6,
    baselineNs: 1e6,
    speedup: 1 / steadyP99,
    extra: { p50_ms: steadyP50, p99_ms: steadyP99, p999_ms: percentile(steadyLat, 99.9), errors: steady.errorCount, achieved_rps: achieved },
  });

  // 3. The same load during hot swaps 1 -> 2 -> 1.
  const swapping = runLoad(load);
  const windows: [number, number][] = [];
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 2000));
  for (const version of [2, 1]) {
    const from = performance.now() - t0;
    await server.manager.swap('user-score@production', version);
    windows.push([from, performance.now() - t0]);
    await new Promise((r) => setTimeout(r, 1500));
  }
  const swapped = await swapping;
  // Requests sent from the start of a swap to 250 ms after its switch (the generator starts a few ms after t0).
  const inWindow: number[] = [];
  for (let i = 0; i < swapped.sentAt.length; i++) {
    const s = swapped.sentAt[i] as number;
    if (windows.some(([a, b]) => s >= a - 50 && s <= b + 250)) inWindow.push(swapped.latency[i] as number);
  }
  const swapP99 = percentile(inWindow, 99);
  const allP99 = percentile(Array.from(swapped.latency), 99);
  log(`during swaps: ${inWindow.length} requests in swap windows, p99 ${swapP99.toFixed(3)} ms (whole run ${allP99.toFixed(3)} ms), errors ${swapped.errorCount} ${swapped.errors.slice(0, 3).join('; ')}`);
  rows.push({
    name: 'user-score at 5000 req/s during 2 hot swaps: p99 in the swap windows',
    baseline: 'steady p99 (part 2)',
    nativeNs: swapP99 * 1e6,
    baselineNs: steadyP99 * 1e6,
    speedup: steadyP99 / swapP99,
    extra: { swap_p99_ms: swapP99, whole_run_p99_ms: allP99, errors: swapped.errorCount, window_requests: inWindow.length, swap_ms: (windows[0]![1] - windows[0]![0]) },
  });

  // 4. Memory across 100 swaps.
  gc();
  const before = rssMb();
  const samples: number[] = [];
  const swapStart = performance.now();
  for (let i = 0; i < 100; i++) {
    await server.manager.swap('mlp-50@production', i % 2 === 0 ? 2 : 1);
    if (i % 25 === 24) {
      gc();
      samples.push(rssMb());
    }
  }
  const perSwapMs = (performance.now() - swapStart) / 100;
  gc();
  const after = rssMb();
  log(`100 swaps: RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MB (+${(after - before).toFixed(1)}), samples every 25: ${samples.map((s) => s.toFixed(1)).join(', ')}; ${perSwapMs.toFixed(1)} ms per swap`);
  rows.push({
    name: 'hot swap of mlp-50 (load + warm + switch + drain + unload), 100 times',
    baseline: 'itself (memory is the figure)',
    nativeNs: perSwapMs * 1e6,
    baselineNs: perSwapMs * 1e6,
    speedup: 1,
    extra: { rss_before_mb: before, rss_after_mb: after, rss_growth_mb: after - before, rss_growth_per_swap_kb: ((after - before) * 1024) / 100 },
  });

  await server.close();
  fixture.registry.close();
  rmSync(fixture.dir, { recursive: true, force: true });
  return rows;
}
