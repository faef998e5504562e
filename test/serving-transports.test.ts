import { rmSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrescoClient, predictHttp } from '../src/client/index.js';
import { join } from 'node:path';
import { compilePlan, dictColumn } from '../src/plan/index.js';
import { packageRoot } from '../src/package-root.js';
import type { FrescoServer } from '../src/serving/index.js';
import { encodeFrame, decodeFrame } from '../src/serving/index.js';
import { type Fixture, makeServingFixture, row50, startServer, url } from './serving-helpers.js';

let fixture: Fixture;
let server: FrescoServer;
let client: FrescoClient;
let session: ort.InferenceSession;

beforeAll(async () => {
  fixture = await makeServingFixture(20);
  server = await startServer(fixture, { models: ['mlp-50@production', 'flights-delay', 'user-score'] });
  client = await FrescoClient.connect(url(server));
  session = await ort.InferenceSession.create(join(packageRoot(), 'models', 'mlp-50', 'model.onnx'));
});

afterAll(async () => {
  client?.close();
  await server?.close();
  fixture?.registry.close();
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

async function expected(x: Float32Array, rows: number): Promise<Float32Array> {
  const out = await session.run({ x: new ort.Tensor('float32', x, [rows, 50]) });
  return out.y!.data as Float32Array;
}

describe('serving transports', () => {
  it('answers a tensor model over the WebSocket, multiplexed', async () => {
    const inputs = [1, 2, 3, 4, 5, 6, 7, 8].map(row50);
    const answers = await Promise.all(inputs.map((x) => client.predict('mlp-50@production', { tensors: { x: { data: x, shape: [1, 50] } } })));
    for (const [i, a] of answers.entries()) {
      expect(a.model).toBe('mlp-50');
      expect(a.version).toBe(1);
      expect(a.outputs.y!.shape).toEqual([1, 1]);
      expect(a.outputs.y!.data[0]).toBeCloseTo((await expected(inputs[i]!, 1))[0]!, 5);
    }
  });

  it('answers several rows in one request, and over HTTP POST of one frame', async () => {
    const x = new Float32Array(150);
    x.set(row50(1), 0);
    x.set(row50(2), 50);
    x.set(row50(3), 100);
    const want = await expected(x, 3);
    const ws = await client.predict('mlp-50@production', { tensors: { x: { data: x, shape: [3, 50] } } });
    const http = await predictHttp(url(server), 'mlp-50@1', { tensors: { x: { data: x, shape: [3, 50] } } });
    for (const a of [ws, http]) {
      expect(a.outputs.y!.shape).toEqual([3, 1]);
      for (let i = 0; i < 3; i++) expect(a.outputs.y!.data[i]).toBeCloseTo(want[i]!, 5);
    }
  });

  it('runs a dataframe model: request fields through the frozen plan into the model', async () => {
    const fields = { date: Date.UTC(2001, 0, 5, 18, 30), distance: 2475, origin: 'LAX', destination: 'JFK' };
    const a = await client.predict('flights-delay', { rows: [{ fields }] });
    const pkg = await fixture.registry.materialize('flights-delay');
    const plan = compilePlan(pkg.manifest.plan);
    const matrix = plan.run([{ kind: 'f64', values: Float64Array.of(fields.date) }, { kind: 'f64', values: Float64Array.of(fields.distance) }, dictColumn(['LAX']), dictColumn(['JFK'])], 1);
    const s = await ort.InferenceSession.create(join(pkg.dir, 'model.onnx'));
    const want = (await s.run({ features: new ort.Tensor('float32', matrix, [1, 13]) })).delay_probability!.data as Float32Array;
    expect(a.outputs.delay_probability!.data[0]).toBeCloseTo(want[0]!, 5);
    await s.release();
  });

  it('looks features up by entity key and reports failing rows per row', async () => {
    const ok = await client.predict('user-score', { rows: [{ keys: { user: 'u3' } }, { keys: { user: 'u4' } }] });
    expect(ok.outputs.y!.shape).toEqual([2, 1]);
    expect(ok.rowStatus).toEqual([]);
    const mixed = await client.predict('user-score', { rows: [{ keys: { user: 'u3' } }, { keys: {} }] });
    expect(mixed.rowStatus.map((s) => s.status)).toEqual(['OK', 'INVALID_ARGUMENT']);
    expect(mixed.rowStatus[1]!.message).toMatch(/missing entity key "user"/);
    expect(mixed.outputs.y!.data[0]).toBeCloseTo(ok.outputs.y!.data[0] as number, 6);
    await expect(client.predict('user-score', { rows: [{ keys: { account: 'x' } }] })).rejects.toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID' });
  });

  it('answers bad requests with a stable code and the request id, and stays up', async () => {
    await expect(client.predict('nope', { tensors: { x: { data: row50(1), shape: [1, 50] } } })).rejects.toMatchObject({ code: 'FRESCO_ERR_MODEL_NOT_FOUND' });
    await expect(client.predict('mlp-50@production', { tensors: { x: { data: new Float32Array(49), shape: [1, 49] } } })).rejects.toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID', message: expect.stringMatching(/dimension 1 must be 50/) });
    await expect(client.predict('mlp-50@production', { tensors: { x: { data: new Float64Array(50), shape: [1, 50] } } })).rejects.toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID', message: expect.stringMatching(/dtype float64/) });
    await expect(client.predict('mlp-50@production', { tensors: { z: { data: row50(1), shape: [1, 50] } } })).rejects.toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID' });
    await expect(client.predict('flights-delay', { rows: [{ fields: { date: 1 } }] })).rejects.toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID', message: expect.stringMatching(/missing request field "distance"/) });
    await expect(client.predict('mlp-50@production', { tensors: { x: { data: row50(1), shape: [1, 50] } }, timeoutMs: 0.001 })).rejects.toMatchObject({ code: 'FRESCO_ERR_DEADLINE_EXCEEDED' });

    // A truncated frame over HTTP: 400 and an error frame.
    const frame = encodeFrame({ type: 'predict_request', id: 77, model: 'mlp-50', rows: [], tensors: [{ name: 'x', dtype: 'float32', shape: [1, 50], data: row50(1) }], timeoutUs: 0, outputs: [] });
    const res = await fetch(url(server, '/v1/predict'), { method: 'POST', body: frame.subarray(0, frame.length - 9) });
    expect(res.status).toBe(400);
    const err = decodeFrame(new Uint8Array(await res.arrayBuffer()));
    expect(err).toMatchObject({ type: 'error', status: 'INVALID_ARGUMENT', code: 'FRESCO_ERR_FRAME_INVALID' });
    // Wrong major version: refused, with the id it could read.
    const v2 = encodeFrame({ type: 'predict_request', id: 78, model: 'mlp-50', rows: [], tensors: [], timeoutUs: 0, outputs: [] }, { major: 2 });
    const res2 = await fetch(url(server, '/v1/predict'), { method: 'POST', body: v2 });
    expect(decodeFrame(new Uint8Array(await res2.arrayBuffer()))).toMatchObject({ id: 78, code: 'FRESCO_ERR_FRAME_INVALID', message: expect.stringMatching(/protocol version 2/) });
    // The same connection still answers.
    const a = await client.predict('mlp-50@production', { tensors: { x: { data: row50(1), shape: [1, 50] } } });
    expect(a.version).toBe(1);
  });

  it('refuses past the queue limit at once with RESOURCE_EXHAUSTED / 429', async () => {
    const tight = await startServer(fixture, { models: ['mlp-50'], defaults: { maxQueueRows: 1, maxBatchSize: 1, timeoutMs: 30_000 } });
    const c = await FrescoClient.connect(url(tight));
    const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => c.predict('mlp-50', { tensors: { x: { data: row50(i), shape: [1, 50] } } })));
    const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code));
    expect(codes).toContain('ok');
    expect(codes).toContain('FRESCO_ERR_RESOURCE_EXHAUSTED');
    expect(new Set(codes)).toEqual(new Set(['ok', 'FRESCO_ERR_RESOURCE_EXHAUSTED']));
    const x = row50(1);
    const frame = encodeFrame({ type: 'predict_request', id: 5, model: 'mlp-50', rows: [], tensors: [{ name: 'x', dtype: 'float32', shape: [1, 50], data: x }], timeoutUs: 0, outputs: [] });
    const statuses = await Promise.all(Array.from({ length: 200 }, () => fetch(url(tight, '/v1/predict'), { method: 'POST', body: frame }).then((r) => r.status)));
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    c.close();
    await tight.close();
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await fetch(url(server, '/v2/health/live'))).status).toBe(200);
    expect(await (await fetch(url(server, '/v2/health/ready'))).json()).toEqual({ ready: true });
    const text = await (await fetch(url(server, '/metrics'))).text();
    expect(text).toMatch(/fresco_requests_total\{model="mlp-50",version="1",transport="ws"\} \d+/);
    // An unknown model is counted under one label, not a series per name a client made up.
    expect(text).toMatch(/fresco_errors_total\{model="<unknown>",code="FRESCO_ERR_MODEL_NOT_FOUND"\} 1/);
    expect(text).not.toMatch(/model="nope"/);
    expect(text).toMatch(/fresco_request_duration_seconds_bucket/);
    expect(text).toMatch(/fresco_batch_size_rows_bucket/);
    expect(text).toMatch(/fresco_worker_utilization_ratio\{model="mlp-50",version="1"\}/);
  });
});
