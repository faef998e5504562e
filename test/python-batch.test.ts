// A Python package in `fresco batch score` (docs/python-models.md): the same runner processes
// and environment as serving. 1,000 real flights scored by the CLI and by a running server over
// the client give identical float32 outputs, row for row; the model is a numpy logistic over the
// flights-delay plan's named columns (a DataFrame).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { FrescoClient } from '../src/client/index.js';
import { writeManifest } from '../src/models/index.js';
import { packageRoot } from '../src/package-root.js';
import { ModelRegistry } from '../src/registry/index.js';
import { FrescoServer } from '../src/serving/index.js';
import { sqlRows as sql } from './offline-helpers.js';
import { REQUIREMENTS } from './python-models-helpers.js';

const FLIGHTS = join(packageRoot(), 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
const ROWS = 1000;
let dir: string;

const MODEL = `
import numpy as np

class Model:
    def load(self, context):
        self.w = {"hour": np.float32(0.05), "is_evening": np.float32(0.4), "log_distance_std": np.float32(-0.3), "origin_ord": np.float32(0.7), "destination_hash64": np.float32(0.01)}

    def predict(self, frame):
        z = np.zeros(len(frame), dtype=np.float32) - np.float32(1)
        for column, weight in self.w.items():
            z += weight * frame[column].to_numpy(np.float32)
        return {"delay_probability": (1 / (1 + np.exp(-z))).astype(np.float32).reshape(-1, 1)}
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fresco-python-batch-'));
  const pkg = join(dir, 'pkg');
  mkdirSync(pkg);
  const flights = JSON.parse(readFileSync(join(packageRoot(), 'models', 'flights-delay', 'fresco.json'), 'utf8'));
  writeFileSync(join(pkg, 'model.py'), MODEL);
  writeFileSync(join(pkg, 'requirements.txt'), REQUIREMENTS);
  await writeManifest(pkg, { name: 'flights-py', backend: 'python', model: 'model.py', input_kind: 'dataframe', signature: flights.signature, plan: flights.plan });
  const registry = ModelRegistry.open(join(dir, 'registry'));
  try {
    await registry.register(pkg, { aliases: ['production'] });
  } finally {
    registry.close();
  }
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('fresco batch score and a running server give identical scores for a Python package, row for row', async () => {
  const input = join(dir, 'flights.parquet');
  await sql(`COPY (SELECT date, distance, origin, destination FROM (SELECT *, row_number() OVER () AS n FROM read_parquet('${FLIGHTS}')) WHERE n % 2999 = 0 ORDER BY n LIMIT ${ROWS}) TO '${input}' (FORMAT parquet)`);
  const out = join(dir, 'scores.parquet');
  const err: string[] = [];
  const code = await runCli(['node', 'fresco', 'batch', 'score', 'flights-py@production', '--registry', join(dir, 'registry'), '--input', input, '--output', out, '--part-rows', '700', '--batch-size', '300', '--workers', '2', '--no-progress'], { out: () => {}, err: (t) => void err.push(t) });
  expect(code, err.join('\n')).toBe(0);
  const scored = await sql<{ date: Date; distance: bigint | number | null; origin: string; destination: string; delay_probability: number }>(`SELECT date, distance, origin, destination, delay_probability FROM read_parquet('${out}')`);
  expect(scored).toHaveLength(ROWS);
  const offline = Float32Array.from(scored, (r) => r.delay_probability);
  expect(new Set(offline).size).toBeGreaterThan(100); // the model reads the columns: scores vary

  const registry = ModelRegistry.open(join(dir, 'registry'));
  const server = new FrescoServer({ port: 0, registry, models: ['flights-py@production'], logger: pino({ level: 'silent' }), syncIntervalMs: 0, defaults: { maxBatchSize: 128, timeoutMs: 60_000 } });
  const online = new Float32Array(ROWS);
  try {
    await server.start();
    const client = await FrescoClient.connect(`ws://127.0.0.1:${server.port}`, { timeoutMs: 60_000 });
    try {
      const requests = [];
      for (let at = 0; at < ROWS; at += 100) {
        const rows = scored.slice(at, at + 100).map((f) => ({ fields: { date: f.date.getTime(), distance: f.distance === null ? null : Number(f.distance), origin: f.origin, destination: f.destination } }));
        requests.push(client.predict('flights-py@production', { rows }).then((p) => online.set(p.outputs.delay_probability!.data as Float32Array, at)));
      }
      await Promise.all(requests);
    } finally {
      client.close();
    }
  } finally {
    await server.close();
    registry.close();
  }
  expect([...online]).toEqual([...offline]);
}, 600_000);
