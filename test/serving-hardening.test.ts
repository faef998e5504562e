/**
 * Nothing a client sends can hurt the server (issue 16): errors carry the request id, bodies
 * over their limit are 413 and close the connection, duplicate inputs are refused, non-finite
 * outputs follow one JSON rule, client mistakes are 4xx, JSON is bounded before it is parsed,
 * metrics labels are bounded, a swap to another input contract is refused unless forced, one
 * flooding connection cannot starve another, a port in use is an error, and the admin token's
 * scheme is case-insensitive.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mlpOnnx } from '../models/generate.js';
import { FrescoClient } from '../src/client/index.js';
import { MiniWebSocket } from '../src/client/websocket.js';
import { writeManifest } from '../src/models/package.js';
import type { FrescoServer } from '../src/serving/index.js';
import { decodeFrame, encodeFrame } from '../src/serving/protocol/codec.js';
import { admin, eventually, type Fixture, makeServingFixture, row50, startServer, TOKEN, url } from './serving-helpers.js';

let fixture: Fixture;
let server: FrescoServer;

beforeAll(async () => {
  fixture = await makeServingFixture(10);
  // mlp-50 v4 takes 49 features: another input contract than v1-v3.
  const dir = join(fixture.dir, 'pkg', 'mlp-49');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), mlpOnnx({ inputs: 49, hidden: 8, outputs: 1, seed: 3, input: 'x', output: 'y', sigmoid: false }));
  await writeManifest(dir, { name: 'mlp-50', backend: 'onnx', model: 'model.onnx', input_kind: 'tensor', signature: { inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 49] }], outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 1] }] } });
  await fixture.registry.register(dir);
  server = await startServer(fixture, { models: ['mlp-50@production', 'flights-delay'], maxFrameBytes: 64 * 1024 });
});

afterAll(async () => {
  await server?.close();
  fixture?.registry.close();
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) => fetch(url(server, path), { method: 'POST', body, headers });
const infer = (body: unknown, path = '/v2/models/mlp-50/infer') => post(path, JSON.stringify(body));
const x = (data: unknown = Array.from(row50(1))) => ({ name: 'x', shape: [1, 50], datatype: 'FP32', data });

/** Sends raw bytes on a fresh TCP connection; resolves with what came back once the server closed it. */
function rawHttp(port: number, head: string, body: Uint8Array): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => {}); // a reset after the answer is a close too
    socket.on('close', () => resolve({ text, closed: true }));
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body])));
    // The client sends only part of the declared body: a server that waits for the rest never closes.
    setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, 15_000).unref();
    socket.on('timeout', reject);
  });
}

describe('errors carry the request id', () => {
  it('echoes a KServe request id in the error body', async () => {
    const res = await infer({ id: 'req-17', inputs: [{ name: 'x', shape: [1, 49], datatype: 'FP32', data: Array.from(row50(1)).slice(0, 49) }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ id: 'req-17', code: 'FRESCO_ERR_INPUT_INVALID', error: expect.stringMatching(/dimension 1 must be 50/) });
    const parse = await infer({ id: 'req-18', inputs: [{ name: 'x', shape: [1, 50], datatype: 'FP99', data: [] }] });
    expect(await parse.json()).toMatchObject({ id: 'req-18', code: 'FRESCO_ERR_INPUT_INVALID' });
    const unknown = await infer({ id: 'req-19', inputs: [x()] }, '/v2/models/no-such-model/infer');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ id: 'req-19', code: 'FRESCO_ERR_MODEL_NOT_FOUND' });
  });
});

describe('bodies over their limit', () => {
  it('answers 413 and closes the connection instead of reading the rest (KServe and frames)', async () => {
    for (const path of ['/v2/models/mlp-50/infer', '/v1/predict']) {
      // 10 MB declared, 200 KB sent (the limit is 64 KiB): the answer must not wait for the rest.
      const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${10 << 20}\r\n\r\n`;
      const { text, closed } = await rawHttp(server.port, head, new Uint8Array(200 << 10).fill(0x20));
      expect(text, path).toMatch(/^HTTP\/1\.1 413/);
      expect(closed, path).toBe(true);
    }
    const res = await post('/v2/models/mlp-50/infer', JSON.stringify({ inputs: [x()], pad: 'a'.repeat(70 << 10) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'FRESCO_ERR_PAYLOAD_TOO_LARGE' });
  });

  it('answers a WebSocket message over the limit with an error frame, then closes (1009)', async () => {
    const ws = await MiniWebSocket.connect(`ws://127.0.0.1:${server.port}/v1/ws`, 5000);
    const messages: Uint8Array[] = [];
    let closed = '';
    ws.onmessage = (m) => messages.push(m.slice());
    ws.onclose = (reason) => (closed = reason);
    const big = encodeFrame({ type: 'predict_request', id: 4242, model: 'mlp-50@production', rows: [], tensors: [{ name: 'x', dtype: 'float32', shape: [400, 50], data: new Float32Array(400 * 50) }], timeoutUs: 0, outputs: [] });
    expect(big.byteLength).toBeGreaterThan(64 * 1024);
    ws.send(big);
    await eventually(() => closed !== '');
    expect(messages).toHaveLength(1);
    expect(decodeFrame(messages[0]!)).toMatchObject({ type: 'error', id: 4242, code: 'FRESCO_ERR_PAYLOAD_TOO_LARGE' });
    expect(closed).toMatch(/1009/);
  });
});

describe('inputs and outputs', () => {
  it('refuses two inputs of one name, naming it', async () => {
    const res = await infer({ inputs: [x(), x()] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID', error: expect.stringMatching(/input "x" appears twice in the inputs \(inputs\[1\]\)/) });
  });

  it('writes non-finite float outputs as the strings "NaN", "Infinity", "-Infinity", and reads them back', async () => {
    const data = Array.from(row50(2)) as (number | string)[];
    data[0] = 'NaN';
    const res = await infer({ inputs: [x(data)] });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text).outputs[0].data).toEqual(['NaN']);
    // The binary extension carries the IEEE value itself.
    const bin = await infer({ inputs: [x(data)], outputs: [{ name: 'y', parameters: { binary_data: true } }] });
    const bytes = new Uint8Array(await bin.arrayBuffer());
    const n = Number(bin.headers.get('inference-header-content-length'));
    expect(Number.isNaN(new Float32Array(bytes.slice(n).buffer)[0])).toBe(true);
  });
});

describe('client mistakes are 4xx, never 500', () => {
  it('answers a non-array "outputs", a malformed percent-encoded path, deeply nested data and an admin body over its limit', async () => {
    const outputs = await infer({ inputs: [x()], outputs: { name: 'y' } });
    expect(outputs.status).toBe(400);
    expect(await outputs.json()).toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID', error: expect.stringMatching(/"outputs" must be a list/) });

    for (const path of ['/v2/models/%E0%A4%A/infer', '/v2/models/mlp-50/versions/%ZZ/ready']) {
      const res = await fetch(url(server, path), { method: path.endsWith('infer') ? 'POST' : 'GET', body: path.endsWith('infer') ? '{}' : undefined });
      expect(res.status, path).toBe(400);
      expect(await res.json(), path).toMatchObject({ code: 'FRESCO_ERR_INVALID_ARGUMENT', error: expect.stringMatching(/percent-encoding/) });
    }
    const swap = await admin(server, 'POST', '/admin/models/%E0%A4%A/swap', { version: 2 });
    expect(swap.status).toBe(400);

    const deep = await post('/v2/models/mlp-50/infer', `{"inputs":[{"name":"x","shape":[1,50],"datatype":"FP32","data":${'['.repeat(20_000)}1${']'.repeat(20_000)}}]}`);
    expect(deep.status).toBe(400);
    expect(await deep.json()).toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID', error: expect.stringMatching(/nests arrays and objects deeper than 32 levels/) });

    const big = await admin(server, 'POST', '/admin/models', { ref: 'mlp-50@2', pad: 'a'.repeat(100 << 10) });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('FRESCO_ERR_PAYLOAD_TOO_LARGE');
  });
});

describe('JSON is bounded before it is parsed', () => {
  it('refuses a body nested millions deep, and one with too many values, with a 400 that names the limit', async () => {
    const big = await startServer(fixture, { models: ['mlp-50@production'] }); // the default 16 MiB limit
    try {
      // The body: 14 MB nested seven million deep. More JSON than an infer request may hold.
      const huge = await fetch(url(big, '/v2/models/mlp-50/infer'), { method: 'POST', body: `{"inputs":[{"name":"x","shape":[1,50],"datatype":"FP32","data":${'['.repeat(7_000_000)}${']'.repeat(7_000_000)}}]}` });
      expect(huge.status).toBe(413);
      expect(await huge.json()).toMatchObject({ code: 'FRESCO_ERR_PAYLOAD_TOO_LARGE', error: expect.stringMatching(/bytes of JSON, more than the limit of 2097152; send tensors as binary data/) });
      const deep = await fetch(url(big, '/v2/models/mlp-50/infer'), { method: 'POST', body: `{"inputs":[{"name":"x","shape":[1,50],"datatype":"FP32","data":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}]}` });
      expect(deep.status).toBe(400);
      expect((await deep.json()).error).toMatch(/deeper than 32 levels/);
      const many = await fetch(url(big, '/v2/models/mlp-50/infer'), { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'x', shape: [4000, 50], datatype: 'FP32', data: new Array(200_000).fill(0) }] }) });
      expect(many.status).toBe(400);
      expect((await many.json()).error).toMatch(/more than 131072 JSON values/);
    } finally {
      await big.close();
    }
  });
});

describe('metrics labels are bounded', () => {
  it('counts requests for unknown models under one label, not one series per name', async () => {
    const c = await FrescoClient.connect(url(server));
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => c.predict(`made-up-${i}`, { tensors: { x: { data: row50(1), shape: [1, 50] } } })));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    c.close();
    const text = await (await fetch(url(server, '/metrics'))).text();
    expect(text).not.toMatch(/made-up-/);
    expect(text).toMatch(/fresco_errors_total\{model="<unknown>",code="FRESCO_ERR_MODEL_NOT_FOUND"\} (\d+)/);
    expect(Number(/fresco_errors_total\{model="<unknown>",code="FRESCO_ERR_MODEL_NOT_FOUND"\} (\d+)/.exec(text)![1])).toBeGreaterThanOrEqual(40);
  });
});

describe('a swap to another input contract', () => {
  it('is refused (admin swap, alias move, registry alias, split) unless forced, and the old version keeps serving', async () => {
    const s = await startServer(fixture, { models: ['mlp-50@candidate'] });
    try {
      const c = await FrescoClient.connect(url(s));
      const swap = await admin(s, 'POST', '/admin/models/mlp-50%40candidate/swap', { version: 4 });
      expect(swap.status).toBe(409);
      expect(swap.body).toMatchObject({ code: 'FRESCO_ERR_CONTRACT_CHANGED', error: expect.stringMatching(/x: float32\[\?, 50\].*force/) });
      expect((await c.predict('mlp-50@candidate', { tensors: { x: { data: row50(1), shape: [1, 50] } } })).version).toBe(2);

      const alias = await admin(s, 'POST', '/admin/aliases', { name: 'mlp-50', alias: 'candidate', version: 4 });
      expect(alias.status).toBe(409);
      expect(fixture.registry.resolve('mlp-50@candidate').version).toBe(2);

      const split = await admin(s, 'PUT', '/admin/routes/mlp-50%40candidate', { split: [{ version: 2, weight: 1 }, { version: 4, weight: 1 }] });
      expect(split.status).toBe(409);

      // Moved in the registry by another process: the poll refuses it too, and says why.
      fixture.registry.setAlias('mlp-50', 4, 'candidate');
      await s.manager.sync();
      expect(s.manager.servedRefs()[0]).toMatchObject({ version: 2, lastError: expect.stringMatching(/other inputs/) });
      fixture.registry.setAlias('mlp-50', 2, 'candidate');
      await s.manager.sync();

      // A version with the same contract swaps as before; forced, the other one too.
      expect((await admin(s, 'POST', '/admin/models/mlp-50%40candidate/swap', { version: 1 })).status).toBe(200);
      const forced = await admin(s, 'POST', '/admin/models/mlp-50%40candidate/swap', { version: 4, force: true });
      expect(forced.status).toBe(200);
      expect((await c.predict('mlp-50@candidate', { tensors: { x: { data: row50(1).subarray(0, 49), shape: [1, 49] } } })).version).toBe(4);
      c.close();
    } finally {
      await s.close();
    }
  });
});

describe('fairness under overload', () => {
  it('serves a polite connection while another floods the same model', async () => {
    const s = await startServer(fixture, { models: ['mlp-50@production'], defaults: { maxQueueRows: 32, maxBatchSize: 1, timeoutMs: 60_000 }, maxInFlightPerConnection: 8 });
    const flooder = await FrescoClient.connect(url(s), { timeoutMs: 60_000 });
    const polite = await FrescoClient.connect(url(s), { timeoutMs: 60_000 });
    try {
      let stop = false;
      const flood = { ok: 0, refused: 0 };
      const flooding = (async () => {
        while (!stop) {
          const batch = await Promise.allSettled(Array.from({ length: 400 }, (_, i) => flooder.predict('mlp-50@production', { tensors: { x: { data: row50(i), shape: [1, 50] } } })));
          for (const r of batch) if (r.status === 'fulfilled') flood.ok++; else flood.refused++;
        }
      })();
      await eventually(() => flood.refused > 0);
      const served: string[] = [];
      for (let i = 0; i < 60; i++) {
        const r = await polite.predict('mlp-50@production', { tensors: { x: { data: row50(i), shape: [1, 50] } } }).then(() => 'ok', (e: { code: string }) => e.code);
        served.push(r);
      }
      stop = true;
      await flooding;
      // The flood was refused past its connection's share; the polite client never was.
      expect(flood.refused).toBeGreaterThan(0);
      expect(served.filter((r) => r !== 'ok')).toEqual([]);
    } finally {
      flooder.close();
      polite.close();
      await s.close();
    }
  });
});

describe('listening', () => {
  it('fails on a port that is already in use, saying so', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const first = await startServer(fixture, { port, models: [] });
    try {
      await expect(startServer(fixture, { port, models: [] })).rejects.toMatchObject({ code: 'FRESCO_ERR_UNAVAILABLE', message: expect.stringMatching(/port is in use/) });
    } finally {
      await first.close();
    }
  });
});

describe('admin token', () => {
  it('takes the Bearer scheme in any case, and refuses a wrong token of any length', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await fetch(url(server, '/admin/models'), { headers: { authorization: `${scheme} ${TOKEN}` } });
      expect(res.status, scheme).toBe(200);
    }
    for (const header of [`Bearer ${TOKEN}x`, 'Bearer t', `Basic ${TOKEN}`, `Bearer${TOKEN}`]) {
      const res = await fetch(url(server, '/admin/models'), { headers: { authorization: header } });
      expect(res.status, header).toBe(401);
    }
  });
});
