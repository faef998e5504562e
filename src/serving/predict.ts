/**
 * The transport-independent core of a prediction: route the request's ref, run it (and its
 * shadow, if any), and build the answer. Used by the WebSocket and HTTP frame transports and,
 * after converting JSON to a request message, by KServe v2.
 */
import { FrescoError, toFrescoError } from '../errors/index.js';
import type { PredictResult } from './loaded-model.js';
import type { ModelManager } from './manager.js';
import type { ServingMetrics } from './metrics.js';
import { featureDetails } from './feature-status.js';
import type { ErrorMsg, FeatureDetailMsg, PredictRequestMsg, PredictResponseMsg, RowStatusMsg, TensorMsg } from './protocol/messages.js';
import { rpcStatus } from './status.js';

export function errorReply(id: number, error: unknown): { msg: ErrorMsg; http: number; error: FrescoError } {
  const e = toFrescoError(error);
  return { msg: { type: 'error', id, status: rpcStatus(e.code), code: e.code, message: e.message }, http: e.httpStatus, error: e };
}

export function responseFor(id: number, result: PredictResult): PredictResponseMsg {
  let rowStatus: RowStatusMsg[] = [];
  if (result.rowErrors) {
    rowStatus = result.rowErrors.map((e) => (e ? { status: rpcStatus(e.code), code: e.code, message: e.message } : { status: 'OK', code: '', message: '' }));
  }
  const fs = result.featureStatus;
  if (!fs) return { type: 'predict_response', id, model: result.model, version: result.version, outputs: result.outputs, rowStatus };
  // Dataframe answers carry every row's feature state; the tables only for rows not present.
  return { type: 'predict_response', id, model: result.model, version: result.version, outputs: result.outputs, rowStatus, featureStatus: fs.summary, featureDetails: fs.states ? featureDetails(fs) : NO_DETAILS };
}

const NO_DETAILS: FeatureDetailMsg[] = [];

/** The metrics label of every ref that names no model this server has loaded. */
export const UNKNOWN_MODEL = '<unknown>';

export class Predictor {
  constructor(readonly manager: ModelManager, readonly metrics: ServingMetrics | undefined) {}

  /** Routes and runs a request; rejects with a FrescoError. `started` is performance.now() at read. */
  async run(request: PredictRequestMsg, transport: string, started: number): Promise<PredictResult> {
    try {
      const { primary, shadow } = this.manager.route(request.model);
      const timeoutMs = request.timeoutUs > 0 ? request.timeoutUs / 1000 : primary.settings.timeoutMs;
      const deadline = started + timeoutMs;
      const main = primary.predict(request, deadline, started);
      if (shadow && shadow !== primary) this.#mirror(request, main, shadow, deadline);
      const result = await main;
      // The answer is always the primary's (a shadow's is only recorded): its cached metric children.
      const meters = this.metrics ? primary.meters : undefined;
      if (meters) {
        meters.request(transport);
        meters.latency.observe((performance.now() - started) / 1000);
      }
      return result;
    } catch (error) {
      const e = toFrescoError(error);
      this.metrics?.errors.inc({ model: this.modelLabel(request.model), code: e.code });
      throw e;
    }
  }

  /**
   * The `model` label of a request's ref: its model's name when this server has loaded that
   * model, else "<unknown>". A label is a series for as long as the process lives, and a ref is
   * whatever a client wrote: 100,000 requests naming distinct unknown models grew /metrics to
   * 8 MB (and a scrape to 0.5 s of event loop). Runs on the error path only.
   */
  modelLabel(ref: string): string {
    const name = ref.split('@')[0] ?? ref;
    return this.manager.loadedModels().some((m) => m.name === name) ? name : UNKNOWN_MODEL;
  }

  #mirror(request: PredictRequestMsg, main: Promise<PredictResult>, shadow: import('./loaded-model.js').LoadedModel, deadline: number): void {
    const labels = { model: shadow.name, version: String(shadow.version) };
    const mirrored = shadow.predict(request, deadline);
    void Promise.allSettled([main, mirrored]).then(([a, b]) => {
      if (a.status !== 'fulfilled') return;
      const record = { at: new Date().toISOString(), requestId: request.id, primary: a.value.version, shadow: shadow.version, maxAbsDiff: null as number | null, error: undefined as string | undefined };
      if (b.status === 'fulfilled') {
        record.maxAbsDiff = maxAbsDiff(a.value.outputs, b.value.outputs);
        this.metrics?.shadow.inc({ ...labels, outcome: 'ok' });
      } else {
        const e = toFrescoError(b.reason);
        record.error = `${e.code}: ${e.message}`;
        this.metrics?.shadow.inc({ ...labels, outcome: e.code === 'FRESCO_ERR_RESOURCE_EXHAUSTED' ? 'dropped' : 'error' });
      }
      this.manager.recordShadow(shadow.name, record);
    });
  }
}

function maxAbsDiff(a: TensorMsg[], b: TensorMsg[]): number | null {
  let max = 0;
  for (const x of a) {
    const y = b.find((t) => t.name === x.name);
    if (!y || y.data.length !== x.data.length) return null;
    for (let i = 0; i < x.data.length; i++) max = Math.max(max, Math.abs(Number(x.data[i]) - Number(y.data[i])));
  }
  return max;
}
