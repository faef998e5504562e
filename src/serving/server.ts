/**
 * The serving process's front door, one port, served by uWebSockets.js:
 *   - WebSocket `/v1/ws`: binary Fresco frames, many requests in flight, answered by request id;
 *   - HTTP `POST /v1/predict`: one frame in, one frame out;
 *   - KServe v2 (`/v2/...`, kserve.ts), health and readiness, `/metrics`, and the token-protected
 *     admin API (admin.ts).
 * Malformed input of any kind gets an error with a stable code; the connection stays up.
 * `close()` is the graceful shutdown: stop accepting, answer what is in flight, unload, return.
 */
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
import { FrescoError, toFrescoError } from '../errors/index.js';
import type { ModelRegistry } from '../registry/index.js';
import { handleAdmin } from './admin.js';
import type { FeatureLookup } from './feature-lookup.js';
import type { OnlineStore } from '../online/online-store.js';
import { OnlineFeatureLookup } from './online-lookup.js';
import { ConnectionShare, DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION } from './admission.js';
import { copyBytes, type Reply as ReplyT, Reply, readReq, type Req } from './http.js';
import { decodePathSegment, kserveIdOf, peekRequestId, withRequestId, wsHardCap } from './request-guards.js';
import { inferResponse, modelMetadata, parseInfer } from './kserve.js';
import { readDecodedBody } from './content-encoding.js';
import { handleTritonExtension, isTritonExtension, TRITON_EXTENSIONS } from './triton.js';
import type { LoadedModel } from './loaded-model.js';
import { ModelManager } from './manager.js';
import { ServingMetrics } from './metrics.js';
import { errorReply, Predictor, responseFor } from './predict.js';
import { decodeFrame, encodeFrame } from './protocol/codec.js';
import type { ModelSettingsInput } from './settings.js';
import { backgroundIdleThreads, closeIdleThreads, idleThreads, inferenceThreadIds, keepSpareThreads } from './pool/threads.js';
import { backgroundAllBut, currentThreadId, mayReturnToNormal, putServingFirst } from './scheduling.js';
import { packageVersion } from '../package-root.js';

const uWS = createRequire(import.meta.url)('uWebSockets.js') as typeof import('uWebSockets.js');

export interface ServerOptions {
  /** Port to listen on; 0 picks a free one (read it back from `port`). Default 8500. */
  port?: number;
  host?: string;
  registry?: ModelRegistry;
  /** Refs to serve at start (`name`, `name@version`, `name@alias`, or a package folder). */
  models?: string[];
  /** Settings for every model, and per model name. */
  defaults?: ModelSettingsInput;
  modelSettings?: Record<string, ModelSettingsInput>;
  lookup?: FeatureLookup;
  /**
   * The online store dataframe models read `<table>.<feature>` inputs from (used when `lookup` is
   * not given; online-lookup.ts). The caller opens and closes it.
   */
  onlineStore?: OnlineStore;
  /** Per table, join key -> request key for `onlineStore` reads (a project's join_key_map: `requestKeyNames(project)`). */
  onlineKeyNames?: Record<string, Record<string, string>>;
  /**
   * Port of the KServe v2 gRPC service (`inference.GRPCInferenceService`, grpc/), on `host`;
   * 0 picks a free one (read it back from `grpcPort`). Default: no gRPC service.
   */
  grpcPort?: number;
  /** Bearer token for /admin; without one the admin API answers 401 to everything. */
  adminToken?: string;
  /** Largest frame or HTTP body accepted, in bytes. Default 16 MiB. */
  maxFrameBytes?: number;
  /**
   * Requests one WebSocket connection may have in flight; past it, RESOURCE_EXHAUSTED at once
   * (admission.ts: one client cannot take a model's whole queue). Default 256.
   */
  maxInFlightPerConnection?: number;
  /** How often served registry refs are re-resolved (alias moves -> hot swap), in ms; 0 disables. Default 1000. */
  syncIntervalMs?: number;
  /**
   * Linux: at start, every thread of this process other than the event loop and the inference
   * threads moves to the SCHED_IDLE scheduling class (V8's compiler and GC helpers, libuv's pool),
   * so background work never delays a serving thread (scheduling.ts). Only for a process that
   * only serves, as `fresco serve` is (it sets this): every other thread of the process, the
   * embedding program's included, then runs only on CPU time no normal thread wants. Default false.
   */
  prioritizeServing?: boolean;
  logger?: Logger;
}

interface WsData {
  open: boolean;
  share: ConnectionShare;
}

const FRAME_TYPE = 'application/x-fresco-frame';
/** uWS's `ListenOptions.LIBUS_LISTEN_EXCLUSIVE_PORT` (a const enum in its typings, 1 in its binding): no SO_REUSEPORT. */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;
/** Warm-up batches each spare inference thread runs at start (about 60 ms): enough for V8 to optimize its batch code. */
const REHEARSAL_BATCHES = 2000;
/** ...unless the cores are busy with other work: start-up does not wait longer than this for them. */
const REHEARSAL_BUDGET_MS = 1000;

export class FrescoServer {
  readonly manager: ModelManager;
  readonly metrics = new ServingMetrics();
  readonly log: Logger;
  readonly predictor: Predictor;
  #app: TemplatedApp | undefined;
  #listen: us_listen_socket | undefined;
  #port = 0;
  #ready = false;
  #closing = false;
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #sync: NodeJS.Timeout | undefined;
  #grpc: import('./grpc/index.js').GrpcFrontend | undefined;
  readonly #sockets = new Set<WebSocket<WsData>>();
  readonly maxFrameBytes: number;

  constructor(readonly options: ServerOptions = {}) {
    this.log = options.logger ?? pino({ level: process.env.FRESCO_LOG_LEVEL ?? 'info' });
    this.maxFrameBytes = options.maxFrameBytes ?? 16 << 20;
    this.manager = new ModelManager({ registry: options.registry, lookup: options.lookup ?? (options.onlineStore ? new OnlineFeatureLookup(options.onlineStore, options.onlineKeyNames ? { keyNames: options.onlineKeyNames } : {}) : undefined), metrics: this.metrics, log: this.log, defaults: options.defaults, models: options.modelSettings });
    this.predictor = new Predictor(this.manager, this.metrics);
  }

  get port(): number {
    return this.#port;
  }

  /** The gRPC service's port (undefined when not opened). */
  get grpcPort(): number | undefined {
    return this.#grpc?.port;
  }

  get ready(): boolean {
    return this.#ready && !this.#closing;
  }

  /** Loads the configured models, then listens. Resolves once ready. */
  async start(): Promise<this> {
    for (const ref of this.options.models ?? []) await this.manager.serve(ref);
    // Booted before traffic, so that a hot swap opens its session in a waiting thread instead of
    // booting one under load (pool/threads.ts); a swap then hands the old version's threads back.
    await keepSpareThreads(Math.max(1, ...this.manager.loadedModels().map((m) => m.settings.instances)));
    // ...and rehearsed with a served version, so that their batch code is compiled before a swap.
    const first = this.manager.loadedModels()[0];
    const rehearsed = first ? await first.rehearse(idleThreads(), REHEARSAL_BATCHES, REHEARSAL_BUDGET_MS) : REHEARSAL_BATCHES;
    if (rehearsed < REHEARSAL_BATCHES) this.log.warn({ rehearsed, of: REHEARSAL_BATCHES, budgetMs: REHEARSAL_BUDGET_MS }, 'spare inference threads rehearsed only in part (the cores are busy): the first hot swap may answer slower for a while');
    if (this.options.prioritizeServing) this.#prioritizeServing();
    const app = uWS.App();
    this.#app = app;
    app.ws<WsData>('/v1/ws', {
      compression: uWS.DISABLED,
      // Above the frame limit, so that a message somewhat too large is read and answered with an
      // error frame before the close (#onWsMessage); past this hard cap uWS closes the socket
      // itself without a word (docs/serving.md, "Limits and fairness").
      maxPayloadLength: wsHardCap(this.maxFrameBytes),
      idleTimeout: 120,
      maxBackpressure: 64 << 20,
      upgrade: (res, req, context) => {
        if (this.#closing) {
          res.writeStatus('503 Service Unavailable').end();
          return;
        }
        res.upgrade<WsData>({ open: true, share: new ConnectionShare(this.options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION) }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws) => {
        this.#sockets.add(ws);
      },
      message: (ws, message, isBinary) => this.#onWsMessage(ws, message, isBinary),
      close: (ws) => {
        ws.getUserData().open = false;
        this.#sockets.delete(ws);
      },
    });
    // The frame endpoint first, as its own route: it needs no copy of the request's headers.
    app.post('/v1/predict', (res) => this.#onHttpFrame(res));
    app.any('/*', (res, req) => this.#onHttp(res, readReq(req)));
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      // Exclusive: uWS listens with SO_REUSEPORT by default, and a second server on a port in use
      // then silently shared it (the kernel split the connections between the two).
      const listen = app.listen as unknown as (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => void;
      listen.call(app, host, this.options.port ?? 8500, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
        if (!socket) return reject(new FrescoError('FRESCO_ERR_UNAVAILABLE', `could not listen on ${host}:${this.options.port ?? 8500}: the port is in use by another process (or the address is not this machine's); choose another with --port`, { location: { key: 'port' } }));
        this.#listen = socket;
        this.#port = uWS.us_socket_local_port(socket as never);
        resolve();
      });
    });
    if (this.options.grpcPort !== undefined) {
      // Imported here: a server without a gRPC port loads neither grpc-js nor the .proto files.
      const { GrpcFrontend } = await import('./grpc/index.js');
      this.#grpc = await GrpcFrontend.start(this, { port: this.options.grpcPort, host });
    }
    const every = this.options.syncIntervalMs ?? 1000;
    if (every > 0 && this.options.registry) {
      this.#sync = setInterval(() => void this.manager.sync().catch((e) => this.log.error({ err: String(e) }, 'registry sync failed')), every);
      this.#sync.unref();
    }
    this.#ready = true;
    // docs/serving.md, "Process flags": the memory reducer's major collections land on the event loop.
    const memoryReducer = !process.execArgv.includes('--no-memory-reducer');
    this.log.info({ port: this.#port, ...(this.#grpc ? { grpcPort: this.#grpc.port } : {}), models: this.manager.servedRefs().map((s) => `${s.ref} -> v${s.version}`), memoryReducer }, 'fresco serve: listening');
    if (memoryReducer) this.log.info('V8\'s memory reducer is on: start node with --no-memory-reducer (as `fresco serve` does) to spare the event loop its periodic major collections');
    return this;
  }

  /**
   * Moves every thread but the event loop's and the inference threads into SCHED_IDLE, and from
   * then on the inference threads change class as they wait, load and serve (scheduling.ts).
   * Called after the start-up rehearsal, which so runs in the normal class even on busy cores.
   */
  #prioritizeServing(): void {
    const loop = currentThreadId();
    if (loop === undefined) return;
    putServingFirst();
    const { moved, refused } = backgroundAllBut(new Set([loop, ...inferenceThreadIds()]));
    backgroundIdleThreads();
    this.log.info({ background: moved, refused, loadInBackground: mayReturnToNormal() }, 'serving threads first: background threads moved to SCHED_IDLE');
  }

  #enter(): void {
    this.#inFlight++;
  }

  readonly #leaveBound = () => this.#leave();

  #leave(): void {
    if (--this.#inFlight === 0 && this.#idle) this.#idle();
  }

  /**
   * Decodes, runs and answers one frame; never throws. `send` is called synchronously right after
   * encoding, with a view into a shared builder (valid only during the call: no copy per answer).
   * `bytes` must belong to the call (a copy of the transport's memory): tensors stay views over it.
   */
  async handleFrame(bytes: Uint8Array, transport: string, send: (frame: Uint8Array, http: number) => void, share?: ConnectionShare): Promise<void> {
    const started = performance.now();
    let id = 0;
    let admitted = false;
    try {
      if (bytes.byteLength > this.maxFrameBytes) throw new FrescoError('FRESCO_ERR_PAYLOAD_TOO_LARGE', `the frame (${bytes.byteLength} bytes) is larger than the limit of ${this.maxFrameBytes}`);
      const msg = decodeFrame(bytes, { owned: true });
      id = msg.id;
      if (msg.type !== 'predict_request') throw new FrescoError('FRESCO_ERR_FRAME_INVALID', `a client sends predict requests, not ${msg.type} frames`);
      if (this.#closing) throw new FrescoError('FRESCO_ERR_UNAVAILABLE', 'the server is shutting down');
      // The connection's share of the queue (admission.ts), once the id is known to answer with.
      share?.enter();
      admitted = share !== undefined;
      const result = await this.predictor.run(msg, transport, started);
      send(encodeFrame(responseFor(id, result), { reuse: true }), 200);
      return;
    } catch (error) {
      const e = toFrescoError(error);
      if (e.code === 'FRESCO_ERR_FRAME_INVALID') {
        this.metrics.errors.inc({ model: '', code: e.code });
        const rid = e.location?.requestId;
        if (rid) id = Number(rid);
      }
      if (e.code === 'FRESCO_ERR_INTERNAL') this.log.error({ err: e.message, stack: e.stack }, 'internal error');
      const { msg, http } = errorReply(id, e);
      send(encodeFrame(msg, { reuse: true }), http);
    } finally {
      if (admitted) share?.leave();
    }
  }

  #onWsMessage(ws: WebSocket<WsData>, message: ArrayBuffer, isBinary: boolean): void {
    if (!isBinary) {
      const { msg } = errorReply(0, new FrescoError('FRESCO_ERR_FRAME_INVALID', 'send binary frames (FlatBuffers), not text'));
      ws.send(encodeFrame(msg, { reuse: true }), true);
      return;
    }
    if (message.byteLength > this.maxFrameBytes) {
      // Answered, then closed (1009, "message too big"): the client learns why its socket went away.
      const { msg } = errorReply(peekRequestId(message), new FrescoError('FRESCO_ERR_PAYLOAD_TOO_LARGE', `the message (${message.byteLength} bytes) is larger than the frame limit of ${this.maxFrameBytes} bytes`));
      ws.send(encodeFrame(msg, { reuse: true }), true);
      ws.end(1009, 'message too big');
      return;
    }
    // The message's memory is only valid during this callback: decode copies what it keeps.
    const bytes = copyBytes(message);
    this.#enter();
    // handleFrame never rejects: every failure is answered as an error frame.
    this.handleFrame(bytes, 'ws', (frame) => {
      if (ws.getUserData().open) ws.cork(() => ws.send(frame, true));
    }, ws.getUserData().share).then(this.#leaveBound, this.#leaveBound);
  }

  #onHttp(res: HttpResponse, req: Req): void {
    // Leaves once: when answered, or when the client goes away first (a body that never
    // completes would otherwise stay counted in flight, and a graceful shutdown would wait on it).
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      this.#leave();
    };
    const reply = new Reply(res, leave);
    this.#enter();
    void this.#route(reply, req)
      .catch((error) => {
        const e = toFrescoError(error);
        if (e.code === 'FRESCO_ERR_INTERNAL') this.log.error({ err: e.message, stack: e.stack }, 'internal error');
        // The request's id, when it had one (KServe's `id`): a client matching answers finds it.
        const id = e.location?.requestId;
        reply.json(e.httpStatus, id === undefined ? { error: e.message, code: e.code } : { error: e.message, code: e.code, id });
      })
      .finally(leave);
  }

  /**
   * POST /v1/predict: one frame in, one frame out (errors are frames too). The body is read in
   * uWS's data callback and the frame handled right there, with no promise per step: this path
   * runs once per request at full load.
   */
  #onHttpFrame(res: HttpResponse): void {
    const leave = this.#leaveBound;
    // Until the body is complete this request is the route's to account for: a client that
    // goes away mid-body must not leave it counted in flight (a graceful shutdown waits for those).
    let pending = true;
    const reply = new Reply(res, () => {
      if (pending) {
        pending = false;
        leave();
      }
    });
    this.#enter();
    const limit = this.maxFrameBytes;
    let chunks: Uint8Array[] | undefined;
    let size = 0;
    res.onData((chunk, isLast) => {
      if (!pending) return;
      size += chunk.byteLength;
      if (size > limit) {
        pending = false;
        chunks = undefined;
        const { msg } = errorReply(0, new FrescoError('FRESCO_ERR_PAYLOAD_TOO_LARGE', `the frame is larger than the limit of ${limit} bytes`));
        // Answered and closed: the rest of the body is not read.
        reply.closeConnection = true;
        reply.send(413, encodeFrame(msg, { reuse: true }), FRAME_TYPE);
        leave();
        return;
      }
      // The chunk's memory is reused by uWS after this callback: copy it.
      const copy = copyBytes(chunk);
      if (!isLast) {
        (chunks ??= []).push(copy);
        return;
      }
      let body = copy;
      if (chunks) {
        chunks.push(copy);
        body = new Uint8Array(size);
        let at = 0;
        for (const c of chunks) {
          body.set(c, at);
          at += c.byteLength;
        }
        chunks = undefined;
      }
      pending = false;
      // handleFrame never rejects: every failure is answered as an error frame.
      this.handleFrame(body, 'http', (frame, http) => reply.send(http, frame, FRAME_TYPE)).then(leave, leave);
    });
  }

  async #route(reply: ReplyT, req: Req): Promise<void> {
    const { method, url } = req;
    if (method === 'GET' && (url === '/v2/health/live' || url === '/health/live')) return reply.json(200, { live: true });
    if (method === 'GET' && (url === '/v2/health/ready' || url === '/health/ready')) return reply.json(this.ready ? 200 : 503, { ready: this.ready });
    if (method === 'GET' && url === '/metrics') {
      const text = await this.metrics.registry.metrics();
      return reply.send(200, text, this.metrics.registry.contentType);
    }
    if (method === 'GET' && url === '/v2') return reply.json(200, { name: 'fresco', version: packageVersion(), extensions: TRITON_EXTENSIONS });
    if (isTritonExtension(url)) return handleTritonExtension(this, reply, req);
    if (url.startsWith('/v2/models')) return this.#kserve(reply, req);
    if (url.startsWith('/admin')) return handleAdmin(this, reply, req, this.maxFrameBytes);
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${method} ${url}: no such endpoint`);
  }

  async #kserve(reply: ReplyT, req: Req): Promise<void> {
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(req.url);
    if (!m) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${req.url}: no such endpoint`);
    const name = decodePathSegment(m[1] as string);
    const ref = m[2] ? `${name}@${decodePathSegment(m[2])}` : this.defaultRef(name);
    const action = m[3];
    if (action === '/infer') {
      if (req.method !== 'POST') throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'infer is POST');
      const started = performance.now();
      // Over the limit: 413 (BodyTooLarge), and the connection closes.
      const body = await readDecodedBody(reply, req, this.maxFrameBytes);
      if (this.#closing) throw new FrescoError('FRESCO_ERR_UNAVAILABLE', 'the server is shutting down');
      let primary: LoadedModel;
      try {
        primary = this.manager.route(ref).primary;
      } catch (error) {
        // Not parsed yet (parsing needs the model): the id is read for the error alone.
        throw withRequestId(error, kserveIdOf(body, req.headers['inference-header-content-length']));
      }
      const call = parseInfer(body, req.headers['inference-header-content-length'], ref, primary);
      try {
        const result = await this.predictor.run(call.request, 'kserve', started);
        const out = inferResponse(result, call);
        return reply.send(200, out.body, out.contentType, out.headers);
      } catch (error) {
        throw withRequestId(error, call.kserveId);
      }
    }
    const { primary } = this.manager.route(ref);
    if (action === '/ready') return reply.json(primary.state === 'ready' ? 200 : 503, { name, ready: primary.state === 'ready' });
    const versions = this.manager.loadedModels().filter((l) => l.name === name).map((l) => l.version).sort((a, b) => a - b);
    return reply.json(200, modelMetadata(primary, versions));
  }

  /** The ref KServe's `/v2/models/{name}` means: `name` if served, else the first served ref of that model. */
  defaultRef(name: string): string {
    const refs = this.manager.servedRefs().map((s) => s.ref);
    if (refs.includes(name)) return name;
    return refs.find((r) => r.startsWith(`${name}@`)) ?? name;
  }

  /** Graceful shutdown: stop accepting, answer everything in flight, close sockets, unload models. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#ready = false;
    if (this.#sync) clearInterval(this.#sync);
    if (this.#listen) uWS.us_listen_socket_close(this.#listen);
    this.#listen = undefined;
    // gRPC drains beside HTTP (its port closed, its calls in flight answered) before the models unload.
    const grpc = this.#grpc?.close();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    await grpc;
    for (const ws of [...this.#sockets]) ws.end(1001, 'server shutting down');
    await this.manager.close();
    // The pool is the process's: another server in it boots a thread again when it needs one.
    await closeIdleThreads();
    (this.#app as { close?: () => void } | undefined)?.close?.();
    this.log.info('fresco serve: stopped');
  }
}
