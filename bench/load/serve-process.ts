/**
 * A server under test in a process of its own, so that the load generator (wrk, or
 * load/loadgen.ts in another process) never shares its event loop or heap, and Fresco and the
 * Fastify baseline run under the same conditions. Started by bench/serving.ts with `fork`:
 *   node dist/bench/load/serve-process.js fresco|fastify
 * It sends { type: 'listening', port } once ready, then answers commands over the IPC channel:
 *   { cmd: 'swap', ref, version } -> { type: 'swapped', ms }       (Fresco: hot swap in place)
 *   { cmd: 'rss', gc? }           -> { type: 'rss', mb }
 *   { cmd: 'pauses' }             -> { type: 'pauses', gc: [epoch ms, ms, kind][] }  (GC pauses of 1 ms
 *                                    or more since the last ask; kind as perf_hooks' gc entries)
 *   { cmd: 'close' }              -> { type: 'closed' }, then exits
 * Fresco serves the serving fixture (load/fixtures.ts): mlp-50@production and user-score@production,
 * user-score's features read from the embedded online store.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import pino from 'pino';
import { packageRoot } from '../../src/package-root.js';
import { FrescoServer } from '../../src/serving/index.js';
import { startFastifyBaseline } from './fastify-baseline.js';
import { makeServingFixture } from './fixtures.js';

// A bench that dies leaves no server behind: the IPC channel's end is this process's end.
process.on('disconnect', () => process.exit(0));

type Command = { cmd: 'swap'; ref: string; version: number } | { cmd: 'rss'; gc?: boolean } | { cmd: 'pauses' } | { cmd: 'close' };

// Started by hand (no IPC channel): the messages go to stdout, and the server runs until killed.
const send = (m: unknown) => (process.send ? process.send(m) : console.log(JSON.stringify(m)));
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const kind = process.argv[2];
// Exit normally on a signal, so that `node --cpu-prof` writes its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));

if (kind === 'fastify') {
  const fastify = await startFastifyBaseline(join(packageRoot(), 'models', 'mlp-50', 'model.onnx'));
  process.on('message', (m: Command) => {
    if (m.cmd === 'rss') {
      if (m.gc) gc();
      send({ type: 'rss', mb: process.memoryUsage().rss / 2 ** 20 });
    } else if (m.cmd === 'close') {
      void fastify.close().then(() => {
        send({ type: 'closed' });
        process.exit(0);
      });
    }
  });
  send({ type: 'listening', port: fastify.port });
} else if (kind === 'fresco') {
  const fixture = await makeServingFixture(10_000, { store: 'embedded' });
  const server = await new FrescoServer({
    port: 0,
    registry: fixture.registry,
    lookup: fixture.lookup,
    models: ['mlp-50@production', 'user-score@production'],
    defaults: { maxBatchSize: 64, instances: 1, timeoutMs: 5000, maxQueueRows: 16384 },
    logger: pino({ level: 'warn' }),
    syncIntervalMs: 0,
    prioritizeServing: true, // as `fresco serve` runs
  }).start();
  // The event loop's garbage-collection pauses, for the swap diagnostics (bench/serving.ts).
  const pauses: [number, number, number][] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.duration >= 1) pauses.push([performance.timeOrigin + e.startTime, e.duration, ((e as { detail?: { kind?: number } }).detail?.kind ?? 0)]);
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (m: Command) => {
    if (m.cmd === 'pauses') {
      send({ type: 'pauses', gc: pauses.splice(0) });
    } else if (m.cmd === 'swap') {
      const t0 = performance.now();
      server.manager.swap(m.ref, m.version).then(
        () => send({ type: 'swapped', ms: performance.now() - t0 }),
        (e: Error) => send({ type: 'swapped', ms: performance.now() - t0, error: e.message }),
      );
    } else if (m.cmd === 'rss') {
      if (m.gc) gc();
      send({ type: 'rss', mb: process.memoryUsage().rss / 2 ** 20 });
    } else if (m.cmd === 'close') {
      void server.close().then(async () => {
        await fixture.store?.close();
        fixture.registry.close();
        rmSync(fixture.dir, { recursive: true, force: true });
        send({ type: 'closed' });
        process.exit(0);
      });
    }
  });
  send({ type: 'listening', port: server.port });
} else {
  console.error('usage: serve-process.js fresco|fastify');
  process.exit(2);
}
