/**
 * The hand-over alone: what does one batch cost to move main thread -> inference worker -> main
 * thread, against a raw SharedArrayBuffer + Atomics ping-pong between the same two threads?
 *   raw-sync:   main blocks in Atomics.wait (the floor; the event loop cannot do this)
 *   raw-async:  main awaits Atomics.waitAsync (what the pool did)
 *   pool:       InferenceWorker.run through the real code path, mlp-50, one row
 *   ort-main:   session.run awaited on the main thread (the model's own cost, plus its setImmediate)
 * Each runs sequentially (one in flight), with and without an idle uWS app listening (the event
 * loop then sleeps in epoll between events). Run: node dist/bench/load/handover.js [iterations]
 * [case-prefix,...]; bench/serving.ts reports the pool against raw-async as one row.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { packageRoot } from '../../src/package-root.js';
import { InferenceWorker } from '../../src/serving/pool/inference-worker.js';

let N = Number(process.argv[2] ?? 20000);
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

const PONG = String.raw`
const { workerData } = require('node:worker_threads');
const ctrl = new Int32Array(workerData.sab);
const spin = workerData.spin;
for (;;) {
  let s = Atomics.load(ctrl, 0);
  for (let i = 0; s !== 1 && s !== 9 && i < spin; i++) s = Atomics.load(ctrl, 0);
  if (s === 9) break;
  if (s !== 1) { Atomics.wait(ctrl, 0, s); continue; }
  Atomics.store(ctrl, 0, 2);
  Atomics.notify(ctrl, 0);
}`;

function pong(spin: number): { ctrl: Int32Array; worker: Worker } {
  const sab = new SharedArrayBuffer(64);
  const worker = new Worker(PONG, { eval: true, workerData: { sab, spin } });
  return { ctrl: new Int32Array(sab), worker };
}

async function stop(p: { ctrl: Int32Array; worker: Worker }): Promise<void> {
  Atomics.store(p.ctrl, 0, 9);
  Atomics.notify(p.ctrl, 0);
  await new Promise((r) => p.worker.once('exit', r));
}

function stats(samples: Float64Array): string {
  const s = Array.from(samples).sort((a, b) => a - b);
  const q = (p: number) => (s[Math.min(s.length - 1, Math.floor(p * s.length))] as number) * 1000;
  const mean = (s.reduce((a, b) => a + b, 0) / s.length) * 1000;
  return `mean ${mean.toFixed(1)} µs  p50 ${q(0.5).toFixed(1)}  p99 ${q(0.99).toFixed(1)}  p99.9 ${q(0.999).toFixed(1)}`;
}

async function rawSync(spin: number): Promise<Float64Array> {
  const p = pong(spin);
  await new Promise((r) => setTimeout(r, 50));
  const t = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    Atomics.store(p.ctrl, 0, 1);
    Atomics.notify(p.ctrl, 0);
    while (Atomics.load(p.ctrl, 0) === 1) Atomics.wait(p.ctrl, 0, 1, 10);
    Atomics.store(p.ctrl, 0, 0);
    t[i] = performance.now() - t0;
  }
  await stop(p);
  return t;
}

async function rawAsync(spin: number): Promise<Float64Array> {
  const p = pong(spin);
  await new Promise((r) => setTimeout(r, 50));
  const t = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    Atomics.store(p.ctrl, 0, 1);
    Atomics.notify(p.ctrl, 0);
    while (Atomics.load(p.ctrl, 0) === 1) {
      const w = waitAsync(p.ctrl, 0, 1);
      if (w.async) await w.value;
    }
    Atomics.store(p.ctrl, 0, 0);
    t[i] = performance.now() - t0;
  }
  await stop(p);
  return t;
}

async function pool(modelPath: string): Promise<Float64Array> {
  const w = new InferenceWorker({ modelPath, providers: ['cpu'], intraOpThreads: 1, inputNames: ['x'], outputNames: ['y'], slotBytes: 1 << 20 });
  await w.ready;
  const x = new Uint8Array(new Float32Array(50).fill(0.5).buffer);
  const input = { dtype: 'float32', shape: [1, 50], byteLength: x.byteLength, write: (target: Uint8Array) => target.set(x) };
  for (let i = 0; i < 1000; i++) await w.run(1, [input]);
  const t = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await w.run(1, [input]);
    t[i] = performance.now() - t0;
  }
  await w.close();
  return t;
}

async function ortMain(modelPath: string): Promise<Float64Array> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const x = new ort.Tensor('float32', new Float32Array(50).fill(0.5), [1, 50]);
  for (let i = 0; i < 1000; i++) await session.run({ x });
  const t = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await session.run({ x });
    t[i] = performance.now() - t0;
  }
  await session.release();
  return t;
}

export interface HandoverStats {
  meanUs: number;
  p50Us: number;
  p99Us: number;
  /**
   * Growth of V8's old generation per round trip, in bytes. Atomics.waitAsync leaves about 120 bytes
   * there on every call that waits, collected only by a major GC: at 5,000 batches/s a major GC
   * every few seconds, whose marking costs the event loop milliseconds (docs/serving.md).
   */
  oldBytesPerOp: number;
}

const oldSpaceUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? NaN;

/** Runs a measurement and records how much the old generation grew per iteration meanwhile. */
async function withOldGrowth(run: () => Promise<Float64Array>): Promise<HandoverStats> {
  const before = oldSpaceUsed();
  const samples = await run();
  const grown = oldSpaceUsed() - before;
  // Shrunk: a major GC ran meanwhile, and the growth is unknown.
  return { ...summary(samples), oldBytesPerOp: grown >= 0 ? grown / samples.length : NaN };
}

function summary(samples: Float64Array): Omit<HandoverStats, 'oldBytesPerOp'> {
  const s = Array.from(samples).sort((a, b) => a - b);
  const q = (p: number) => (s[Math.min(s.length - 1, Math.floor(p * s.length))] as number) * 1000;
  return { meanUs: (s.reduce((a, b) => a + b, 0) / s.length) * 1000, p50Us: q(0.5), p99Us: q(0.99) };
}

/** One row's figures for bench/serving.ts: the pool's round trip against the raw waitAsync ping-pong. */
export async function measureHandover(iterations: number): Promise<{ raw: HandoverStats; pool: HandoverStats; ortMain: HandoverStats }> {
  const modelPath = join(packageRoot(), 'models', 'mlp-50', 'model.onnx');
  const saved = N;
  N = iterations;
  try {
    return { raw: await withOldGrowth(() => rawAsync(0)), pool: await withOldGrowth(() => pool(modelPath)), ortMain: await withOldGrowth(() => ortMain(modelPath)) };
  } finally {
    N = saved;
  }
}

async function main(): Promise<void> {
  const modelPath = join(packageRoot(), 'models', 'mlp-50', 'model.onnx');
  const uWS = createRequire(import.meta.url)('uWebSockets.js') as typeof import('uWebSockets.js');
  const only = process.argv[3]?.split(',');
  const cases: [string, () => Promise<Float64Array>][] = [
    ['raw-sync (Atomics.wait on main)', () => rawSync(0)],
    ['raw-async (waitAsync on main)', () => rawAsync(0)],
    ['raw-async, worker spins 20k loads', () => rawAsync(20000)],
    ['pool: InferenceWorker.run mlp-50 1 row', () => pool(modelPath)],
    ['ort-main: await session.run on main', () => ortMain(modelPath)],
  ];
  for (const withUws of [false, true]) {
    let listen: unknown;
    if (withUws) {
      const app = uWS.App().get('/*', (res) => void res.end('ok'));
      await new Promise<void>((r) => app.listen('127.0.0.1', 0, (s) => { listen = s; r(); }));
    }
    for (const [name, fn] of cases) {
      if (only && !only.some((o) => name.startsWith(o))) continue;
      console.log(`${withUws ? '[uWS listening] ' : ''}${name.padEnd(40)} ${stats(await fn())}`);
    }
    if (listen) uWS.us_listen_socket_close(listen as never);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
