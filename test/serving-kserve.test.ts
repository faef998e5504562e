import { readFileSync, rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrescoClient } from '../src/client/index.js';
import type { FrescoServer } from '../src/serving/index.js';
import { type Fixture, makeServingFixture, row50, startServer, url } from './serving-helpers.js';

/** The package's version, read from package.json itself (the metadata must say it). */
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let fixture: Fixture;
let server: FrescoServer;
let client: FrescoClient;

beforeAll(async () => {
  fixture = await makeServingFixture(10);
  server = await startServer(fixture, { models: ['mlp-50@production', 'flights-delay'] });
  client = await FrescoClient.connect(url(server));
});

afterAll(async () => {
  client?.close();
  await server?.close();
  fixture?.registry.close();
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) => fetch(url(server, path), { method: 'POST', body, headers });

describe('KServe v2 / Open Inference Protocol', () => {
  it('answers health, server and model metadata and readiness', async () => {
    expect((await fetch(url(server, '/v2/health/live'))).status).toBe(200);
    expect((await fetch(url(server, '/v2/health/ready'))).status).toBe(200);
    expect(await (await fetch(url(server, '/v2'))).json()).toMatchObject({ name: 'fresco', version: PACKAGE_VERSION, extensions: expect.arrayContaining(['binary_tensor_data']) });
    const meta = await (await fetch(url(server, '/v2/models/mlp-50'))).json();
    expect(meta).toMatchObject({ name: 'mlp-50', versions: ['1'], platform: 'onnxruntime_onnx', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 50] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] });
    expect(meta.parameters.execution_provider).toBe('cpu');
    expect((await fetch(url(server, '/v2/models/mlp-50/versions/1/ready'))).status).toBe(200);
    expect((await fetch(url(server, '/v2/models/unknown/ready'))).status).toBe(404);
  });

  it('infers from the published JSON request form (id, nested data, requested outputs)', async () => {
    const a = row50(1);
    const b = row50(2);
    const body = {
      id: '42',
      inputs: [{ name: 'x', shape: [2, 50], datatype: 'FP32', data: [Array.from(a), Array.from(b)] }],
      outputs: [{ name: 'y' }],
    };
    const res = await post('/v2/models/mlp-50/infer', JSON.stringify(body), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const json = await res.json();
    expect(json).toMatchObject({ model_name: 'mlp-50', model_version: '1', id: '42', outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 1] }] });
    const want = await client.predict('mlp-50@production', { tensors: { x: { data: Float32Array.from([...a, ...b]), shape: [2, 50] } } });
    expect(json.outputs[0].data[0]).toBeCloseTo(want.outputs.y!.data[0] as number, 5);
    expect(json.outputs[0].data[1]).toBeCloseTo(want.outputs.y!.data[1] as number, 5);
  });

  it('speaks the binary tensor extension both ways', async () => {
    const x = row50(3);
    const header = new TextEncoder().encode(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [1, 50], datatype: 'FP32', parameters: { binary_data_size: x.byteLength } }],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
      }),
    );
    const body = new Uint8Array(header.byteLength + x.byteLength);
    body.set(header, 0);
    body.set(new Uint8Array(x.buffer), header.byteLength);
    const res = await post('/v2/models/mlp-50/versions/1/infer', body, { 'inference-header-content-length': String(header.byteLength), 'content-type': 'application/octet-stream' });
    expect(res.status).toBe(200);
    const n = Number(res.headers.get('inference-header-content-length'));
    const bytes = new Uint8Array(await res.arrayBuffer());
    const json = JSON.parse(new TextDecoder().decode(bytes.subarray(0, n)));
    expect(json.outputs[0]).toMatchObject({ name: 'y', datatype: 'FP32', shape: [1, 1], parameters: { binary_data_size: 4 } });
    const y = new Float32Array(bytes.slice(n).buffer);
    const want = await client.predict('mlp-50@production', { tensors: { x: { data: x, shape: [1, 50] } } });
    expect(y[0]).toBeCloseTo(want.outputs.y!.data[0] as number, 6);
  });

  it('takes dataframe columns as inputs (request fields), and reports bad input with a status', async () => {
    const body = {
      inputs: [
        { name: 'date', shape: [2], datatype: 'FP64', data: [Date.UTC(2001, 0, 5, 18), Date.UTC(2001, 0, 6, 8)] },
        { name: 'distance', shape: [2], datatype: 'FP64', data: [2475, 337] },
        { name: 'origin', shape: [2], datatype: 'BYTES', data: ['LAX', 'SFO'] },
        { name: 'destination', shape: [2], datatype: 'BYTES', data: ['JFK', 'LAX'] },
      ],
    };
    const json = await (await post('/v2/models/flights-delay/infer', JSON.stringify(body))).json();
    const want = await client.predict('flights-delay', { rows: [{ fields: { date: body.inputs[0]!.data[0]!, distance: 2475, origin: 'LAX', destination: 'JFK' } }] });
    expect(json.outputs[0].shape).toEqual([2, 1]);
    expect(json.outputs[0].data[0]).toBeCloseTo(want.outputs.delay_probability!.data[0] as number, 6);

    const wrong = await post('/v2/models/mlp-50/infer', JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }));
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID' });
    const junk = await post('/v2/models/mlp-50/infer', '{not json');
    expect(junk.status).toBe(400);
    expect((await post('/v2/models/nope/infer', JSON.stringify({ inputs: [] }))).status).toBe(404);
  });
});

describe('execution providers', () => {
  it('falls back past a provider that is not installed, logs why, and reports the one in use', async () => {
    // This machine's onnxruntime-node has the CPU provider only (.npmrc skips the CUDA download).
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const gpu = await startServer(fixture, { models: ['mlp-50@production'], logger, defaults: { providers: ['cuda', 'tensorrt', 'cpu'], timeoutMs: 30_000 } });
    try {
      const meta = await (await fetch(url(gpu, '/v2/models/mlp-50'))).json();
      expect(meta.parameters.execution_provider).toBe('cpu');
      const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; provider: string }).filter((l) => l.level === 40);
      expect(warnings.map((w) => w.provider)).toEqual([expect.stringMatching(/^cuda/), expect.stringMatching(/^tensorrt/)]);
      expect(warnings[0]!.msg).toMatch(/execution provider unavailable, falling back/);
      // And it serves.
      const r = await fetch(url(gpu, '/v2/models/mlp-50/infer'), { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 50], data: Array.from(row50(3)) }] }) });
      expect(r.status).toBe(200);
    } finally {
      await gpu.close();
    }
  });
});
