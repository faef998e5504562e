/**
 * The WebSocket load of the serving benchmark, sent by fresco-loadgen (bench/load/loadgen/, a
 * small Rust program: one thread, one epoll, a timerfd at the request interval, prebuilt frames;
 * see its src/main.rs for why). Same options and result as the Node generator (generator.ts),
 * which keeps the HTTP loads: the Rust one costs the 2-core machine a few µs of CPU per request
 * instead of ~80, and adds no garbage collector's pauses of its own to the latencies it measures.
 * Built on first use with cargo (release; a few seconds).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toRequest, type PredictInput } from '../../src/client/index.js';
import { packageRoot } from '../../src/package-root.js';
import { encodeFrame } from '../../src/serving/index.js';
import type { GeneratorOptions, LoadResult } from './generator.js';

let built: string | undefined;

/** Builds fresco-loadgen once per process and returns its path. */
export function loadgenBinary(): string {
  if (built) return built;
  const dir = join(packageRoot(), 'bench', 'load', 'loadgen');
  const cargo = spawnSync('cargo', ['build', '--release', '--quiet', '--manifest-path', join(dir, 'Cargo.toml')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (cargo.status !== 0) throw new Error(`cargo build of ${dir} failed (exit ${cargo.status ?? cargo.error?.message})`);
  return (built = join(dir, 'target', 'release', 'fresco-loadgen'));
}

/** Every request of the run as a Fresco frame (request i has id i + 1), in the file format main.rs reads. */
function writeFrames(o: GeneratorOptions, total: number, file: string): void {
  const x = Float32Array.from({ length: 50 }, (_, i) => (i % 7) / 7);
  const users = o.users ?? 1000;
  const input = (i: number): PredictInput => (o.kind === 'user' ? { rows: [{ keys: { user: `u${(i * 7919) % users}` } }] } : { tensors: { x: { data: x, shape: [1, 50] } } });
  const frames = Array.from({ length: total }, (_, i) => encodeFrame(toRequest(i + 1, o.model!, input(i), 5000)));
  const out = Buffer.alloc(4 + frames.reduce((n, f) => n + 4 + f.byteLength, 0));
  out.writeUInt32LE(total, 0);
  let at = 4;
  for (const f of frames) {
    out.writeUInt32LE(f.byteLength, at);
    out.set(f, at + 4);
    at += 4 + f.byteLength;
  }
  writeFileSync(file, out);
}

export interface LoadgenRun {
  child: ChildProcess;
  /** Settles with the run's result once every request is answered, failed or timed out. */
  result: Promise<LoadResult>;
}

/** Starts one open-loop run over WebSockets; `onStarted` is called when the measured part begins. */
export function startLoadgen(o: GeneratorOptions, workDir: string, onStarted?: () => void): LoadgenRun {
  const skip = Math.round(o.rate * (o.warmupSeconds ?? 0));
  const total = skip + Math.round(o.rate * o.seconds);
  const framesFile = join(workDir, `loadgen-${process.pid}-frames.bin`);
  const outFile = join(workDir, `loadgen-${process.pid}-result.bin`);
  writeFrames(o, total, framesFile);
  // The frames (tens of MB) are garbage now: collect them before the run, so that this process's
  // own GC does not take a core from the server in the middle of it (with node --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  const u = new URL(o.url);
  const child = spawn(loadgenBinary(), [u.host, u.pathname, String(o.rate), String(o.connections), String(skip), framesFile, outFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const result = new Promise<LoadResult>((resolve, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      if (text.startsWith('started\n') && onStarted) {
        onStarted();
        onStarted = undefined;
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`fresco-loadgen exited with code ${code}`);
        const summary = JSON.parse(text.slice(text.lastIndexOf('{'))) as { errorCount: number; errors: string[]; elapsedMs: number };
        const all = new Float64Array(new Uint8Array(readFileSync(outFile)).buffer); // copied: aligned for f64
        const part = (k: number) => all.slice(k * total + skip, (k + 1) * total);
        resolve({ scheduledAt: part(0), latency: part(1), lateMs: part(2), errors: summary.errors, errorCount: summary.errorCount, elapsedMs: summary.elapsedMs });
      } catch (e) {
        reject(e as Error);
      } finally {
        rmSync(framesFile, { force: true });
        rmSync(outFile, { force: true });
      }
    });
  });
  return { child, result };
}
