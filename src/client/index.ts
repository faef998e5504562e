/**
 * `fresco/client`: the TypeScript client of the serving runtime (docs/serving.md). One
 * WebSocket per client, reused; requests are pipelined on it and matched to answers by id;
 * each has a timeout (also sent to the server as its deadline). Results are typed: outputs by
 * name with their dtype, shape and typed-array data. Failures throw FrescoError with the
 * server's stable code (FRESCO_ERR_RESOURCE_EXHAUSTED, FRESCO_ERR_INPUT_INVALID...).
 */
import { FrescoError, isErrorCode } from '../errors/index.js';
import type { Dtype } from '../models/index.js';
import { decodeFrame, encodeFrame } from '../serving/protocol/codec.js';
import { dtypeOfArray, type NumericArray } from '../serving/protocol/dtypes.js';
import { FEATURE_STATES, type ErrorMsg, type FeatureStateName, type PredictRequestMsg, type PredictResponseMsg, type RowMsg, type RowStatusMsg, type Scalar, type TensorMsg } from '../serving/protocol/messages.js';
import { MiniWebSocket } from './websocket.js';

export type { Scalar, RowMsg as Row, RowStatusMsg as RowStatus, NumericArray, FeatureStateName as FeatureState };

export interface TensorInput {
  data: NumericArray;
  shape: number[];
  /** Defaults to the typed array's type (pass `bool` for a Uint8Array of 0/1). */
  dtype?: Dtype;
}

export interface PredictInput {
  /** Tensor models: named tensors, first dimension = rows. */
  tensors?: Record<string, TensorInput>;
  /** Dataframe models: one entry per row. */
  rows?: { keys?: Record<string, Scalar>; fields?: Record<string, Scalar> }[];
  /** Outputs to return (default: all). */
  outputs?: string[];
  /** Overrides the client's timeout for this request, in milliseconds. */
  timeoutMs?: number;
}

export interface OutputTensor {
  dtype: Dtype;
  shape: number[];
  data: NumericArray;
}

export interface Prediction {
  model: string;
  /** The version that answered (after alias, split routing). */
  version: number;
  outputs: Record<string, OutputTensor>;
  /** Per row, when some row of a dataframe request failed; empty when all succeeded. */
  rowStatus: RowStatusMsg[];
  /**
   * Dataframe models: per row, what the online-feature lookup found for its entity: `present`
   * (every looked-up table had a current row), `missing` (some table had none: its features were
   * null), `expired` (some table's row was older than its TTL), `unknown` (the row failed before
   * the lookup: see rowStatus). Empty for tensor models. A row that is not `present` was
   * answered from null features (the model's `missingFeatures: serve` policy) or failed (`fail`).
   */
  featureStatus: FeatureStateName[];
  /** The tables behind each row that is not `present`. */
  featureDetails: { row: number; table: string; status: FeatureStateName }[];
}

export interface ClientOptions {
  /** Per-request timeout in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Connect timeout in milliseconds (default 5000). */
  connectTimeoutMs?: number;
}

interface Pending {
  resolve(p: Prediction): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export function toRequest(id: number, model: string, input: PredictInput, timeoutMs: number): PredictRequestMsg {
  const tensors: TensorMsg[] = Object.entries(input.tensors ?? {}).map(([name, t]) => ({ name, dtype: t.dtype ?? dtypeOfArray(t.data), shape: t.shape, data: t.data }));
  const rows: RowMsg[] = (input.rows ?? []).map((r) => ({ keys: r.keys ?? {}, fields: r.fields ?? {} }));
  return { type: 'predict_request', id, model, rows, tensors, timeoutUs: Math.min(0xffff_ffff, Math.round(timeoutMs * 1000)), outputs: input.outputs ?? [] };
}

export function toPrediction(msg: PredictResponseMsg): Prediction {
  const outputs: Record<string, OutputTensor> = {};
  for (const t of msg.outputs) outputs[t.name] = { dtype: t.dtype, shape: t.shape, data: t.data };
  const featureStatus = Array.from(msg.featureStatus ?? [], (s) => FEATURE_STATES[s] ?? 'unknown');
  const featureDetails = (msg.featureDetails ?? []).map((d) => ({ row: d.row, table: d.table, status: FEATURE_STATES[d.state] ?? 'unknown' }));
  return { model: msg.model, version: msg.version, outputs, rowStatus: msg.rowStatus, featureStatus, featureDetails };
}

export function toError(msg: ErrorMsg): FrescoError {
  const code = isErrorCode(msg.code) ? msg.code : 'FRESCO_ERR_INTERNAL';
  return new FrescoError(code, msg.message, { location: { requestId: String(msg.id) } });
}

export class FrescoClient {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  #ws: MiniWebSocket | undefined;
  #connecting: Promise<MiniWebSocket> | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  /** `url`: `ws://host:port` (the path /v1/ws is added when missing). */
  constructor(url: string, options: ClientOptions = {}) {
    const u = new URL(url.replace(/^http/, 'ws'));
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/ws';
    this.#url = u.toString();
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  }

  static async connect(url: string, options: ClientOptions = {}): Promise<FrescoClient> {
    const client = new FrescoClient(url, options);
    await client.#socket();
    return client;
  }

  /** Requests sent and not yet answered. */
  get pending(): number {
    return this.#pending.size;
  }

  async #socket(): Promise<MiniWebSocket> {
    if (this.#ws && !this.#ws.closed) return this.#ws;
    this.#connecting ??= MiniWebSocket.connect(this.#url, this.#connectTimeoutMs)
      .then((ws) => {
        ws.onmessage = (data) => this.#onMessage(data);
        ws.onclose = (reason) => this.#failAll(new FrescoError('FRESCO_ERR_UNAVAILABLE', `connection to ${this.#url} lost: ${reason}`));
        this.#ws = ws;
        return ws;
      })
      .catch((error: Error) => {
        throw new FrescoError('FRESCO_ERR_UNAVAILABLE', `cannot connect to ${this.#url}: ${error.message}`, { cause: error });
      })
      .finally(() => {
        this.#connecting = undefined;
      });
    return this.#connecting;
  }

  /** Sends one prediction; many may be in flight at once on the one connection. */
  async predict(model: string, input: PredictInput): Promise<Prediction> {
    const ws = await this.#socket();
    const id = this.#nextId++;
    const timeoutMs = input.timeoutMs ?? this.#timeoutMs;
    const frame = encodeFrame(toRequest(id, model, input, timeoutMs), { reuse: true });
    return new Promise<Prediction>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new FrescoError('FRESCO_ERR_DEADLINE_EXCEEDED', `${model}: no answer within ${timeoutMs} ms`, { location: { requestId: String(id) } }));
      }, timeoutMs + 50);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        ws.send(frame);
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new FrescoError('FRESCO_ERR_UNAVAILABLE', `send failed: ${(error as Error).message}`));
      }
    });
  }

  #onMessage(data: Uint8Array): void {
    let msg;
    try {
      msg = decodeFrame(data);
    } catch {
      return; // A frame we cannot read names no request we could fail; its request will time out.
    }
    const p = this.#pending.get(msg.id);
    if (!p) {
      // An error for a frame the server could not read at all carries id 0: fail the oldest.
      return;
    }
    this.#pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.type === 'predict_response') p.resolve(toPrediction(msg));
    else if (msg.type === 'error') p.reject(toError(msg));
    else p.reject(new FrescoError('FRESCO_ERR_FRAME_INVALID', `unexpected ${msg.type} frame from the server`));
  }

  #failAll(error: FrescoError): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(error);
      this.#pending.delete(id);
    }
  }

  close(): void {
    this.#ws?.close();
    this.#ws = undefined;
  }
}

/** One prediction over HTTP POST /v1/predict (one frame in, one out), with fetch's connection reuse. */
export async function predictHttp(baseUrl: string, model: string, input: PredictInput, timeoutMs = 5000): Promise<Prediction> {
  const frame = encodeFrame(toRequest(1, model, input, timeoutMs));
  const url = new URL('/v1/predict', baseUrl.replace(/^ws/, 'http'));
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body: frame, headers: { 'content-type': 'application/x-fresco-frame' }, signal: AbortSignal.timeout(timeoutMs + 50) });
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_UNAVAILABLE', `POST ${url}: ${(error as Error).message}`, { cause: error });
  }
  const msg = decodeFrame(new Uint8Array(await res.arrayBuffer()));
  if (msg.type === 'predict_response') return toPrediction(msg);
  if (msg.type === 'error') throw toError(msg);
  throw new FrescoError('FRESCO_ERR_FRAME_INVALID', `unexpected ${msg.type} frame from the server`);
}
