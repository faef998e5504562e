/**
 * One model version's inference statistics, in the shape of Triton's statistics extension
 * (`GET /v2/models[/{name}[/versions/{v}]]/stats`, what `tritonclient.get_inference_statistics`
 * and perf_analyzer's server-side report read).
 *
 * Counted in the serving path with plain numbers on objects made once per version: no
 * allocation per request (a batch size's entry is made the first time that size runs, and batch
 * sizes are bounded by the version's max batch size). Durations are kept in milliseconds (the
 * unit of performance.now()) and shown in nanoseconds.
 *
 * As in Triton, the per-request durations of a batch count once for each request in it:
 * `compute_infer.ns` grows by the batch's run time for every request the batch answered, and
 * `batch_stats` counts each batch once.
 */

/** A count and the sum of durations (ms). */
export class Duration {
  count = 0;
  ms = 0;

  add(ms: number, n = 1): void {
    this.count += n;
    this.ms += ms * n;
  }

  toJSON(): { count: number; ns: number } {
    return { count: this.count, ns: Math.round(this.ms * 1e6) };
  }
}

class BatchStat {
  readonly input = new Duration();
  readonly infer = new Duration();
  readonly output = new Duration();
  constructor(readonly size: number) {}
}

export class InferenceStats {
  /** When a batch of this version last finished (ms since the epoch; 0: never). */
  lastInference = 0;
  /** Rows inferred (Triton counts a batch of n as n inferences). */
  inferenceCount = 0;
  /** Batches run. */
  executionCount = 0;
  /** Requests answered, and their time from being read to being answered. */
  readonly success = new Duration();
  /** Requests that reached this version and failed (bad input, full queue, deadline, a failed batch). */
  readonly fail = new Duration();
  /** Time waiting in the queue for a worker (or for a fuller batch). */
  readonly queue = new Duration();
  /** Preparing the inputs: the request's tensors or feature lookup and plan, then the batch's staging. */
  readonly computeInput = new Duration();
  /** The worker running the batch (ONNX Runtime). */
  readonly computeInfer = new Duration();
  /** Splitting the batch's outputs back into each request's answer. */
  readonly computeOutput = new Duration();
  readonly #batches: (BatchStat | undefined)[] = [];

  /**
   * One batch of `requests` requests and `rows` rows ran: the staging, run and split times of the
   * batch (ms); `prepareMs` is the sum of the requests' own input preparation.
   */
  batch(rows: number, requests: number, prepareMs: number, inputMs: number, inferMs: number, outputMs: number): void {
    this.lastInference = Date.now();
    this.inferenceCount += rows;
    this.executionCount += 1;
    this.computeInput.count += requests;
    this.computeInput.ms += prepareMs + inputMs * requests;
    this.computeInfer.add(inferMs, requests);
    this.computeOutput.add(outputMs, requests);
    const b = (this.#batches[rows] ??= new BatchStat(rows));
    b.input.add(inputMs);
    b.infer.add(inferMs);
    b.output.add(outputMs);
  }

  /** Triton's `model_stats` entry for this version. */
  toJSON(name: string, version: number): Record<string, unknown> {
    const zero = { count: 0, ns: 0 };
    return {
      name,
      version: String(version),
      last_inference: this.lastInference,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: this.success.toJSON(),
        fail: this.fail.toJSON(),
        queue: this.queue.toJSON(),
        compute_input: this.computeInput.toJSON(),
        compute_infer: this.computeInfer.toJSON(),
        compute_output: this.computeOutput.toJSON(),
        // Fresco has no response cache: every request is a miss that is not looked up.
        cache_hit: zero,
        cache_miss: zero,
      },
      response_stats: {},
      batch_stats: this.#batches.filter((b): b is BatchStat => b !== undefined).map((b) => ({
        batch_size: b.size,
        compute_input: b.input.toJSON(),
        compute_infer: b.infer.toJSON(),
        compute_output: b.output.toJSON(),
      })),
      memory_usage: [],
    };
  }
}
