/**
 * What a caller sends, held to over every door (issue 16's last gaps): a gRPC error of a request
 * with an `id` carries it (message and `fresco-request-id` trailer; a stream's error answer too);
 * an input the model does not take is refused over KServe HTTP and gRPC, naming it and the
 * expected ones (a dataframe model's: entity keys and request fields); a swap to a version whose
 * callers must send other entity keys is a contract change; /admin/models lists a version's
 * caller-facing inputs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../src/plan/index.js';
import { packageRoot } from '../src/package-root.js';
import { ModelRegistry } from '../src/registry/index.js';
import { InMemoryFeatureLookup } from '../src/serving/feature-lookup.js';
import { FrescoServer } from '../src/serving/index.js';
import { registerPlanModel } from './dataframe-helpers.js';
import { type Client, failure, grpc, inferenceClient, unary } from './grpc-helpers.js';
import { admin, row50, TOKEN, url } from './serving-helpers.js';

const MODEL = 'airport-risk';
/** Reads `stats.avg` (looked up by the table's key) and the request field `distance`. */
const plan = {
  format: 'fresco.plan',
  version: 1,
  inputs: [
    { name: 'stats.avg', type: 'num' },
    { name: 'request.distance', type: 'num' },
  ],
  ops: [
    { op: 'fill_null', args: [0], value: 0 },
    { op: 'fill_null', args: [1], value: 0 },
  ],
  outputs: [2, 3],
  output_names: ['avg', 'distance'],
} as Plan;

let root: string;
let registry: ModelRegistry;
let lookup: InMemoryFeatureLookup;
let server: FrescoServer;
let kserve: Client;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fresco-caller-contract-'));
  // Two versions of one plan (v1 and v2), production on v1; and the mlp-50 tensor model.
  await registerPlanModel(root, { name: MODEL, plan, hidden: 4, seed: 1 });
  await registerPlanModel(root, { name: MODEL, plan, hidden: 4, seed: 2 });
  registry = ModelRegistry.open(join(root, '.fresco', 'registry'));
  registry.setAlias(MODEL, 1, 'production');
  await registry.register(join(packageRoot(), 'models', 'mlp-50'), { aliases: ['production'] });
  lookup = new InMemoryFeatureLookup();
  lookup.setTable('stats', 'airport', [['SFO', { avg: 1.5 }]]);
  server = new FrescoServer({
    port: 0,
    grpcPort: 0,
    registry,
    lookup,
    adminToken: TOKEN,
    models: ['mlp-50@production', `${MODEL}@production`],
    logger: pino({ level: 'silent' }),
    syncIntervalMs: 0,
    defaults: { timeoutMs: 30_000 },
  });
  await server.start();
  kserve = inferenceClient(`127.0.0.1:${server.grpcPort}`, 'triton');
}, 60_000);

afterAll(async () => {
  kserve?.close();
  await server?.close();
  registry?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const infer = (model: string, body: unknown) => fetch(url(server, `/v2/models/${model}/infer`), { method: 'POST', body: JSON.stringify(body) });
const x = (seed: number) => ({ name: 'x', datatype: 'FP32', shape: [1, 50], data: Array.from(row50(seed)) });

describe('a gRPC error of a request with an id', () => {
  it('carries the id in the message and the fresco-request-id trailer (ModelInfer)', async () => {
    const unknown = await failure(unary(kserve, 'ModelInfer', { model_name: 'nope', id: 'req-7', inputs: [] }));
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.details).toMatch(/nope.*request id "req-7"/);
    expect(unknown.metadata.get('fresco-request-id')).toEqual(['req-7']);
    expect(unknown.metadata.get('fresco-error-code')).toEqual(['FRESCO_ERR_MODEL_NOT_FOUND']);

    const shape = await failure(unary(kserve, 'ModelInfer', { model_name: 'mlp-50', id: 'req-8', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3] }], raw_input_contents: [bytesOf(Float32Array.of(1, 2, 3))] }));
    expect(shape.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(shape.details).toMatch(/input "x".*request id "req-8"/);
    expect(shape.metadata.get('fresco-request-id')).toEqual(['req-8']);

    // Without an id: no trailer. With characters a header cannot carry: percent-encoded, still answered.
    expect((await failure(unary(kserve, 'ModelInfer', { model_name: 'nope', inputs: [] }))).metadata.get('fresco-request-id')).toEqual([]);
    const accented = await failure(unary(kserve, 'ModelInfer', { model_name: 'nope', id: 'réf 1', inputs: [] }));
    expect(accented.details).toMatch(/request id "réf 1"/);
    expect(accented.metadata.get('fresco-request-id').map((v) => decodeURIComponent(String(v)))).toEqual(['réf 1']);
  });

  it('carries the id in a stream answer: error_message and infer_response.id', async () => {
    const stream = (kserve.ModelStreamInfer as () => grpc.ClientDuplexStream<unknown, any>).call(kserve);
    const answers: any[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (m) => answers.push(m));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write({ model_name: 'mlp-50', id: 's-1', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3] }], raw_input_contents: [bytesOf(Float32Array.of(1, 2, 3))] });
    stream.end();
    await ended;
    expect(answers).toHaveLength(1);
    expect(answers[0].infer_response.id).toBe('s-1');
    expect(answers[0].error_message).toMatch(/^FRESCO_ERR_INPUT_INVALID: .*request id "s-1"/);
  });
});

describe('an input the model does not take', () => {
  it('is refused over KServe HTTP, naming it and the inputs expected (tensor model)', async () => {
    const res = await infer('mlp-50', { id: 'u-1', inputs: [x(1), { name: 'extra', datatype: 'FP32', shape: [1], data: [1] }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID', id: 'u-1' });
    expect(body.error).toMatch(/unexpected input "extra".*takes "x"/);
    expect((await infer('mlp-50', { inputs: [x(1)] })).status).toBe(200);
  });

  it("is refused for a dataframe model, whose inputs are its entity keys and request fields (not the features looked up)", async () => {
    const ok = await infer(MODEL, { inputs: [{ name: 'airport', datatype: 'BYTES', shape: [1], data: ['SFO'] }, { name: 'distance', datatype: 'FP64', shape: [1], data: [337] }] });
    expect(ok.status, await ok.clone().text()).toBe(200);
    for (const extra of ['airprt', 'avg', 'stats.avg']) {
      const res = await infer(MODEL, { inputs: [{ name: 'airport', datatype: 'BYTES', shape: [1], data: ['SFO'] }, { name: 'distance', datatype: 'FP64', shape: [1], data: [337] }, { name: extra, datatype: 'FP64', shape: [1], data: [1] }] });
      expect(res.status, extra).toBe(400);
      expect(((await res.json()) as any).error).toMatch(new RegExp(`unexpected input "${extra.replace('.', '\\.')}": ${MODEL}@1 takes "airport", "distance"`));
    }
  });

  it('is refused over gRPC with INVALID_ARGUMENT', async () => {
    const e = await failure(unary(kserve, 'ModelInfer', {
      model_name: 'mlp-50',
      id: 'g-1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 50] }, { name: 'y', datatype: 'FP32', shape: [1, 1] }],
      raw_input_contents: [bytesOf(row50(1)), bytesOf(Float32Array.of(0))],
    }));
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/unexpected input "y".*takes "x"/);
    const df = await failure(unary(kserve, 'ModelInfer', {
      model_name: MODEL,
      inputs: [{ name: 'airport', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('SFO')] } }, { name: 'origin', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('SFO')] } }],
    }));
    expect(df.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(df.details).toMatch(/unexpected input "origin"/);
  });
});

describe('GET /admin/models', () => {
  it("lists each loaded version's caller-facing inputs (the KServe metadata's), the ONNX and plan inputs under their own names", async () => {
    const { status, body } = await admin(server, 'GET', '/admin/models');
    expect(status).toBe(200);
    const df = body.loaded.find((l: any) => l.name === MODEL);
    const meta = (await (await fetch(url(server, `/v2/models/${MODEL}`))).json()) as any;
    expect(df.inputs).toEqual([{ name: 'airport', datatype: 'BYTES', shape: [-1] }, { name: 'distance', datatype: 'FP64', shape: [-1] }]);
    expect(df.inputs).toEqual(meta.inputs);
    expect(df.planInputs).toEqual(['stats.avg', 'request.distance']);
    expect(df.modelInputs).toEqual([{ name: 'features', dtype: 'float32', shape: ['batch', 2] }]);
    const mlp = body.loaded.find((l: any) => l.name === 'mlp-50');
    expect(mlp.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 50] }]);
  });
});

describe('a swap of a dataframe model', () => {
  it('is refused when the new version needs other entity keys (a table redeclared with another key), unless forced', async () => {
    // The stats table is now keyed by `airport_code`: version 2, loaded now, would need it.
    lookup.setTable('stats', 'airport_code', [['SFO', { avg: 1.5 }]]);
    try {
      const swap = await admin(server, 'POST', `/admin/models/${encodeURIComponent(`${MODEL}@production`)}/swap`, { version: 2 });
      expect(swap.status).toBe(409);
      expect(swap.body).toMatchObject({ code: 'FRESCO_ERR_CONTRACT_CHANGED' });
      expect(swap.body.error).toMatch(/inputs removed or changed: airport: BYTES; inputs added: airport_code: BYTES/);
      expect(server.manager.servedRefs().find((s) => s.ref === `${MODEL}@production`)).toMatchObject({ version: 1 });
      const forced = await admin(server, 'POST', `/admin/models/${encodeURIComponent(`${MODEL}@production`)}/swap`, { version: 2, force: true });
      expect(forced.status).toBe(200);
      const meta = (await (await fetch(url(server, `/v2/models/${MODEL}`))).json()) as any;
      expect(meta.inputs.map((i: any) => i.name)).toEqual(['airport_code', 'distance']);
    } finally {
      lookup.setTable('stats', 'airport', [['SFO', { avg: 1.5 }]]);
    }
  });

  it('with the same keys and plan swaps as before', async () => {
    const ref = encodeURIComponent(`${MODEL}@production`);
    const current = server.manager.servedRefs().find((s) => s.ref === `${MODEL}@production`)!.version;
    // Back to the `airport` key: force once (the keys changed back), then a same-contract swap.
    expect((await admin(server, 'POST', `/admin/models/${ref}/swap`, { version: current === 1 ? 2 : 1, force: true })).status).toBe(200);
    expect((await admin(server, 'POST', `/admin/models/${ref}/swap`, { version: current })).status).toBe(200);
  });

  it('to a version that reads a key as a request field swaps unforced (callers send the same), and one that takes a field as text is refused', async () => {
    // The quickstart's case: one version looks features up by `airport`, the next reads the
    // `airport` a caller sends as a plain field. The plan inputs differ; what a caller sends does not.
    const asField = { ...plan, inputs: [{ name: 'request.airport', type: 'str' }, { name: 'request.distance', type: 'num' }], ops: [{ op: 'hash_bucket', args: [0], n: 8 }, { op: 'fill_null', args: [1], value: 0 }] } as Plan;
    const asText = { ...plan, inputs: [{ name: 'stats.avg', type: 'num' }, { name: 'request.distance', type: 'str' }], ops: [{ op: 'fill_null', args: [0], value: 0 }, { op: 'hash_bucket', args: [1], n: 8 }] } as Plan;
    await registerPlanModel(root, { name: MODEL, plan: asField, hidden: 4, seed: 3 });
    await registerPlanModel(root, { name: MODEL, plan: asText, hidden: 4, seed: 4 });
    const ref = encodeURIComponent(`${MODEL}@production`);
    const swap = await admin(server, 'POST', `/admin/models/${ref}/swap`, { version: 3 });
    expect(swap.status).toBe(200);
    const answer = await infer(MODEL, { inputs: [{ name: 'airport', datatype: 'BYTES', shape: [1], data: ['SFO'] }, { name: 'distance', datatype: 'FP64', shape: [1], data: [300] }] });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as any).model_version).toBe('3');
    const refused = await admin(server, 'POST', `/admin/models/${ref}/swap`, { version: 4 });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/inputs removed or changed: distance: FP64; inputs added: distance: BYTES/);
    expect((await admin(server, 'POST', `/admin/models/${ref}/swap`, { version: 1 })).status).toBe(200);
  });
});
