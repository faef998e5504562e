/**
 * KServe v2 / Open Inference Protocol over gRPC (src/serving/grpc): the same server, router,
 * batcher and models as HTTP, reached with grpc-js clients built from the protocol's own .proto
 * (and Triton's, for its extensions). tritonclient.grpc itself: serving-grpc-triton.test.ts.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { FrescoError } from '../src/errors/index.js';
import { packageRoot } from '../src/package-root.js';
import { FrescoClient } from '../src/client/index.js';
import { FrescoServer } from '../src/serving/index.js';
import { bearer, type Client, failure, grpc, inferenceClient, unary } from './grpc-helpers.js';
import { eventually, type Fixture, makeServingFixture, row50, startServer, TOKEN, url } from './serving-helpers.js';

/** The package's version, read from package.json itself (the metadata must say it). */
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let fixture: Fixture;
let server: FrescoServer;
let client: FrescoClient;
let kserve: Client;
let triton: Client;

beforeAll(async () => {
  fixture = await makeServingFixture(10);
  server = await startServer(fixture, { models: ['mlp-50@production', 'flights-delay'], grpcPort: 0 });
  client = await FrescoClient.connect(url(server));
  kserve = inferenceClient(`127.0.0.1:${server.grpcPort}`, 'kserve');
  triton = inferenceClient(`127.0.0.1:${server.grpcPort}`, 'triton');
});

afterAll(async () => {
  kserve?.close();
  triton?.close();
  client?.close();
  await server?.close();
  fixture?.registry.close();
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

const bytesOf = (a: Float32Array | Float64Array | BigInt64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** BYTES raw contents: each element as a 4-byte little-endian length and its bytes. */
const rawStrings = (values: string[]) => Buffer.concat(values.flatMap((v) => [Buffer.from(Uint32Array.of(Buffer.byteLength(v)).buffer), Buffer.from(v)]));
const floats = (raw: Buffer) => new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));

describe('KServe v2 over gRPC', () => {
  it('answers live, ready, server and model metadata and model readiness', async () => {
    expect(await unary(kserve, 'ServerLive', {})).toEqual({ live: true });
    expect(await unary(kserve, 'ServerReady', {})).toEqual({ ready: true });
    expect(await unary(kserve, 'ServerMetadata', {})).toMatchObject({ name: 'fresco', version: PACKAGE_VERSION, extensions: expect.arrayContaining(['binary_tensor_data']) });
    const meta = await unary(kserve, 'ModelMetadata', { name: 'mlp-50' });
    expect(meta).toMatchObject({ name: 'mlp-50', versions: ['1'], platform: 'onnxruntime_onnx', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 50] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] });
    // The same as the HTTP form.
    const http = await (await fetch(url(server, '/v2/models/mlp-50'))).json();
    expect(meta.inputs).toEqual(http.inputs);
    expect(await unary(kserve, 'ModelReady', { name: 'mlp-50', version: '1' })).toEqual({ ready: true });
    expect(await unary(kserve, 'ModelReady', { name: 'unknown' })).toEqual({ ready: false });
  });

  it('infers with raw_input_contents (as tritonclient sends) and with typed contents: the answer of the frame transport', async () => {
    const a = row50(1);
    const b = row50(2);
    const x = Float32Array.from([...a, ...b]);
    const want = await client.predict('mlp-50@production', { tensors: { x: { data: x, shape: [2, 50] } } });
    const raw = await unary(kserve, 'ModelInfer', { model_name: 'mlp-50', id: 'r-1', inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 50] }], raw_input_contents: [bytesOf(x)] });
    expect(raw).toMatchObject({ model_name: 'mlp-50', model_version: '1', id: 'r-1', outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 1] }] });
    expect(raw.raw_output_contents).toHaveLength(1);
    const y = floats(raw.raw_output_contents[0]);
    expect(y[0]).toBeCloseTo(want.outputs.y!.data[0] as number, 6);
    expect(y[1]).toBeCloseTo(want.outputs.y!.data[1] as number, 6);
    // Typed contents, a version in the request and a requested output.
    const typed = await unary(kserve, 'ModelInfer', { model_name: 'mlp-50', model_version: '1', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 50], contents: { fp32_contents: Array.from(a) } }], outputs: [{ name: 'y' }] });
    expect(floats(typed.raw_output_contents[0])[0]).toBeCloseTo(want.outputs.y!.data[0] as number, 6);
  });

  it("takes a dataframe model's columns as BYTES, INT64 and FP64 inputs, raw or typed", async () => {
    const dates = Float64Array.of(Date.UTC(2001, 0, 5, 18), Date.UTC(2001, 0, 6, 8));
    const want = await client.predict('flights-delay', { rows: [{ fields: { date: dates[0]!, distance: 2475, origin: 'LAX', destination: 'JFK' } }, { fields: { date: dates[1]!, distance: 337, origin: 'SFO', destination: 'LAX' } }] });
    const inputs = [
      { name: 'date', datatype: 'FP64', shape: [2] },
      { name: 'distance', datatype: 'INT64', shape: [2, 1] },
      { name: 'origin', datatype: 'BYTES', shape: [2] },
      { name: 'destination', datatype: 'BYTES', shape: [2] },
    ];
    const raw = await unary(kserve, 'ModelInfer', { model_name: 'flights-delay', inputs, raw_input_contents: [bytesOf(dates), bytesOf(BigInt64Array.of(2475n, 337n)), rawStrings(['LAX', 'SFO']), rawStrings(['JFK', 'LAX'])] });
    expect(raw.outputs[0]).toMatchObject({ name: 'delay_probability', datatype: 'FP32', shape: [2, 1] });
    const got = floats(raw.raw_output_contents[0]);
    expect(got[0]).toBeCloseTo(want.outputs.delay_probability!.data[0] as number, 6);
    expect(got[1]).toBeCloseTo(want.outputs.delay_probability!.data[1] as number, 6);
    const typed = await unary(kserve, 'ModelInfer', {
      model_name: 'flights-delay',
      inputs: [
        { ...inputs[0], contents: { fp64_contents: Array.from(dates) } },
        { ...inputs[1], contents: { int64_contents: [2475, 337] } },
        { ...inputs[2], contents: { bytes_contents: [Buffer.from('LAX'), Buffer.from('SFO')] } },
        { ...inputs[3], contents: { bytes_contents: [Buffer.from('JFK'), Buffer.from('LAX')] } },
      ],
    });
    expect(Array.from(floats(typed.raw_output_contents[0]))).toEqual(Array.from(got));
  });

  it('maps errors to gRPC status codes, with the message and the stable Fresco code', async () => {
    const unknown = await failure(unary(kserve, 'ModelInfer', { model_name: 'nope', inputs: [] }));
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.details).toMatch(/nope/);
    expect(unknown.metadata.get('fresco-error-code')).toEqual(['FRESCO_ERR_MODEL_NOT_FOUND']);
    expect((await failure(unary(kserve, 'ModelMetadata', { name: 'nope' }))).code).toBe(grpc.status.NOT_FOUND);

    const shape = await failure(unary(kserve, 'ModelInfer', { model_name: 'mlp-50', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3] }], raw_input_contents: [bytesOf(Float32Array.of(1, 2, 3))] }));
    expect(shape.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(shape.details).toMatch(/input "x"/);
    expect(shape.metadata.get('fresco-error-code')).toEqual(['FRESCO_ERR_INPUT_INVALID']);
    const short = await failure(unary(kserve, 'ModelInfer', { model_name: 'mlp-50', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 50] }], raw_input_contents: [Buffer.alloc(12)] }));
    expect(short.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(short.details).toMatch(/needs 200 bytes, got 12/);
    const missing = await failure(unary(kserve, 'ModelInfer', { model_name: 'mlp-50', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 50] }, { name: 'z', datatype: 'FP32', shape: [1, 1] }], raw_input_contents: [bytesOf(row50(1))] }));
    expect(missing.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(missing.details).toMatch(/raw_input_contents has 1 entries for 2 inputs/);
    const datatype = await failure(unary(kserve, 'ModelInfer', { model_name: 'mlp-50', inputs: [{ name: 'x', datatype: 'FLOAT', shape: [1, 50] }] }));
    expect(datatype.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(datatype.details).toMatch(/unknown datatype "FLOAT"/);
  });

  it('serves Triton\'s extensions: model config, statistics, repository index; load and unload need the admin token', async () => {
    const { config } = await unary(triton, 'ModelConfig', { name: 'mlp-50' });
    expect(config).toMatchObject({ name: 'mlp-50', platform: 'onnxruntime_onnx', max_batch_size: 64, input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [50] }], output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [1] }] });
    expect(config.instance_group[0]).toMatchObject({ kind: 'KIND_CPU', count: 1 });
    await unary(kserve, 'ModelInfer', { model_name: 'mlp-50', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 50] }], raw_input_contents: [bytesOf(row50(5))] });
    const stats = await unary(triton, 'ModelStatistics', { name: 'mlp-50' });
    expect(stats.model_stats).toHaveLength(1);
    expect(stats.model_stats[0]).toMatchObject({ name: 'mlp-50', version: '1' });
    expect(stats.model_stats[0].inference_stats.success.count).toBeGreaterThan(0);
    expect((await unary(triton, 'RepositoryIndex', {})).models).toEqual(expect.arrayContaining([{ name: 'mlp-50', version: '1', state: 'READY', reason: '' }]));

    const denied = await failure(unary(triton, 'RepositoryModelLoad', { model_name: 'mlp-50@1' }));
    expect(denied.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await failure(unary(triton, 'RepositoryModelLoad', { model_name: 'mlp-50@1' }, { metadata: bearer('wrong') }))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await failure(unary(triton, 'RepositoryModelUnload', { model_name: 'mlp-50@production' }))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(server.manager.servedRefs().map((s) => s.ref)).not.toContain('mlp-50@1');
    await unary(triton, 'RepositoryModelLoad', { model_name: 'mlp-50@1' }, { metadata: bearer(TOKEN) });
    expect(server.manager.servedRefs().map((s) => s.ref)).toContain('mlp-50@1');
    await unary(triton, 'RepositoryModelUnload', { model_name: 'mlp-50@1' }, { metadata: bearer(TOKEN) });
    expect(server.manager.servedRefs().map((s) => s.ref)).not.toContain('mlp-50@1');
  });

  it('answers each request of a ModelStreamInfer stream, a failed one as error_message, and ends with the client', async () => {
    const stream = (triton.ModelStreamInfer as () => grpc.ClientDuplexStream<unknown, any>).call(triton);
    const answers: any[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (m) => answers.push(m));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.write({ model_name: 'mlp-50', id: 'a', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 50] }], raw_input_contents: [bytesOf(row50(1))] });
    stream.write({ model_name: 'nope', id: 'b', inputs: [] });
    stream.write({ model_name: 'mlp-50', id: 'c', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 50] }], raw_input_contents: [bytesOf(row50(2))] });
    stream.end();
    await ended;
    const byId = Object.fromEntries(answers.map((m) => [m.infer_response.id, m]));
    expect(Object.keys(byId).sort()).toEqual(['a', 'b', 'c']);
    expect(byId.a.error_message).toBe('');
    expect(byId.a.infer_response.raw_output_contents).toHaveLength(1);
    expect(byId.b.error_message).toMatch(/^FRESCO_ERR_MODEL_NOT_FOUND: .*nope/);
  });
});

describe('gRPC shutdown', () => {
  it('drains with the server: calls in flight are answered, then the port refuses', async () => {
    const own = await startServer(fixture, { models: ['mlp-50@production'], grpcPort: 0 });
    const c = inferenceClient(`127.0.0.1:${own.grpcPort}`);
    try {
      const request = (i: number) => unary(c, 'ModelInfer', { model_name: 'mlp-50', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 50] }], raw_input_contents: [bytesOf(row50(i))] });
      const inflight = Array.from({ length: 200 }, (_, i) => request(i));
      await Promise.race(inflight);
      const closing = own.close();
      const results = await Promise.allSettled(inflight);
      await closing;
      // Every call was answered or refused as UNAVAILABLE (a stream the GOAWAY reached first); none failed otherwise.
      for (const r of results) if (r.status === 'rejected') expect((r.reason as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
      expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
      // The port is closed: a new call is refused (not answered, not left waiting).
      const after = await failure(unary(c, 'ServerLive', {}, { deadlineMs: 20_000 }));
      expect(after.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      c.close();
      await own.close();
    }
  });
});

describe('gRPC port', () => {
  it('is refused at start when another process holds it, with an error that says so', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const own = new FrescoServer({ port: 0, grpcPort: port, registry: fixture.registry, models: ['mlp-50@production'], logger: pino({ level: 'silent' }), syncIntervalMs: 0 });
    try {
      const error = await own.start().then(
        () => undefined,
        (e: unknown) => e as FrescoError,
      );
      expect(error?.code).toBe('FRESCO_ERR_UNAVAILABLE');
      expect(error?.message).toMatch(new RegExp(`gRPC on 127\\.0\\.0\\.1:${port}: the port is in use`));
    } finally {
      await own.close();
      blocker.close();
    }
  });
});

describe('fresco serve --grpc-port (the executable)', () => {
  it('opens the gRPC port, answers on it, and on SIGTERM drains it with HTTP and exits 0', async () => {
    const root = packageRoot();
    const child = spawn(join(root, 'bin', 'fresco.js'), ['serve', '--port', '0', '--grpc-port', '0', '--models', join(root, 'models', 'mlp-50')]);
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const pattern = /KServe v2 gRPC on 127\.0\.0\.1:(\d+)/;
    await eventually(() => {
      if (child.exitCode !== null) throw new Error(`fresco serve exited (code ${child.exitCode}): ${err}`);
      return pattern.test(err);
    }, 60_000);
    const c = inferenceClient(`127.0.0.1:${pattern.exec(err)![1]}`);
    try {
      const request = (i: number) => unary(c, 'ModelInfer', { model_name: 'mlp-50', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 50] }], raw_input_contents: [bytesOf(row50(i))] });
      expect((await request(0)).outputs[0]).toMatchObject({ name: 'y', shape: [1, 1] });
      const inflight = Array.from({ length: 100 }, (_, i) => request(i));
      await Promise.race(inflight);
      child.kill('SIGTERM');
      const results = await Promise.allSettled(inflight);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
      // The process ends: the gRPC server let go of the event loop.
      expect(await exited).toBe(0);
      expect(err).toMatch(/SIGTERM: draining/);
    } finally {
      c.close();
    }
  }, 90_000);
});
