// The contract of a dataframe model (docs/serving.md, "Dataframe models"): its KServe metadata
// (and Triton's config and gRPC's ModelMetadata, from the same place) lists what a caller sends,
// the entity keys and request fields, not the features the server looks up; a client that builds
// its request from the metadata alone gets an answer. A timestamp request field takes ISO 8601
// text as well as epoch milliseconds over every transport, and says which formats it takes when
// it gets something else.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { FrescoClient, predictHttp } from '../src/client/index.js';
import { FrescoError } from '../src/errors/index.js';
import type { Plan } from '../src/plan/index.js';
import { timestampInputs } from '../src/serving/dataframe-contract.js';
import { parseTimestamp } from '../src/serving/timestamp.js';
import { MODEL, plan, withDataframeServer, writeDataframeProject } from './dataframe-helpers.js';
import { type Client, failure, inferenceClient, unary } from './grpc-helpers.js';
import { runTritonScript, tritonPython } from './helpers/triton-client.js';

let dir: string;

beforeAll(async () => {
  dir = await writeDataframeProject();
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const base = (port: number) => `http://127.0.0.1:${port}`;
const json = async (port: number, path: string, body?: unknown) => {
  const res = await fetch(`${base(port)}${path}`, body === undefined ? {} : { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as any };
};

const DATE = Date.UTC(2024, 5, 1, 13); // a Saturday, 13:00 UTC
const ISO = '2024-06-01T15:00:00+02:00'; // the same instant
const ROW = { keys: { origin: 'SFO', destination: 'SFO' }, fields: { date: DATE, distance: 337, origin: 'SFO' } };

describe('metadata of a dataframe model', () => {
  it('lists the entity keys and request fields a caller sends, with datatype and shape, and names the looked-up features apart', async () => {
    await withDataframeServer(dir, async (server) => {
      for (const path of [`/v2/models/${MODEL}`, `/v2/models/${MODEL}/versions/1`]) {
        const { status, body } = await json(server.port, path);
        expect(status).toBe(200);
        expect(body.inputs).toEqual([
          { name: 'origin', datatype: 'BYTES', shape: [-1] }, // a key of origin_stats and a request field
          { name: 'destination', datatype: 'BYTES', shape: [-1] }, // the key of dest_live
          { name: 'date', datatype: 'INT64', shape: [-1] }, // a timestamp: epoch ms
          { name: 'distance', datatype: 'FP64', shape: [-1] },
        ]);
        expect(body.parameters).toMatchObject({
          input_kind: 'dataframe',
          entity_keys: 'origin,destination',
          request_fields: 'date,distance,origin',
          timestamp_fields: 'date',
          looked_up_features: 'origin_stats.avg_delay,dest_live.queue',
          missing_features: 'serve',
        });
      }
    });
  });

  it('is what Triton\'s config and gRPC\'s ModelMetadata describe too', async () => {
    await withDataframeServer(
      dir,
      async (server) => {
        const meta = (await json(server.port, `/v2/models/${MODEL}`)).body;
        const config = (await json(server.port, `/v2/models/${MODEL}/config`)).body;
        expect(config.input.map((i: any) => [i.name, i.data_type])).toEqual([['origin', 'TYPE_STRING'], ['destination', 'TYPE_STRING'], ['date', 'TYPE_INT64'], ['distance', 'TYPE_FP64']]);
        const grpc = inferenceClient(`127.0.0.1:${server.grpcPort}`);
        try {
          expect((await unary(grpc, 'ModelMetadata', { name: MODEL })).inputs).toEqual(meta.inputs);
        } finally {
          grpc.close();
        }
      },
      {},
      true,
    );
  });

  it('a client that builds its request from the metadata alone (one valid value per datatype) gets an answer', async () => {
    await withDataframeServer(dir, async (server) => {
      const meta = (await json(server.port, `/v2/models/${MODEL}`)).body as { inputs: { name: string; datatype: string; shape: number[] }[] };
      // Nothing but the metadata: a string for BYTES (an airport both tables hold), a time for INT64, a number for FP64.
      const value = (datatype: string) => (datatype === 'BYTES' ? 'SFO' : datatype === 'INT64' ? DATE : 337);
      const inputs = meta.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape.map((d) => (d === -1 ? 1 : d)), data: [value(i.datatype)] }));
      const { status, body } = await json(server.port, `/v2/models/${MODEL}/infer`, { id: 'from-metadata', inputs });
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.outputs[0]).toMatchObject({ name: 'risk', datatype: 'FP32', shape: [1, 1] });
      expect(JSON.parse(body.parameters.feature_status)).toEqual(['present']);
      // The same answer as the binary protocol's for the same keys and fields.
      const client = await FrescoClient.connect(base(server.port), { timeoutMs: 30_000 });
      try {
        const p = await client.predict(`${MODEL}@production`, { rows: [ROW] });
        expect(body.outputs[0].data[0]).toBeCloseTo((p.outputs.risk!.data as Float32Array)[0]!, 6);
      } finally {
        client.close();
      }
    });
  });
});

describe('metadata of a dataframe model, read by Triton\'s clients', () => {
  it('tritonclient.http and tritonclient.grpc build a request from the metadata alone and parse the answer with its feature status', async () => {
    await tritonPython();
    await withDataframeServer(
      dir,
      async (server) => {
        const script = join(import.meta.dirname, 'triton', 'dataframe_client_check.py');
        const out = JSON.parse(await runTritonScript(script, [`127.0.0.1:${server.port}`, `127.0.0.1:${server.grpcPort}`, MODEL]));
        const client = await FrescoClient.connect(base(server.port), { timeoutMs: 30_000 });
        try {
          const want = (await client.predict(`${MODEL}@production`, { rows: [ROW] })).outputs.risk!.data[0] as number;
          for (const transport of ['http', 'grpc']) {
            expect(out[transport].inputs, transport).toEqual(['origin', 'destination', 'date', 'distance']);
            expect(out[transport].risk[0], transport).toBeCloseTo(want, 6);
          }
          expect(JSON.parse(out.http.parameters.feature_status)).toEqual(['present']);
          expect(JSON.parse(out.grpc.parameters.feature_status.string_param)).toEqual(['present']);
        } finally {
          client.close();
        }
      },
      {},
      true,
    );
  }, 300_000);
});

describe('timestamp request fields', () => {
  it('parse epoch milliseconds and ISO 8601 with an offset or Z; refuse a time without a zone and impossible dates', () => {
    expect(parseTimestamp('2024-06-01T15:00:00+02:00')).toBe(DATE);
    expect(parseTimestamp('2024-06-01T13:00:00Z')).toBe(DATE);
    expect(parseTimestamp('2024-06-01T08:30:00-0430')).toBe(DATE);
    expect(parseTimestamp('2024-06-01 13:00Z')).toBe(DATE);
    expect(parseTimestamp('2024-06-01T13:00:00.250Z')).toBe(DATE + 250);
    expect(parseTimestamp('2024-06-01')).toBe(Date.UTC(2024, 5, 1));
    expect(parseTimestamp(String(DATE))).toBe(DATE);
    for (const bad of ['2024-06-01T13:00:00', '2024-02-30', '2024-13-01', '2024-06-01T25:00:00Z', 'June 1, 2024', '', '1.5e12', '2024-06-01T13:00:00+25:00']) expect(parseTimestamp(bad), bad).toBeNaN();
  });

  it('are the plan inputs that reach hour, day_of_week or days_between, through fill_null, coalesce and if', () => {
    expect(timestampInputs(plan)).toEqual([false, false, true, false, false]);
    const p = {
      format: 'fresco.plan',
      version: 1,
      inputs: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, type: 'num' })),
      ops: [
        { op: 'fill_null', args: [0], value: 0 }, // 5
        { op: 'coalesce', args: [5, 1] }, // 6
        { op: 'if', args: [3, 6, 2] }, // 7
        { op: 'hour', args: [7] }, // 8
        { op: 'add', args: [4, 8] }, // 9
      ],
      outputs: [9],
    } as Plan;
    expect(timestampInputs(p)).toEqual([true, true, true, false, false]);
  });

  it('take ISO 8601 over every transport (WebSocket, HTTP frames, KServe JSON and binary BYTES, gRPC, fresco predict) and answer as for epoch ms', async () => {
    await withDataframeServer(
      dir,
      async (server) => {
        const client = await FrescoClient.connect(base(server.port), { timeoutMs: 30_000 });
        const grpc: Client = inferenceClient(`127.0.0.1:${server.grpcPort}`);
        try {
          const want = (await client.predict(`${MODEL}@production`, { rows: [ROW] })).outputs.risk!.data[0] as number;
          const withIso = { ...ROW, fields: { ...ROW.fields, date: ISO } };
          // WebSocket and HTTP frames: a STRING value.
          expect((await client.predict(`${MODEL}@production`, { rows: [withIso] })).outputs.risk!.data[0]).toBe(want);
          expect((await predictHttp(base(server.port), `${MODEL}@production`, { rows: [withIso] }, 30_000)).outputs.risk!.data[0]).toBe(want);
          // KServe JSON: a BYTES input.
          const inputs = [
            { name: 'origin', datatype: 'BYTES', shape: [1], data: ['SFO'] },
            { name: 'destination', datatype: 'BYTES', shape: [1], data: ['SFO'] },
            { name: 'date', datatype: 'BYTES', shape: [1], data: [ISO] },
            { name: 'distance', datatype: 'FP64', shape: [1], data: [337] },
          ];
          const kjson = await json(server.port, `/v2/models/${MODEL}/infer`, { inputs });
          expect(kjson.status, JSON.stringify(kjson.body)).toBe(200);
          expect(kjson.body.outputs[0].data[0]).toBeCloseTo(want, 6);
          // KServe binary tensors: the date as a BYTES element (4-byte length + text).
          const header = JSON.stringify({ inputs: inputs.map((i) => (i.name === 'date' ? { name: 'date', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 4 + ISO.length } } : i)), outputs: [{ name: 'risk', parameters: { binary_data: true } }] });
          const body = Buffer.concat([Buffer.from(header), rawStrings([ISO])]);
          const res = await fetch(`${base(server.port)}/v2/models/${MODEL}/infer`, { method: 'POST', body, headers: { 'inference-header-content-length': String(Buffer.byteLength(header)), 'content-type': 'application/octet-stream' } });
          expect(res.status).toBe(200);
          const bytes = Buffer.from(await res.arrayBuffer());
          const n = Number(res.headers.get('inference-header-content-length'));
          expect(new Float32Array(bytes.buffer.slice(bytes.byteOffset + n, bytes.byteOffset + n + 4))[0]).toBe(want);
          // gRPC: typed bytes_contents and raw contents.
          const grpcInputs = inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape }));
          const typed = await unary(grpc, 'ModelInfer', {
            model_name: MODEL,
            inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, contents: i.datatype === 'BYTES' ? { bytes_contents: (i.data as string[]).map((s) => Buffer.from(s)) } : { fp64_contents: i.data } })),
          });
          expect(floats(typed.raw_output_contents[0])[0]).toBe(want);
          const raw = await unary(grpc, 'ModelInfer', { model_name: MODEL, inputs: grpcInputs, raw_input_contents: [rawStrings(['SFO']), rawStrings(['SFO']), rawStrings([ISO]), Buffer.from(Float64Array.of(337).buffer)] });
          expect(floats(raw.raw_output_contents[0])[0]).toBe(want);
          // The CLI: --field date=<ISO>.
          const out: string[] = [];
          const io: Io = { out: (t) => void out.push(t), err: () => {} };
          const code = await runCli(['node', 'fresco', '--json', 'predict', `${MODEL}@production`, '--url', `ws://127.0.0.1:${server.port}`, '--key', 'origin=SFO', '--key', 'destination=SFO', '--field', `date=${ISO}`, '--field', 'distance=337', '--field', 'origin=SFO', '--timeout', '30000'], io);
          expect(code, out.join('\n')).toBe(0);
          expect(JSON.parse(out.join('\n')).outputs.risk.data[0]).toBe(want);
        } finally {
          client.close();
          grpc.close();
        }
      },
      {},
      true,
    );
  });

  it('refuse other text with an error that names the field and the formats taken, over each transport', async () => {
    await withDataframeServer(
      dir,
      async (server) => {
        const client = await FrescoClient.connect(base(server.port), { timeoutMs: 30_000 });
        const grpc: Client = inferenceClient(`127.0.0.1:${server.grpcPort}`);
        const formats = /request field "date" is a timestamp: "2024-06-01T15:00:00" is not one of epoch milliseconds .* ISO 8601 with an offset or Z/;
        try {
          const error = (await client.predict(`${MODEL}@production`, { rows: [{ ...ROW, fields: { ...ROW.fields, date: '2024-06-01T15:00:00' } }] }).catch((e: unknown) => e)) as FrescoError;
          expect(error).toBeInstanceOf(FrescoError);
          expect(error.code).toBe('FRESCO_ERR_INPUT_INVALID');
          expect(error.message).toMatch(formats);
          const inputs = [
            { name: 'origin', datatype: 'BYTES', shape: [1], data: ['SFO'] },
            { name: 'destination', datatype: 'BYTES', shape: [1], data: ['SFO'] },
            { name: 'date', datatype: 'BYTES', shape: [1], data: ['2024-06-01T15:00:00'] },
            { name: 'distance', datatype: 'FP64', shape: [1], data: [337] },
          ];
          const k = await json(server.port, `/v2/models/${MODEL}/infer`, { inputs });
          expect(k.status).toBe(400);
          expect(k.body.error).toMatch(formats);
          const g = await failure(unary(grpc, 'ModelInfer', { model_name: MODEL, inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape })), raw_input_contents: [rawStrings(['SFO']), rawStrings(['SFO']), rawStrings(['2024-06-01T15:00:00']), Buffer.from(Float64Array.of(337).buffer)] }));
          expect(g.details).toMatch(formats);
        } finally {
          client.close();
          grpc.close();
        }
      },
      {},
      true,
    );
  });
});

/** BYTES raw contents: each element as a 4-byte little-endian length and its bytes. */
function rawStrings(values: string[]): Buffer {
  return Buffer.concat(values.flatMap((v) => [Buffer.from(Uint32Array.of(Buffer.byteLength(v)).buffer), Buffer.from(v)]));
}

function floats(raw: Buffer): Float32Array {
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}
