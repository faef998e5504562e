/**
 * Triton's own Python client, tritonclient.grpc (the users' tool), against the gRPC port:
 * health, metadata, config, infer with raw contents (FP32, FP64, INT64, BYTES), errors as gRPC
 * status codes, statistics, the repository with the admin token, and the stream API. The
 * client's venv is built once and cached (test/helpers/triton-client.ts; needs PyPI the first time).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrescoClient } from '../src/client/index.js';
import type { FrescoServer } from '../src/serving/index.js';
import { runTritonScript, tritonPython } from './helpers/triton-client.js';
import { type Fixture, makeServingFixture, row50, startServer, TOKEN, url } from './serving-helpers.js';

let fixture: Fixture;
let server: FrescoServer;
let client: FrescoClient;

beforeAll(async () => {
  await tritonPython();
  fixture = await makeServingFixture(10);
  server = await startServer(fixture, { models: ['mlp-50@production', 'flights-delay'], grpcPort: 0 });
  client = await FrescoClient.connect(url(server));
}, 300_000);

afterAll(async () => {
  client?.close();
  await server?.close();
  fixture?.registry.close();
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

describe('tritonclient.grpc against fresco serve --grpc-port', () => {
  it('runs health, metadata, config, infer (raw contents), errors, statistics, repository and stream calls', async () => {
    const x = [Array.from(row50(1)), Array.from(row50(2))];
    const script = join(import.meta.dirname, 'fixtures', 'tritonclient', 'grpc_check.py');
    const seen = JSON.parse(await runTritonScript(script, [`127.0.0.1:${server.grpcPort}`, TOKEN, JSON.stringify(x)]));

    expect(seen).toMatchObject({ live: true, ready: true, model_ready: true, unknown_ready: false });
    expect(seen.server).toMatchObject({ name: 'fresco', extensions: expect.arrayContaining(['binary_tensor_data']) });
    // as_json is protobuf's JSON: int64 fields are strings there.
    expect(seen.metadata).toMatchObject({ name: 'mlp-50', platform: 'onnxruntime_onnx', inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1', '50'] }] });
    expect(seen.config).toMatchObject({ name: 'mlp-50', max_batch_size: 64, input: [{ name: 'x', data_type: 'TYPE_FP32', dims: ['50'] }] });

    const want = await client.predict('mlp-50@production', { tensors: { x: { data: Float32Array.from(x.flat()), shape: [2, 50] } } });
    expect(seen.y).toHaveLength(2);
    expect(seen.y[0][0]).toBeCloseTo(want.outputs.y!.data[0] as number, 6);
    expect(seen.y[1][0]).toBeCloseTo(want.outputs.y!.data[1] as number, 6);
    expect(seen.infer_id).toBe('req-7');
    const delay = await client.predict('flights-delay', { rows: [{ fields: { date: 978717600000, distance: 2475, origin: 'LAX', destination: 'JFK' } }, { fields: { date: 978768000000, distance: 337, origin: 'SFO', destination: 'LAX' } }] });
    expect(seen.delay[0][0]).toBeCloseTo(delay.outputs.delay_probability!.data[0] as number, 6);
    expect(seen.delay[1][0]).toBeCloseTo(delay.outputs.delay_probability!.data[1] as number, 6);

    expect(seen.unknown_model).toMatch(/^StatusCode\.NOT_FOUND: .*nope/);
    expect(seen.bad_input).toMatch(/^StatusCode\.INVALID_ARGUMENT: .*input "x"/);

    expect(seen.stats.model_stats[0]).toMatchObject({ name: 'mlp-50', version: '1' });
    expect(Number(seen.stats.model_stats[0].inference_stats.success.count)).toBeGreaterThan(0);
    expect(seen.index.models).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'mlp-50', version: '1', state: 'READY' })]));
    expect(seen.load_without_token).toMatch(/^StatusCode\.UNAUTHENTICATED/);
    expect(seen.load).toBe('OK');
    expect(seen.ready_after_load).toBe(true);
    expect(seen.unload).toBe('OK');
    expect(seen.stream.error).toBeNull();
    expect(seen.stream.y[0][0]).toBeCloseTo(want.outputs.y!.data[0] as number, 6);
  }, 180_000);
});
