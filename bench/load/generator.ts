/**
 * An open-loop load generator, run as a process of its own (bench/serving.ts forks it), so that
 * it never shares the server's event loop or heap: it sends `rate` requests per second on a
 * fixed schedule that does not wait for answers, and measures each request's latency from the
 * time it was *scheduled*, not the time it went out, so that a server (or a generator) that falls
 * behind shows up as latency instead of being hidden (coordinated omission).
 *
 * Sub-millisecond schedule: Node's timers have 1 ms granularity, which at 5,000 req/s would send
 * bursts of five every millisecond and add up to a millisecond of the generator's own lateness to
 * every latency. A timer thread sleeps in Atomics.wait (a futex with a microsecond timeout) until
 * each request is due and wakes this thread's event loop through Atomics.waitAsync; this thread
 * then sends every request that is due. How late each request went out is reported too
 * (`lateMs`), so generator lateness can be told apart from server latency.
 *
 * Transport: HTTP POST of a prebuilt body over `connections` keep-alive sockets (Fresco's frame, or
 * the baseline's JSON). WebSocket loads go through loadgen.ts (the Rust generator), which shares
 * these options and this result.
 *   fork('generator.js', { serialization: 'advanced' }) and send it the Options; it answers with
 *   { started: true } when the measured part (after the warm-up) begins, then with a LoadResult. Times are epoch milliseconds (performance.timeOrigin + now) so that the caller can
 *   line them up with its own events (hot swaps).
 */
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export interface GeneratorOptions {
  transport: 'ws' | 'http';
  /** ws://host:port (ws) or http://host:port/path (http). */
  url: string;
  rate: number;
  seconds: number;
  connections: number;
  /** ws (loadgen.ts): the model ref and what each request carries. */
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
  /** When each request was scheduled (epoch ms). */
  scheduledAt: Float64Array;
  /** Scheduled -> answered, ms (NaN for a failed request). */
  latency: Float64Array;
  /** Scheduled -> sent, ms: the generator's own lateness. */
  lateMs: Float64Array;
  errors: string[];
  errorCount: number;
  elapsedMs: number;
}

// ctrl[0]: requests due so far; ctrl[1]: stop; ctrl[2]: the timer thread runs; ctrl[3]: the
// start time (the Float64 at byte 16) has been set.
const TIMER = String.raw`
const { workerData } = require('node:worker_threads');
const ctrl = new Int32Array(workerData.sab);
const when = new Float64Array(workerData.sab, 16, 1);
const { intervalMs, total } = workerData;
const origin = performance.timeOrigin;
// Started before the schedule: a thread's start-up (tens of ms) must not make the first requests late.
Atomics.store(ctrl, 2, 1);
Atomics.notify(ctrl, 2);
while (Atomics.load(ctrl, 3) === 0) Atomics.wait(ctrl, 3, 0);
const start = when[0];
for (let i = 0; i < total && Atomics.load(ctrl, 1) === 0; i++) {
  const due = start + i * intervalMs;
  for (;;) {
    const left = due - (origin + performance.now());
    if (left <= 0) break;
    Atomics.wait(ctrl, 1, 0, left);
  }
  Atomics.store(ctrl, 0, i + 1);
  Atomics.notify(ctrl, 0);
}`;

// Atomics.waitAsync is in Node 20 (V8) but not in TypeScript's ES2023 lib.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;
const epochNow = () => performance.timeOrigin + performance.now();

type Sender = (i: number, done: (error?: string) => void) => void;

function httpSender(o: GeneratorOptions): { send: Sender; close: () => void } {
  const u = new URL(o.url);
  // Keep-alive sockets, at most `connections`: more requests than sockets wait in the agent's
  // queue, and that wait counts in their latency (measured from the schedule).
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections, maxFreeSockets: o.connections });
  const body = Buffer.from(o.body!);
  const headers = { 'content-type': o.contentType ?? 'application/octet-stream', 'content-length': String(body.byteLength) };
  return {
    send: (_i, answer) => {
      let answered = false;
      const done = (error?: string) => {
        if (!answered) answer(error);
        answered = true;
      };
      const req = request({ agent, host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers }, (res) => {
        res.on('data', () => {});
        res.on('end', () => done(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
      });
      req.on('error', (e) => done(e.message));
      // A stalled server fails the request (and the run goes on) instead of hanging the bench.
      req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')));
      req.end(body);
    },
    close: () => agent.destroy(),
  };
}

/**
 * One run: `warmupSeconds` then `seconds` on one continuous schedule (same connections, same
 * timer thread: a restart between the two showed as a stall of its own), figures for the second
 * part only. `onStarted` is called when the measured part's first request is due.
 */
export async function generate(o: GeneratorOptions, onStarted?: () => void): Promise<LoadResult> {
  if (o.transport !== 'http') throw new Error('generator.ts sends HTTP; WebSocket loads go through loadgen.ts');
  const { send, close } = httpSender(o);
  const skip = Math.round(o.rate * (o.warmupSeconds ?? 0));
  const total = skip + Math.round(o.rate * o.seconds);
  const intervalMs = 1000 / o.rate;
  const scheduledAt = new Float64Array(total);
  const latency = new Float64Array(total).fill(NaN);
  const lateMs = new Float64Array(total);
  const errors: string[] = [];
  let errorCount = 0;
  let done = 0;
  const sab = new SharedArrayBuffer(24);
  const ctrl = new Int32Array(sab, 0, 4);
  const timer = new Worker(TIMER, { eval: true, workerData: { sab, intervalMs, total } });
  // Wait until the timer thread runs, then give it the schedule's start.
  while (Atomics.load(ctrl, 2) === 0) {
    const w = waitAsync(ctrl, 2, 0);
    if (w.async) await w.value;
  }
  const start = epochNow() + 5;
  new Float64Array(sab, 16, 1)[0] = start;
  for (let i = 0; i < total; i++) scheduledAt[i] = start + i * intervalMs;
  Atomics.store(ctrl, 3, 1);
  Atomics.notify(ctrl, 3);
  const started = setTimeout(() => onStarted?.(), Math.max(0, start + skip * intervalMs - epochNow()));
  let next = 0;
  await new Promise<void>((resolve) => {
    const finish = (i: number) => (error?: string) => {
      if (error === undefined) latency[i] = epochNow() - (scheduledAt[i] as number);
      else {
        errorCount++;
        if (errors.length < 20) errors.push(error);
      }
      if (++done === total) resolve();
    };
    const pump = (): void => {
      const due = Atomics.load(ctrl, 0);
      for (; next < due; next++) {
        lateMs[next] = epochNow() - (scheduledAt[next] as number);
        send(next, finish(next));
      }
      if (next >= total) return;
      const w = waitAsync(ctrl, 0, due);
      if (w.async) void (w.value as Promise<string>).then(pump);
      else setImmediate(pump);
    };
    pump();
  });
  clearTimeout(started);
  Atomics.store(ctrl, 1, 1);
  Atomics.notify(ctrl, 1);
  await timer.terminate();
  close();
  const measured = scheduledAt[skip] ?? start;
  // Errors are counted over the whole run (a failed warm-up request is still a failure).
  return { scheduledAt: scheduledAt.slice(skip), latency: latency.slice(skip), lateMs: lateMs.slice(skip), errors, errorCount, elapsedMs: epochNow() - measured };
}

// As a forked process: one run per Options message, answered with its LoadResult.
if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.on('message', (o: GeneratorOptions) => {
    generate(o, () => process.send!({ started: true })).then(
      (result) => process.send!(result),
      (error: Error) => process.send!({ error: error.message }),
    );
  });
}
