/**
 * KServe v2 / Open Inference Protocol over gRPC (`inference.GRPCInferenceService`), on its own
 * port (`fresco serve --grpc-port`), with @grpc/grpc-js. A second front door to the same server:
 * the same router, batcher, models, metrics (transport "grpc") and errors as HTTP and WebSocket;
 * only the message shapes differ (convert.ts). Fresco errors map to gRPC status codes through the
 * same table as the RPC frames' status (status.ts): unknown model NOT_FOUND, bad input
 * INVALID_ARGUMENT, overload RESOURCE_EXHAUSTED, shutting down UNAVAILABLE.
 *
 * `close()` drains: the port stops accepting, every connection gets GOAWAY, calls in flight are
 * answered, open ModelStreamInfer streams are ended once their requests are answered.
 */
import type { Metadata, sendUnaryData, Server, ServerDuplexStream, ServerUnaryCall, ServiceError, UntypedServiceImplementation } from '@grpc/grpc-js';
import { FrescoError, toFrescoError } from '../../errors/index.js';
import { modelMetadata } from '../kserve.js';
import type { FrescoServer } from '../server.js';
import { withRequestId } from '../request-guards.js';
import { rpcStatus } from '../status.js';
import { TRITON_EXTENSIONS } from '../triton.js';
import { type ModelInferRequest, type ModelInferResponse, requestFromGrpc, responseToGrpc } from './convert.js';
import { packageVersion } from '../../package-root.js';
import { inferenceService } from './proto.js';
import { tritonExtensions } from './triton.js';

type Grpc = typeof import('@grpc/grpc-js');
type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

export interface GrpcOptions {
  port: number;
  host: string;
}

export class GrpcFrontend {
  #closing = false;
  readonly #streams = new Set<{ call: ServerDuplexStream<ModelInferRequest, unknown>; pending: number; ended: boolean }>();

  private constructor(readonly fresco: FrescoServer, readonly grpc: Grpc, readonly server: Server, readonly port: number) {}

  /** Listens on `host:port` (0: a free port, read back from `port`); rejects when the port is taken. */
  static async start(fresco: FrescoServer, options: GrpcOptions): Promise<GrpcFrontend> {
    const [grpc, service] = await Promise.all([import('@grpc/grpc-js'), inferenceService()]);
    const server = new grpc.Server({
      'grpc.max_receive_message_length': fresco.maxFrameBytes,
      'grpc.max_send_message_length': -1,
    });
    const address = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) => {
        if (!error) return resolve(bound);
        const taken = /EADDRINUSE/.test(error.message);
        reject(new FrescoError('FRESCO_ERR_UNAVAILABLE', `could not listen for gRPC on ${address}: ${taken ? 'the port is in use by another process; choose another with --grpc-port' : error.message}`, { location: { key: 'grpcPort' } }));
      });
    });
    const frontend = new GrpcFrontend(fresco, grpc, server, port);
    server.addService(service, frontend.#handlers());
    return frontend;
  }

  #handlers(): UntypedServiceImplementation {
    const fresco = this.fresco;
    return {
      ServerLive: this.#unary(() => ({ live: true })),
      ServerReady: this.#unary(() => ({ ready: fresco.ready })),
      // As `GET /v2` answers (server.ts).
      ServerMetadata: this.#unary(() => ({ name: 'fresco', version: packageVersion(), extensions: TRITON_EXTENSIONS })),
      ModelReady: this.#unary((req: { name: string; version: string }) => {
        // Not served is "not ready" (as Triton answers, and as tritonclient.http reads a 404).
        try {
          return { ready: fresco.manager.route(this.#ref(req.name, req.version)).primary.state === 'ready' };
        } catch (error) {
          if (rpcStatus(toFrescoError(error).code) === 'NOT_FOUND') return { ready: false };
          throw error;
        }
      }),
      ModelMetadata: this.#unary((req: { name: string; version: string }) => {
        const { primary } = fresco.manager.route(this.#ref(req.name, req.version));
        const versions = fresco.manager.loadedModels().filter((l) => l.name === primary.name).map((l) => l.version).sort((a, b) => a - b);
        return modelMetadata(primary, versions);
      }),
      // An error of a request with an `id` carries it, as KServe HTTP's error body does (#status).
      ModelInfer: this.#unary((req: ModelInferRequest, call) => this.#inferWithId(req, call.getDeadline())),
      ModelStreamInfer: (call: ServerDuplexStream<ModelInferRequest, unknown>) => this.#stream(call),
      ...tritonExtensions(fresco, this.#unary.bind(this)),
    };
  }

  /** The ref a (name, version) pair means: `name@version`, or the ref KServe HTTP's `/v2/models/{name}` means. */
  #ref(name: string, version: string): string {
    if (!name) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'the request needs a model name');
    return version ? `${name}@${version}` : this.fresco.defaultRef(name);
  }

  async #infer(req: ModelInferRequest, deadline: Date | number): Promise<ModelInferResponse> {
    const started = performance.now();
    if (this.#closing) throw new FrescoError('FRESCO_ERR_UNAVAILABLE', 'the server is shutting down');
    const ref = this.#ref(req.model_name, req.model_version);
    const { primary } = this.fresco.manager.route(ref);
    const request = requestFromGrpc(req, ref, primary);
    // The call's deadline is the request's (else the model's default timeout applies).
    const left = (typeof deadline === 'number' ? deadline : deadline.getTime()) - Date.now();
    if (Number.isFinite(left)) request.timeoutUs = Math.max(1, Math.round(left * 1000));
    const result = await this.fresco.predictor.run(request, 'grpc', started);
    return responseToGrpc(result, req.id);
  }

  /** #infer, its error carrying the request's `id` when it has one (withRequestId). */
  async #inferWithId(req: ModelInferRequest, deadline: Date | number): Promise<ModelInferResponse> {
    try {
      return await this.#infer(req, deadline);
    } catch (error) {
      throw withRequestId(error, req.id ? req.id : undefined);
    }
  }

  /** Each request answered in turn as it completes (Triton's decoupled-free stream); errors as `error_message`, the stream stays open. */
  #stream(call: ServerDuplexStream<ModelInferRequest, unknown>): void {
    const state = { call, pending: 0, ended: false };
    this.#streams.add(state);
    const finish = () => {
      if (state.ended && state.pending === 0 && this.#streams.delete(state)) call.end();
    };
    const write = (message: unknown) => {
      if (!call.writableEnded && !call.cancelled) call.write(message);
    };
    call.on('data', (req: ModelInferRequest) => {
      state.pending++;
      this.#inferWithId(req, call.getDeadline()).then(
        (response) => write({ error_message: '', infer_response: response }),
        (error) => {
          const e = this.#logged(error);
          // The id twice: in the message (a client that only logs it) and in infer_response.id.
          write({ error_message: `${e.code}: ${detailsOf(e)}`, infer_response: { model_name: req.model_name, model_version: req.model_version, id: req.id } });
        },
      ).finally(() => {
        state.pending--;
        finish();
      });
    });
    call.on('end', () => {
      state.ended = true;
      finish();
    });
    call.on('cancelled', () => this.#streams.delete(state));
  }

  /** A unary handler around a (sync or async) function: its value is the answer, its error the status. */
  #unary<Req, Res>(fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>): Unary<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => fn(call.request, call))
        .then(
          (value) => callback(null, value),
          (error) => callback(this.#status(error)),
        );
    };
  }

  #logged(error: unknown): FrescoError {
    const e = toFrescoError(error);
    if (e.code === 'FRESCO_ERR_INTERNAL') this.fresco.log.error({ err: e.message, stack: e.stack }, 'internal error (gRPC)');
    return e;
  }

  /**
   * A Fresco error as a gRPC status; its stable code rides along in the `fresco-error-code`
   * trailer, and the request's id (ModelInfer with an `id`) in `fresco-request-id` and the message.
   */
  #status(error: unknown): Partial<ServiceError> {
    const e = this.#logged(error);
    const metadata: Metadata = new this.grpc.Metadata();
    metadata.set('fresco-error-code', e.code);
    const id = e.location?.requestId;
    if (id !== undefined) metadata.set('fresco-request-id', trailerValue(id));
    return { code: this.grpc.status[rpcStatus(e.code)], details: detailsOf(e), metadata };
  }

  /** Graceful: refuse new calls, answer those in flight, end open streams when their requests are answered. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const s of this.#streams) {
      s.ended = true;
      if (s.pending === 0 && this.#streams.delete(s)) s.call.end();
    }
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

/** An error's message, ending with the request's id when it has one (a status has no other place a client reads). */
function detailsOf(e: FrescoError): string {
  const id = e.location?.requestId;
  return id === undefined ? e.message : `${e.message} (request id ${JSON.stringify(shortId(id))})`;
}

/** Ids past 256 characters are cut (with "...") where they ride in headers: clients cap their size (grpc-js at 8 KiB). */
function shortId(id: string): string {
  return id.length > 256 ? `${id.slice(0, 256)}...` : id;
}

/**
 * A metadata value must be printable ASCII (grpc-js throws otherwise, which would leave the call
 * unanswered): an id with other characters travels percent-encoded (decodeURIComponent reads it).
 */
function trailerValue(id: string): string {
  const short = shortId(id);
  return /^[\x20-\x7e]*$/.test(short) ? short : encodeURIComponent(short);
}
