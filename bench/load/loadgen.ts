/**
 * The open-loop loads of the serving benchmark, sent by fresco-loadgen (bench/load/loadgen/, a
 * small Rust program: one thread, one epoll, a timerfd at the request interval, prebuilt
 * requests; see its src/main.rs for why) in a process of its own: `rate` requests per second on
 * a fixed schedule that does not wait for answers, each request's latency measured from the
 * time it was *scheduled*, so that a server (or a generator) that falls behind shows up as
 * latency instead of being hidden (coordinated omission). How late each request went out is
 * reported too (`lateMs`). It costs the 2-core machine a few µs of CPU per request (a Node
 * generator took ~80) and adds no garbage collector's pauses of its own to what it measures.
 * Built on first use with cargo (release; a few seconds).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { toRequest, type PredictInput } from '../../src/client/index.js';
import { loadgenBinary, readResultFile, writeRequestFile } from '../../src/capacity/loadgen.js';
import { encodeFrame } from '../../src/serving/index.js';

export interface GeneratorOptions {
  /** ws: Fresco frames over WebSockets, many in flight per connection; http: POSTs of `body` over keep-alive sockets, one in flight each. */
  transport: 'ws' | 'http';
  /** ws://host:port/path or http://host:port/path. */
  url: string;
  rate: number;
  seconds: number;
  connections: number;
  /** ws: the model ref and what each request carries. */
  model?: string;
  kind?: 'tensor' | 'user';
  users?: number;
  /** http: the body and its content type. */
  body?: Uint8Array;
  contentType?: string;
  /** Seconds sent first on the same schedule whose figures are dropped (JIT, connections). */
  warmupSeconds?: number;
}

export interface LoadResult {
  /** When each request was scheduled (epoch ms, to line up with the caller's events: hot swaps). */
  scheduledAt: Float64Array;
  /** Scheduled -> answered, ms (NaN for a failed request). */
  latency: Float64Array;
  /** Scheduled -> handed to its connection, ms: the generator's own lateness (an HTTP request's
   *  wait for a free socket is not in it; it is in `latency`). */
  lateMs: Float64Array;
  errors: string[];
  /** Failed requests over the whole run, warm-up included (a failed warm-up request is still a failure). */
  errorCount: number;
  elapsedMs: number;
}

/**
 * The run's requests in the file format main.rs reads: ws, a Fresco frame per request (request i
 * has id i + 1); http, the one body every request sends.
 */
function writeRequests(o: GeneratorOptions, total: number, file: string): void {
  let bodies: Uint8Array[];
  if (o.transport === 'http') {
    if (!o.body) throw new Error('an http load needs a body');
    bodies = [o.body];
  } else {
    const x = Float32Array.from({ length: 50 }, (_, i) => (i % 7) / 7);
    const users = o.users ?? 1000;
    const input = (i: number): PredictInput => (o.kind === 'user' ? { rows: [{ keys: { user: `u${(i * 7919) % users}` } }] } : { tensors: { x: { data: x, shape: [1, 50] } } });
    bodies = Array.from({ length: total }, (_, i) => encodeFrame(toRequest(i + 1, o.model!, input(i), 5000)));
  }
  writeRequestFile(file, total, bodies);
}

export interface LoadgenRun {
  child: ChildProcess;
  /** Settles with the run's result once every request is answered, failed or timed out. */
  result: Promise<LoadResult>;
}

/** Starts one open-loop run; `onStarted` is called when the measured part (after the warm-up) begins. */
export function startLoadgen(o: GeneratorOptions, workDir: string, onStarted?: () => void): LoadgenRun {
  const skip = Math.round(o.rate * (o.warmupSeconds ?? 0));
  const total = skip + Math.round(o.rate * o.seconds);
  const framesFile = join(workDir, `loadgen-${process.pid}-frames.bin`);
  const outFile = join(workDir, `loadgen-${process.pid}-result.bin`);
  writeRequests(o, total, framesFile);
  // The frames (tens of MB) are garbage now: collect them before the run, so that this process's
  // own GC does not take a core from the server in the middle of it (with node --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  const u = new URL(o.url);
  const args = [o.transport, u.host, u.pathname, String(o.rate), String(o.connections), String(skip), framesFile, outFile, ...(o.contentType ? [o.contentType] : [])];
  const child = spawn(loadgenBinary(), args, { stdio: ['ignore', 'pipe', 'inherit'] });
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
    // 'close', not 'exit': the summary line may still be in the pipe when the process exits.
    child.once('close', (code) => {
      try {
        if (code !== 0) throw new Error(`fresco-loadgen exited with code ${code}`);
        const summary = JSON.parse(text.trim().split('\n').at(-1) ?? '') as { errorCount: number; errors: string[]; elapsedMs: number };
        const { scheduledAt, latency, lateMs } = readResultFile(outFile, total, skip);
        resolve({ scheduledAt, latency, lateMs, errors: summary.errors, errorCount: summary.errorCount, elapsedMs: summary.elapsedMs });
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
