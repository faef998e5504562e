/**
 * Triton's HTTP extensions to KServe v2 (src/serving/triton.ts), as plain HTTP: the model
 * configuration, statistics and repository extensions, the server metadata that lists them, and
 * compressed request bodies. test/serving-triton-client.test.ts drives the same endpoints with
 * Triton's own Python client and perf_analyzer.
 */
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrescoServer } from '../src/serving/index.js';
import { type Fixture, makeServingFixture, row50, startServer, TOKEN, url } from './serving-helpers.js';

let fixture: Fixture;
let server: FrescoServer;

beforeAll(async () => {
  fixture = await makeServingFixture(10);
  // A small body limit, so that a zip bomb is cheap to send here.
  server = await startServer(fixture, { models: ['mlp-50@production', 'flights-delay'], maxFrameBytes: 1 << 20 });
});

afterAll(async () => {
  await server?.close();
  fixture?.registry.close();
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

const get = async (path: string) => {
  const res = await fetch(url(server, path));
  return { status: res.status, body: (await res.json()) as any };
};
const post = async (path: string, body: string | Uint8Array = '', headers: Record<string, string> = {}) => {
  const res = await fetch(url(server, path), { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as any };
};
const inferBody = (rows: number, seed = 1) => JSON.stringify({ inputs: [{ name: 'x', shape: [rows, 50], datatype: 'FP32', data: Array.from({ length: rows }, (_, r) => Array.from(row50(seed + r))) }] });

describe('server metadata', () => {
  it('lists the extensions served', async () => {
    const { body } = await get('/v2');
    expect(body.extensions).toEqual(expect.arrayContaining(['binary_tensor_data', 'model_configuration', 'statistics', 'model_repository']));
  });
});

describe('model configuration extension', () => {
  it("answers Triton's ModelConfig for a tensor model: batching, inputs and outputs without the batch dimension, instances", async () => {
    const { status, body } = await get('/v2/models/mlp-50/config');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      name: 'mlp-50',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      max_batch_size: 64,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [50] }],
      output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [1] }],
      instance_group: [{ kind: 'KIND_CPU', count: 1 }],
      dynamic_batching: { max_queue_delay_microseconds: 0, default_queue_policy: { default_timeout_microseconds: 30_000_000 } },
      default_model_filename: 'model.onnx',
    });
    expect((await get('/v2/models/mlp-50/versions/1/config')).body.name).toBe('mlp-50');
  });

  it('describes a dataframe model by the columns its metadata lists, one value per row', async () => {
    const config = (await get('/v2/models/flights-delay/config')).body;
    const meta = (await get('/v2/models/flights-delay')).body;
    expect(config.max_batch_size).toBe(64);
    expect(config.input.map((i: { name: string }) => i.name)).toEqual(meta.inputs.map((i: { name: string }) => i.name));
    for (const i of config.input) expect(i).toMatchObject({ dims: [1], reshape: { shape: [] } });
    expect(config.parameters.input_kind).toEqual({ string_value: 'dataframe' });
  });

  it('refuses a model or version that is not loaded', async () => {
    expect((await get('/v2/models/nope/config')).status).toBe(404);
    expect((await get('/v2/models/mlp-50/versions/7/config')).body.code).toBe('FRESCO_ERR_MODEL_NOT_FOUND');
  });
});

describe('statistics extension', () => {
  it('counts requests, rows, batches and their durations per version, and failures apart', async () => {
    const before = (await get('/v2/models/mlp-50/versions/1/stats')).body.model_stats[0];
    for (let i = 0; i < 3; i++) expect((await post('/v2/models/mlp-50/infer', inferBody(2, i))).status).toBe(200);
    expect((await post('/v2/models/mlp-50/infer', JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }))).status).toBe(400);
    const { status, body } = await get('/v2/models/mlp-50/versions/1/stats');
    expect(status).toBe(200);
    const s = body.model_stats[0];
    expect(s).toMatchObject({ name: 'mlp-50', version: '1' });
    const delta = (path: (x: any) => number) => path(s) - path(before);
    expect(delta((x) => x.inference_count)).toBe(6);
    expect(delta((x) => x.inference_stats.success.count)).toBe(3);
    expect(delta((x) => x.inference_stats.fail.count)).toBe(1);
    for (const k of ['queue', 'compute_input', 'compute_infer', 'compute_output']) expect(delta((x) => x.inference_stats[k].count), k).toBe(3);
    expect(s.inference_stats.success.ns).toBeGreaterThan(0);
    expect(s.inference_stats.compute_infer.ns).toBeGreaterThan(0);
    expect(s.inference_stats).toMatchObject({ cache_hit: { count: 0, ns: 0 }, cache_miss: { count: 0, ns: 0 } });
    expect(delta((x) => x.execution_count)).toBeGreaterThanOrEqual(1);
    // Each batch once, by its size.
    const batches = s.batch_stats as { batch_size: number; compute_infer: { count: number } }[];
    expect(batches.reduce((a, b) => a + b.compute_infer.count, 0)).toBe(s.execution_count);
    expect(batches.reduce((a, b) => a + b.batch_size * b.compute_infer.count, 0)).toBe(s.inference_count);
    expect(s.last_inference).toBeGreaterThan(Date.now() - 600_000);
  });

  it('answers every loaded version, one model, or 404', async () => {
    const all = (await get('/v2/models/stats')).body.model_stats.map((m: { name: string; version: string }) => `${m.name}@${m.version}`);
    expect(all).toEqual(['flights-delay@1', 'mlp-50@1']);
    expect((await get('/v2/models/flights-delay/stats')).body.model_stats).toHaveLength(1);
    expect((await get('/v2/models/nope/stats')).status).toBe(404);
  });
});

describe('repository extension', () => {
  it('indexes loaded versions with their state and registry models that are not loaded', async () => {
    const { status, body } = await post('/v2/repository/index');
    expect(status).toBe(200);
    expect(body).toEqual([
      { name: 'flights-delay', version: '1', state: 'READY' },
      { name: 'mlp-50', version: '1', state: 'READY' },
      { name: 'user-score', state: 'UNAVAILABLE', reason: 'not loaded' },
    ]);
    expect((await post('/v2/repository/index', JSON.stringify({ ready: true }))).body.map((e: { name: string }) => e.name)).toEqual(['flights-delay', 'mlp-50']);
    expect((await post('/v2/repository/index', JSON.stringify({ ready: 'yes' }))).status).toBe(400);
  });

  it('loads and unloads only with the admin token', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const refused = await post('/v2/repository/models/mlp-50@candidate/load', '{}');
    expect(refused).toMatchObject({ status: 401, body: { code: 'FRESCO_ERR_UNAUTHORIZED' } });
    expect((await post('/v2/repository/models/mlp-50@candidate/load', '{}', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect(server.manager.servedRefs().map((s) => s.ref)).not.toContain('mlp-50@candidate');

    const loaded = await post(`/v2/repository/models/${encodeURIComponent('mlp-50@candidate')}/load`, '{}', auth);
    expect(loaded).toMatchObject({ status: 200, body: { model: 'mlp-50', version: '2', state: 'READY' } });
    expect((await get('/v2/models/mlp-50/versions/2/config')).status).toBe(200);
    expect((await post('/v2/repository/index')).body).toContainEqual({ name: 'mlp-50', version: '2', state: 'READY' });

    expect((await post('/v2/repository/models/mlp-50@candidate/unload', JSON.stringify({ parameters: { unload_dependents: false } }))).status).toBe(401);
    const unloaded = await post('/v2/repository/models/mlp-50@candidate/unload', JSON.stringify({ parameters: { unload_dependents: false } }), auth);
    expect(unloaded).toMatchObject({ status: 200, body: { unloaded: ['mlp-50@candidate'] } });
    expect((await get('/v2/models/mlp-50/versions/2/config')).status).toBe(404);
    expect(server.manager.servedRefs().map((s) => s.ref)).toEqual(['mlp-50@production', 'flights-delay']);
  });

  it('says clearly what it cannot do', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const notServed = await post('/v2/repository/models/user-score/unload', '', auth);
    expect(notServed).toMatchObject({ status: 404, body: { code: 'FRESCO_ERR_MODEL_NOT_FOUND' } });
    expect(notServed.body.error).toMatch(/"user-score" is not served; served: mlp-50@production, flights-delay/);
    const config = await post('/v2/repository/models/user-score/load', JSON.stringify({ parameters: { config: '{}' } }), auth);
    expect(config).toMatchObject({ status: 400, body: { code: 'FRESCO_ERR_INVALID_ARGUMENT' } });
    expect(config.body.error).toMatch(/load parameter "config" is not supported/);
    expect((await post('/v2/repository/models/nope/load', '', auth))).toMatchObject({ status: 404, body: { code: 'FRESCO_ERR_MODEL_NOT_FOUND' } });
    expect((await post('/v2/repository/models/%E0%A4%A/load', '', auth)).status).toBe(400);
  });
});

describe('compressed request bodies', () => {
  it('decodes gzip and deflate (zlib or raw) infer bodies', async () => {
    const body = inferBody(1, 9);
    const plain = await post('/v2/models/mlp-50/infer', body);
    expect(plain.status).toBe(200);
    for (const [encoding, bytes] of [['gzip', gzipSync(body)], ['deflate', deflateSync(body)], ['deflate', deflateRawSync(body)], ['GZIP', gzipSync(body)]] as const) {
      const res = await post('/v2/models/mlp-50/infer', bytes, { 'content-encoding': encoding });
      expect(res.status, encoding).toBe(200);
      expect(res.body.outputs[0].data).toEqual(plain.body.outputs[0].data);
    }
  });

  it('refuses a body that decompresses past the limit with 413, corrupt data with 400, other encodings with 415', async () => {
    // 64 MiB of zeros gzip to about 64 KiB: far under the 1 MiB limit on the wire, far over it inflated.
    const bomb = gzipSync(Buffer.alloc(64 << 20));
    expect(bomb.byteLength).toBeLessThan(1 << 20);
    const res = await post('/v2/models/mlp-50/infer', bomb, { 'content-encoding': 'gzip' });
    expect(res).toMatchObject({ status: 413, body: { code: 'FRESCO_ERR_PAYLOAD_TOO_LARGE' } });
    expect(res.body.error).toMatch(/decompresses to more than the limit of 1048576 bytes/);
    expect((await post('/v2/models/mlp-50/infer', 'not gzip', { 'content-encoding': 'gzip' })).body.code).toBe('FRESCO_ERR_FRAME_INVALID');
    const br = await post('/v2/models/mlp-50/infer', inferBody(1), { 'content-encoding': 'br' });
    expect(br).toMatchObject({ status: 415, body: { code: 'FRESCO_ERR_UNSUPPORTED_ENCODING' } });
    expect(br.body.error).toMatch(/Content-Encoding "br" is not supported/);
    // The server still answers.
    expect((await post('/v2/models/mlp-50/infer', inferBody(1))).status).toBe(200);
  });
});
