// The TypeScript `custom` backend served (issue 20): model.ts runs in a worker thread, never on
// the event loop, behind the same batcher; predict() throwing fails that batch with
// FRESCO_ERR_PREDICT_FAILED; a version whose load() throws never takes traffic.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrescoClient } from '../src/client/index.js';
import { writeManifest } from '../src/models/index.js';
import { packageRoot } from '../src/package-root.js';
import { ModelRegistry } from '../src/registry/index.js';
import { FrescoServer } from '../src/serving/index.js';
import { admin, TOKEN } from './serving-helpers.js';

const MODEL = `
import { isMainThread } from 'node:worker_threads';

export function load(ctx: { dir: string }): { k: number } {
  return { k: 2 };
}

export function predict(state: { k: number }, inputs: { x: Float32Array }) {
  if (inputs.x[0] === -1) throw new Error('x[0] is -1, which this model refuses');
  return { y: inputs.x.map((v) => v * state.k), main: new Float32Array(inputs.x.length).fill(isMainThread ? 1 : 0) };
}
`;

async function writeCustom(dir: string, model: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.ts'), model);
  await writeManifest(dir, {
    name: 'ts-double',
    backend: 'custom',
    model: 'model.ts',
    input_kind: 'tensor',
    signature: { inputs: [{ name: 'x', dtype: 'float32', shape: ['batch'] }], outputs: [{ name: 'y', dtype: 'float32', shape: ['batch'] }, { name: 'main', dtype: 'float32', shape: ['batch'] }] },
  });
  return dir;
}

let root: string;
let registry: ModelRegistry;
let server: FrescoServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fresco-custom-models-'));
  registry = ModelRegistry.open(join(root, 'registry'));
  await registry.register(await writeCustom(join(root, 'v1'), MODEL), { aliases: ['production'] });
  await registry.register(join(packageRoot(), 'models', 'custom-threshold'), { aliases: ['production'] });
  server = new FrescoServer({ port: 0, registry, models: ['ts-double@production', 'custom-threshold@production'], adminToken: TOKEN, logger: pino({ level: 'silent' }), syncIntervalMs: 0, defaults: { timeoutMs: 30_000 } });
  await server.start();
}, 60_000);

afterAll(async () => {
  await server?.close();
  registry?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const kserve = async (model: string, data: number[]) => {
  const res = await fetch(`http://127.0.0.1:${server.port}/v2/models/${model}/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: model === 'ts-double' ? 'x' : 'score', datatype: 'FP32', shape: [data.length], data }] }), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as any };
};

describe('custom (TypeScript) models served', () => {
  it('answers over the RPC client and KServe v2, predict() running off the main thread', async () => {
    const client = await FrescoClient.connect(`ws://127.0.0.1:${server.port}`, { timeoutMs: 30_000 });
    try {
      const p = await client.predict('ts-double@production', { tensors: { x: { shape: [3], data: Float32Array.from([1, 2.5, -4]) } } });
      expect([...(p.outputs.y!.data as Float32Array)]).toEqual([2, 5, -8]);
      expect([...(p.outputs.main!.data as Float32Array)]).toEqual([0, 0, 0]);
    } finally {
      client.close();
    }
    const k = await kserve('ts-double', [3, 0.5]);
    expect(k.status).toBe(200);
    expect(k.body.outputs.find((o: { name: string }) => o.name === 'y').data).toEqual([6, 1]);
    // The example package (models/custom-threshold): 1 when a score reaches threshold.json's threshold.
    const t = await kserve('custom-threshold', [0.1, 0.9]);
    expect(t.status).toBe(200);
    expect(t.body.outputs[0].data).toEqual([0, 1]);
  });

  it('fails a batch whose predict() throws with FRESCO_ERR_PREDICT_FAILED and keeps serving', async () => {
    const k = await kserve('ts-double', [-1, 2]);
    expect(k.status).toBe(500);
    expect(JSON.stringify(k.body)).toContain('FRESCO_ERR_PREDICT_FAILED');
    expect(JSON.stringify(k.body)).toContain('x[0] is -1, which this model refuses');
    expect((await kserve('ts-double', [1])).status).toBe(200);
  });

  it('a new version whose load() throws never takes traffic: the old one keeps serving', async () => {
    const { version } = await registry.register(await writeCustom(join(root, 'v2'), MODEL.replace('return { k: 2 };', "throw new Error('state file corrupt');")));
    const r = await admin(server, 'POST', '/admin/models/ts-double%40production/swap', { version });
    expect(r.status).toBe(422);
    expect(JSON.stringify(r.body)).toContain('state file corrupt');
    const k = await kserve('ts-double', [3]);
    expect(k.status).toBe(200);
    expect(k.body.model_version).toBe('1');
    expect(k.body.outputs.find((o: { name: string }) => o.name === 'y').data).toEqual([6]);
  });
});
