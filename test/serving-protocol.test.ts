import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrescoError } from '../src/errors/index.js';
import { MiniWebSocket } from '../src/client/websocket.js';
import { FrescoClient } from '../src/client/index.js';
import { decodeFrame, encodeFrame, type FrescoServer, type Message } from '../src/serving/index.js';
import { seededRandom } from '../src/util/seeded-random.js';
import { type Fixture, makeServingFixture, row50, startServer, url } from './serving-helpers.js';

const request: Message = {
  type: 'predict_request',
  id: 12345,
  model: 'flights-delay@production',
  rows: [{ keys: { airport: 'SFO' }, fields: { distance: 2475, origin: 'LAX', weekend: true, missing: null } }],
  tensors: [],
  timeoutUs: 2500,
  outputs: ['delay_probability'],
};
const tensorRequest: Message = {
  type: 'predict_request',
  id: 2 ** 40,
  model: 'mlp-50',
  rows: [],
  tensors: [
    { name: 'x', dtype: 'float32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
    { name: 'ids', dtype: 'int64', shape: [2], data: BigInt64Array.of(-1n, 2n ** 60n) },
    { name: 's', dtype: 'string', shape: [2], data: new Uint8Array(0), strings: ['a', 'ünïcode'] },
  ],
  timeoutUs: 0,
  outputs: [],
};
const response: Message = { type: 'predict_response', id: 7, model: 'mlp-50', version: 3, outputs: [{ name: 'y', dtype: 'float64', shape: [1, 1], data: Float64Array.of(0.25) }], rowStatus: [{ status: 'NOT_FOUND', code: 'FRESCO_ERR_INPUT_INVALID', message: 'row 0: no entity' }] };
const error: Message = { type: 'error', id: 9, status: 'RESOURCE_EXHAUSTED', code: 'FRESCO_ERR_RESOURCE_EXHAUSTED', message: 'queue full' };

describe('protocol frames', () => {
  it('round-trips every message type', () => {
    for (const msg of [request, tensorRequest, response, error]) expect(decodeFrame(encodeFrame(msg))).toEqual(msg);
  });

  it('answers encoded from a cached template decode exactly as they were given', () => {
    // encodeFrame reuses a per-model template for answers of the same version and output
    // layout, writing only the id and the data: every field must still be right, for ids past
    // 32 bits, id 0, other versions, and more layouts than a model keeps templates for.
    const rand = seededRandom(11);
    const ids = [0, 1, 7, 2 ** 32 + 5, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 400; i++) {
      const rows = 1 + Math.floor(rand() * 12);
      const msg: Message = {
        type: 'predict_response',
        id: ids[i % ids.length]!,
        model: rand() < 0.5 ? 'a' : 'b@production',
        version: 1 + Math.floor(rand() * 3),
        outputs: [
          { name: 'p', dtype: 'float32', shape: [rows, 1], data: Float32Array.from({ length: rows }, () => Math.fround(rand())) },
          ...(rand() < 0.5 ? [{ name: 'label', dtype: 'int64' as const, shape: [rows], data: BigInt64Array.from({ length: rows }, (_, k) => BigInt(k) - 3n) }] : []),
        ],
        rowStatus: [],
      };
      const copy = encodeFrame(msg);
      expect(decodeFrame(copy)).toEqual(msg);
      expect(decodeFrame(encodeFrame(msg, { reuse: true }))).toEqual(msg);
      // A copy stays valid after later encodes reuse the template.
      encodeFrame({ ...msg, id: 99 });
      expect(decodeFrame(copy)).toEqual(msg);
    }
  });

  it('refuses malformed frames with FRESCO_ERR_FRAME_INVALID, naming the problem', () => {
    const frame = encodeFrame(tensorRequest);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(3), /at least 8 bytes/],
      [frame.subarray(0, frame.length - 20), /runs past the end/],
      [Uint8Array.from(frame, (b, i) => (i === 5 ? 0 : b)), /identifier/],
      [encodeFrame(request, { major: 9 }), /protocol version 9/],
    ];
    for (const [bytes, message] of cases) {
      let caught: unknown;
      try {
        decodeFrame(bytes);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(FrescoError);
      expect(caught).toMatchObject({ code: 'FRESCO_ERR_FRAME_INVALID', message: expect.stringMatching(message) });
    }
    // A tensor whose data does not match its shape.
    const bad = encodeFrame({ ...tensorRequest, tensors: [{ name: 'x', dtype: 'float32', shape: [2, 50], data: new Float32Array(3) }] } as Message);
    expect(() => decodeFrame(bad)).toThrow(/needs 400 bytes of data, got 12/);
  });

  it('survives many thousands of random and mutated frames (decoder fuzz)', () => {
    const random = seededRandom(42);
    const seeds = [request, tensorRequest, response, error].map((m) => encodeFrame(m));
    let decoded = 0;
    for (let i = 0; i < 40_000; i++) {
      let bytes: Uint8Array;
      if (i % 4 === 0) bytes = Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256));
      else {
        bytes = seeds[i % seeds.length]!.slice();
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        if (random() < 0.2) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
      }
      try {
        decodeFrame(bytes);
        decoded++;
      } catch (e) {
        if (!(e instanceof FrescoError) || e.code !== 'FRESCO_ERR_FRAME_INVALID') throw new Error(`frame ${i} threw ${String(e)}`);
      }
    }
    expect(decoded).toBeGreaterThan(0); // some mutations land in data bytes and stay valid
  });
});

describe('server under fuzzed frames', () => {
  let fixture: Fixture;
  let server: FrescoServer;
  beforeAll(async () => {
    fixture = await makeServingFixture(5);
    server = await startServer(fixture, { models: ['mlp-50@production', 'flights-delay'], maxFrameBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await server?.close();
    fixture?.registry.close();
    if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
  });

  it('answers every random or mutated WebSocket frame and stays up', async () => {
    const ws = await MiniWebSocket.connect(`ws://127.0.0.1:${server.port}/v1/ws`, 5000);
    const random = seededRandom(7);
    const seeds = [
      encodeFrame({ type: 'predict_request', id: 1, model: 'mlp-50@production', rows: [], tensors: [{ name: 'x', dtype: 'float32', shape: [1, 50], data: row50(1) }], timeoutUs: 0, outputs: [] }),
      encodeFrame({ ...request, model: 'flights-delay' } as Message),
    ];
    let answers = 0;
    const codes = new Set<string>();
    ws.onmessage = (data) => {
      const msg = decodeFrame(data); // the server's answers are always valid frames
      codes.add(msg.type === 'error' ? msg.code : 'ok');
      answers++;
    };
    const total = 5000;
    for (let i = 0; i < total; i++) {
      let bytes: Uint8Array;
      if (i % 5 === 0) bytes = Uint8Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256));
      else {
        bytes = seeds[i % 2]!.slice();
        for (let f = 0; f < 1 + Math.floor(random() * 3); f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        if (random() < 0.2) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
      }
      ws.send(bytes);
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    const end = Date.now() + 30_000;
    while (answers < total && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(answers).toBe(total);
    expect(codes).toContain('FRESCO_ERR_FRAME_INVALID');
    ws.close();
    // Oversized frames are refused; the server is still live and answers a valid request.
    const res = await fetch(url(server, '/v1/predict'), { method: 'POST', body: new Uint8Array(100 * 1024) });
    expect(res.status).toBe(413);
    const client = await FrescoClient.connect(url(server));
    expect((await client.predict('mlp-50@production', { tensors: { x: { data: row50(1), shape: [1, 50] } } })).version).toBe(1);
    client.close();
  });
});
