/**
 * An open-loop load generator, run in a worker thread so that it has its own event loop: it
 * sends `rate` requests per second over `connections` WebSockets (FrescoClient), on a fixed
 * schedule that does not wait for answers (so a slow server shows up as latency, not as a lower
 * rate), and reports each request's latency with its send time.
 *   workerData: { url, model, rate, seconds, connections, kind: 'tensor' | 'user', users }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FrescoClient, type PredictInput } from '../../src/client/index.js';

interface Options {
  url: string;
  model: string;
  rate: number;
  seconds: number;
  connections: number;
  kind: 'tensor' | 'user';
  users: number;
}

const o = workerData as Options;
const clients = await Promise.all(Array.from({ length: o.connections }, () => FrescoClient.connect(o.url, { timeoutMs: 5000 })));
const x = Float32Array.from({ length: 50 }, (_, i) => (i % 7) / 7);
const input = (i: number): PredictInput =>
  o.kind === 'user' ? { rows: [{ keys: { user: `u${i % o.users}` } }] } : { tensors: { x: { data: x, shape: [1, 50] } } };

const total = Math.round(o.rate * o.seconds);
const sentAt = new Float64Array(total);
const latency = new Float64Array(total).fill(NaN);
const errors: string[] = [];
let done = 0;
const start = performance.now();
let next = 0;
await new Promise<void>((resolve) => {
  const tick = () => {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) / 1000) * o.rate));
    for (; next < due; next++) {
      const i = next;
      const t0 = performance.now();
      sentAt[i] = t0 - start;
      clients[i % clients.length]!.predict(o.model, input(i)).then(
        () => {
          latency[i] = performance.now() - t0;
          if (++done === total) resolve();
        },
        (e: { code?: string; message?: string }) => {
          errors.push(`${e.code}: ${e.message}`);
          if (++done === total) resolve();
        },
      );
    }
    // A 1 ms timer, not setImmediate: a spinning generator would take a whole core from the server.
    if (next < total) setTimeout(tick, 1);
  };
  tick();
});
for (const c of clients) c.close();
parentPort!.postMessage({ sentAt, latency, errors: errors.slice(0, 20), errorCount: errors.length, elapsedMs: performance.now() - start });
