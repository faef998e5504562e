// Offline/online parity (issue 9): the same 2,000 real flights scored by `fresco batch score`
// (the CLI, files in, files out) and by a running FrescoServer over the client (`fresco/client`,
// 100 rows per request, pipelined on one WebSocket) give bit-for-bit identical float32 outputs.
// Both run the registered flights-delay package: its frozen plan natively and its ONNX model in
// ONNX Runtime, batch in its worker pool and serving in its workers, on differently sized batches.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { FrescoClient } from '../src/client/index.js';
import { packageRoot } from '../src/package-root.js';
import { ModelRegistry } from '../src/registry/index.js';
import { FrescoServer } from '../src/serving/index.js';
import { sqlRows as sql } from './offline-helpers.js';

const FLIGHTS = join(packageRoot(), 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
const ROWS = 2000;
const PER_REQUEST = 100;
let dir: string;


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fresco-parity-'));
  const registry = ModelRegistry.open(join(dir, 'registry'));
  try {
    await registry.register(join(packageRoot(), 'models', 'flights-delay'), { aliases: ['production'] });
  } finally {
    registry.close();
  }
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Flight {
  date: Date;
  distance: bigint | number | null;
  origin: string;
  destination: string;
}

it('fresco batch score and a running server give bit-for-bit identical scores for 2,000 real flights', async () => {
  // Real flights from across the year (every 1,499th), so dates, routes and distances vary.
  const input = join(dir, 'flights.parquet');
  await sql(`COPY (SELECT date, distance, origin, destination FROM (SELECT *, row_number() OVER () AS n FROM read_parquet('${FLIGHTS}')) WHERE n % 1499 = 0 ORDER BY n LIMIT ${ROWS}) TO '${input}' (FORMAT parquet)`);
  const flights = await sql<Flight>(`SELECT * FROM read_parquet('${input}')`);
  expect(flights.length).toBe(ROWS);
  expect(new Set(flights.map((f) => f.origin)).size).toBeGreaterThan(50);

  // Offline: the CLI, as a user runs it.
  const out = join(dir, 'scores.parquet');
  const err: string[] = [];
  const code = await runCli(['node', 'fresco', 'batch', 'score', 'flights-delay@production', '--registry', join(dir, 'registry'), '--input', input, '--output', out, '--part-rows', '1500', '--batch-size', '700', '--no-progress'], {
    out: () => {},
    err: (t) => void err.push(t),
  });
  expect(code, err.join('\n')).toBe(0);
  const [type] = await sql<{ column_type: string }>(`SELECT column_type FROM (DESCRIBE SELECT delay_probability FROM read_parquet('${out}'))`);
  expect(type!.column_type).toBe('FLOAT'); // stored as float32: read back exactly
  const scored = await sql<Flight & { delay_probability: number }>(`SELECT date, distance, origin, destination, delay_probability FROM read_parquet('${out}')`);
  expect(scored.map((r) => [r.date.getTime(), r.origin, r.destination])).toEqual(flights.map((r) => [r.date.getTime(), r.origin, r.destination]));
  const offline = Float32Array.from(scored, (r) => r.delay_probability);

  // Online: a running server, the client, request fields date (epoch ms), distance, origin, destination.
  const registry = ModelRegistry.open(join(dir, 'registry'));
  const server = new FrescoServer({ port: 0, registry, models: ['flights-delay@production'], logger: pino({ level: 'silent' }), syncIntervalMs: 0, defaults: { maxBatchSize: 128, timeoutMs: 60_000 } });
  const online = new Float32Array(ROWS);
  try {
    await server.start();
    const client = await FrescoClient.connect(`ws://127.0.0.1:${server.port}`, { timeoutMs: 60_000 });
    try {
      const requests = [];
      for (let at = 0; at < ROWS; at += PER_REQUEST) {
        const rows = flights.slice(at, at + PER_REQUEST).map((f) => ({
          fields: { date: f.date.getTime(), distance: f.distance === null ? null : Number(f.distance), origin: f.origin, destination: f.destination },
        }));
        requests.push(
          client.predict('flights-delay@production', { rows }).then((p) => {
            expect(p.rowStatus).toEqual([]);
            expect(p.outputs.delay_probability!.shape).toEqual([rows.length, 1]);
            online.set(p.outputs.delay_probability!.data as Float32Array, at);
          }),
        );
      }
      await Promise.all(requests);
    } finally {
      client.close();
    }
  } finally {
    await server.close();
    registry.close();
  }

  // Scores that mean something (not all equal, none NaN), then equal bit for bit.
  expect(online.every((x) => x > 0 && x < 1)).toBe(true);
  expect(new Set(online).size).toBeGreaterThan(100);
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  expect(bits(online)).toEqual(bits(offline));
}, 120_000);
