/**
 * One model version loaded for serving: its inference workers (each with its own ONNX Runtime
 * session and shared-memory slot), its bounded queue and its dynamic batcher. Requests for the
 * version are coalesced into batches of up to `maxBatchSize` rows (waiting at most
 * `maxQueueDelayMs` for more), handed to an idle worker through shared memory, and the output
 * rows are split back per request. Lifecycle: load -> warm up -> serve -> drain -> close.
 */
import type { Logger } from 'pino';
import { FrescoError, toFrescoError } from '../errors/index.js';
import type { ModelPackage } from '../models/index.js';
import { resolveInPackage } from '../models/index.js';
import type { FeatureLookup } from './feature-lookup.js';
import { compilePlanAsync, type CompiledPlan } from '../plan/index.js';
import { inputPreparer, type InputPreparer, type Prepared } from './inputs.js';
import { describeContract, type DataframeContract } from './dataframe-contract.js';
import type { FeatureStatus } from './feature-status.js';
import { InferenceStats } from './inference-stats.js';
import type { ServingMetrics, VersionMeters } from './metrics.js';
import { InferenceWorker } from './pool/inference-worker.js';
import { HEADER_BYTES } from './pool/layout.js';
import { dtypeInfo, type NumericArray } from './protocol/dtypes.js';
import type { PredictRequestMsg, TensorMsg } from './protocol/messages.js';
import type { ModelSettings } from './settings.js';
import { betweenLoadSteps } from './pace.js';
import type { PythonWorker } from '../python/worker.js';
import type { CustomWorker } from './pool/custom-worker.js';

/** What the batcher hands batches to: an ONNX thread, a Python process or a custom model's thread. */
type BatchWorker = InferenceWorker | PythonWorker | CustomWorker;

export interface PredictResult {
  model: string;
  version: number;
  outputs: TensorMsg[];
  /** Dataframe rows that failed (undefined: every row succeeded). */
  rowErrors: (FrescoError | undefined)[] | undefined;
  /** Dataframe models: what the feature lookup found per row (feature-status.ts); undefined for tensor models. */
  featureStatus: FeatureStatus | undefined;
}

interface Pending {
  prepared: Prepared;
  outputs: string[];
  deadline: number;
  enqueued: number;
  /** Time the request's own input preparation took (ms), for the statistics. */
  prepareMs: number;
  resolve(outputs: TensorMsg[]): void;
  reject(error: FrescoError): void;
}

export type ModelState = 'loading' | 'ready' | 'draining' | 'closed';

export interface LoadOptions {
  name: string;
  version: number;
  pkg: ModelPackage;
  settings: ModelSettings;
  lookup?: FeatureLookup | undefined;
  metrics?: ServingMetrics | undefined;
  log: Logger;
}

let nextKey = 0;

export class LoadedModel {
  readonly name: string;
  readonly version: number;
  readonly pkg: ModelPackage;
  readonly settings: ModelSettings;
  state: ModelState = 'loading';
  provider = 'cpu';
  readonly #workers: BatchWorker[] = [];
  /** Backends `python` (a process, src/python) and `custom` (a thread): starts one worker; undefined for ONNX. */
  #ownWorker: (() => PythonWorker | CustomWorker) | undefined;
  readonly #preparer: InputPreparer;
  readonly #queue: Pending[] = [];
  #queuedRows = 0;
  #inFlight = 0;
  #scheduled = false;
  #delayTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;
  readonly #metrics: ServingMetrics | undefined;
  readonly #log: Logger;
  readonly #key = `m${nextKey++}`;
  /** This version's metric children (undefined without metrics). */
  readonly meters: VersionMeters | undefined;
  /** Triton-style statistics of this version (inference-stats.ts). */
  readonly stats = new InferenceStats();
  readonly #outputNames: string[];
  /** Dataframe models: what a caller sends (entity keys, request fields), for the metadata. */
  readonly contract: DataframeContract | undefined;

  private constructor(options: LoadOptions, compiled: CompiledPlan | undefined, contract: DataframeContract | undefined) {
    this.name = options.name;
    this.version = options.version;
    this.pkg = options.pkg;
    this.settings = options.settings;
    this.#metrics = options.metrics;
    this.#log = options.log.child({ model: options.name, version: options.version });
    this.#outputNames = options.pkg.manifest.signature.outputs.map((o) => o.name);
    this.contract = contract;
    const tableKeys = contract ? Object.fromEntries(contract.tables.map((t) => [t.table, t.keys])) : {};
    this.#preparer = inputPreparer(options.pkg.manifest, options.pkg.plan, options.settings.maxBatchSize, options.lookup, compiled, { missingFeatures: options.settings.missingFeatures, tableKeys });
    // Last: a version that fails here leaves no metrics behind (close() untracks the rest).
    this.meters = options.metrics?.meters(this.name, String(this.version));
  }

  /** Loads the version: starts its workers, waits until each opened the model, warms each up. */
  static async load(options: LoadOptions): Promise<LoadedModel> {
    // Step by step, with a pause for serving after each (pace.ts): compile the plan, build the
    // preparer, then open and warm the workers.
    let model: LoadedModel;
    try {
      const dataframe = options.pkg.plan && options.pkg.manifest.input_kind === 'dataframe' ? options.pkg.plan : undefined;
      const compiled = dataframe ? await compilePlanAsync(dataframe) : undefined;
      await betweenLoadSteps();
      // The keys each looked-up table needs (the store's schema, read once here): the metadata's inputs.
      const contract = dataframe ? await describeContract(dataframe, options.lookup) : undefined;
      model = new LoadedModel(options, compiled, contract);
    } catch (error) {
      throw loadFailed(options, error);
    }
    try {
      if (options.pkg.manifest.backend === 'python') {
        // The environment (built on first use) and packages.txt, before any worker starts.
        const { pythonWorkers } = await import('../python/index.js');
        const self = model;
        model.#ownWorker = await pythonWorkers(options.pkg, model.#slotBytes, model.#log, () => self.#schedule(), () => self.#restarted(), options.settings.memoryLimitMb);
      } else if (options.pkg.manifest.backend === 'custom') {
        const [{ CustomWorker }, { loadTimeoutMs }] = await Promise.all([import('./pool/custom-worker.js'), import('../python/index.js')]);
        const self = model;
        const { dir, manifest } = options.pkg;
        const file = resolveInPackage(dir, manifest.model) as string;
        model.#ownWorker = () => new CustomWorker({ file, dir, manifest, loadTimeoutMs: loadTimeoutMs(), log: self.#log, onReady: () => self.#schedule(), onDied: () => self.#restarted() });
      }
      await betweenLoadSteps();
      await model.#start();
      return model;
    } catch (error) {
      await model.close();
      throw loadFailed(options, error);
    }
  }

  /** An inference worker for this version (a thread from the pool, its session opening). */
  #worker(providers: string[]): BatchWorker {
    if (this.#ownWorker) return this.#ownWorker();
    const { manifest, dir } = this.pkg;
    return new InferenceWorker({
      modelPath: resolveInPackage(dir, manifest.model) as string,
      providers,
      intraOpThreads: this.settings.intraOpThreads,
      inputNames: manifest.signature.inputs.map((s) => s.name),
      outputNames: this.#outputNames,
      slotBytes: this.#slotBytes,
    });
  }

  /** A Python or custom worker died while serving (it restarts itself): counted in /metrics. */
  #restarted(): void {
    this.#metrics?.workerRestarts.inc({ model: this.name, version: String(this.version) });
  }

  /** Bytes of a worker's slot: the setting, or enough for a full batch of this signature. */
  get #slotBytes(): number {
    return this.settings.slotBytes ?? slotSize(this.pkg, this.settings.maxBatchSize);
  }

  async #start(): Promise<void> {
    for (let i = 0; i < this.settings.instances; i++) this.#workers.push(this.#worker(this.settings.providers));
    const ready = await Promise.all(this.#workers.map((w) => w.ready));
    this.provider = ready[0]?.provider ?? 'cpu';
    for (const skipped of ready[0]?.skipped ?? []) this.#log.warn({ provider: skipped }, `execution provider unavailable, falling back: ${skipped}`);
    // Warm up every worker with one row and with a full batch, and check the outputs.
    const one = this.#preparer.warmup(1);
    const full = this.#preparer.warmup(this.settings.maxBatchSize);
    for (const worker of this.#workers) {
      for (const batch of [one, full]) {
        const outputs = await worker.run(batch.rows, this.#preparer.batchInputs([batch], batch.rows));
        for (const name of this.#outputNames) {
          const out = outputs.find((o) => o.name === name);
          if (!out) throw new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', `warm-up produced no output "${name}"`);
          if (out.shape[0] !== batch.rows) throw new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', `warm-up output "${name}" has ${out.shape[0]} rows for ${batch.rows} input rows`);
        }
      }
    }
    // Warm: from now on its threads serve, in the normal scheduling class (pool/threads.ts).
    for (const worker of this.#workers) worker.toForeground();
    this.state = 'ready';
    this.#metrics?.trackUtilization(this.#key, this.name, String(this.version), this.#workers.length, () => this.#workers.reduce((a, w) => a + w.busyMs, 0));
    this.#log.info({ provider: this.provider, instances: this.#workers.length, slotBytes: this.#slotBytes }, 'model version loaded and warmed up');
  }

  /**
   * Runs `batches` warm-up batches of this version on each of `threads` idle inference
   * threads (the spares a server keeps for hot swaps), then gives them back. A spare's batch
   * code is then compiled before its first swap, instead of being interpreted, then compiled in
   * the background, while it serves the swapped-in version (Triton-style model warm-up, done
   * for the threads as well as for the version).
   *
   * Each batch is a thread round trip; beside other busy processes every one may wait for a
   * scheduler slice, and far longer on a thread in SCHED_IDLE (measured here: 34 ms instead of
   * 30 µs), so a thread stops after `budgetMs` even if it ran fewer batches. Returns the fewest
   * batches a thread ran.
   */
  async rehearse(threads: number, batches: number, budgetMs: number): Promise<number> {
    // Spare threads serve ONNX versions; Python and custom versions run in workers of their own.
    if (this.#ownWorker) return batches;
    // The provider this version opened with: the ones it fell back from would fail again.
    const workers = Array.from({ length: threads }, () => this.#worker([this.provider]));
    try {
      await Promise.all(workers.map((w) => w.ready));
      // Mostly single rows, and now and then a full batch (a larger staging buffer: its path too).
      const one = this.#preparer.warmup(1);
      const full = this.#preparer.warmup(this.settings.maxBatchSize);
      const end = performance.now() + budgetMs;
      const ran = await Promise.all(workers.map(async (w) => {
        let i = 0;
        for (; i < batches && performance.now() < end; i++) {
          const batch = i % 16 === 15 ? full : one;
          await w.run(batch.rows, this.#preparer.batchInputs([batch], batch.rows));
        }
        return i;
      }));
      return Math.min(batches, ...ran);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  }

  get inputKind(): 'dataframe' | 'tensor' {
    return this.pkg.manifest.input_kind;
  }

  get queuedRows(): number {
    return this.#queuedRows;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Runs one request through the batcher. `deadline` is a performance.now() time; `started`, when
   * the request was read (for the statistics; default: now).
   */
  async predict(request: PredictRequestMsg, deadline: number, started = performance.now()): Promise<PredictResult> {
    if (this.state === 'closed' || this.state === 'loading') throw new FrescoError('FRESCO_ERR_UNAVAILABLE', `${this.name}@${this.version} is not serving`);
    // In flight from here (lookup included), so a drain waits for this request.
    this.#inFlight++;
    try {
      for (const o of request.outputs) {
        if (!this.#outputNames.includes(o)) throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `unknown output "${o}"; the model has ${this.#outputNames.map((n) => `"${n}"`).join(', ')}`, { location: { key: o } });
      }
      const preparing0 = performance.now();
      // Tensor inputs are prepared synchronously: no await (and no extra microtask turn) for them.
      const preparing = this.#preparer.prepare(request);
      const prepared = preparing instanceof Promise ? await preparing : preparing;
      if (this.#queuedRows + prepared.rows > this.settings.maxQueueRows) {
        throw new FrescoError('FRESCO_ERR_RESOURCE_EXHAUSTED', `${this.name}@${this.version}: the queue is full (${this.#queuedRows} rows waiting, limit ${this.settings.maxQueueRows}); retry later`);
      }
      if (performance.now() >= deadline) throw deadlineError(this);
      const outputs = await new Promise<TensorMsg[]>((resolve, reject) => {
        const enqueued = performance.now();
        this.#queue.push({ prepared, outputs: request.outputs, deadline, enqueued, prepareMs: enqueued - preparing0, resolve, reject });
        this.#queuedRows += prepared.rows;
        this.#schedule();
      });
      this.stats.success.add(performance.now() - started);
      const featureStatus = prepared.featureSummary ? { summary: prepared.featureSummary, states: prepared.featureStates, tables: this.#preparer.featureTables ?? [] } : undefined;
      return { model: this.name, version: this.version, outputs, rowErrors: prepared.rowErrors, featureStatus };
    } catch (error) {
      this.stats.fail.add(performance.now() - started);
      throw error;
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0 && this.#drained) this.#drained();
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: requests read in the same event-loop turn join one batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    this.#dispatchBatches();
    if (this.meters) this.meters.queueDepth = this.#queuedRows;
    // Deadlines are checked at dispatch; the sweep covers requests left waiting for a worker (or
    // for a fuller batch). Armed only then, not per request (#take and #sweep disarm it).
    if (this.#queue.length) this.#sweepTimer ??= setInterval(() => this.#sweep(), 5);
  }

  #dispatchBatches(): void {
    while (this.#queue.length) {
      const worker = this.#workers.find((w) => !w.busy && w.alive);
      if (!worker) return;
      const now = performance.now();
      const head = this.#queue[0] as Pending;
      const delay = this.settings.maxQueueDelayMs;
      if (delay > 0 && this.#queuedRows < this.settings.maxBatchSize && now - head.enqueued < delay) {
        this.#delayTimer ??= setTimeout(() => {
          this.#delayTimer = undefined;
          this.#dispatch();
        }, Math.max(1, delay - (now - head.enqueued)));
        return;
      }
      const batch: Pending[] = [];
      let rows = 0;
      while (this.#queue.length) {
        const next = this.#queue[0] as Pending;
        if (next.deadline <= now) {
          this.#take();
          next.reject(deadlineError(this));
          continue;
        }
        if (batch.length && (rows + next.prepared.rows > this.settings.maxBatchSize || !sameTails(batch[0]!.prepared, next.prepared))) break;
        this.#take();
        batch.push(next);
        rows += next.prepared.rows;
        this.stats.queue.add(now - next.enqueued);
      }
      if (batch.length) void this.#runBatch(worker, batch, rows);
    }
  }

  #take(): Pending {
    const p = this.#queue.shift() as Pending;
    this.#queuedRows -= p.prepared.rows;
    if (!this.#queue.length && this.#sweepTimer) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
    return p;
  }

  async #runBatch(worker: BatchWorker, batch: Pending[], rows: number): Promise<void> {
    this.meters?.batchSize.observe(rows);
    const staging = performance.now();
    let running = staging;
    let outputs: TensorMsg[];
    try {
      const inputs = this.#preparer.batchInputs(batch.map((p) => p.prepared), rows);
      running = performance.now();
      outputs = await worker.run(rows, inputs);
    } catch (error) {
      const e = toFrescoError(error);
      this.#log.error({ err: e.message, rows }, 'batch failed');
      for (const p of batch) p.reject(e);
      this.#schedule();
      return;
    }
    const ran = performance.now();
    // Hand the next batch (what queued while this one ran) to the worker before answering this
    // one: the worker runs it while the event loop encodes and writes this batch's answers, and a
    // worker still spinning after its last batch picks it up without a futex wake.
    if (this.#queue.length) this.#dispatch();
    const splitting = performance.now();
    let start = 0;
    let prepareMs = 0;
    for (const p of batch) {
      const mine: TensorMsg[] = [];
      for (const out of outputs) {
        if (p.outputs.length && !p.outputs.includes(out.name)) continue;
        mine.push(sliceRows(out, rows, start, p.prepared.rows, batch.length));
      }
      start += p.prepared.rows;
      prepareMs += p.prepareMs;
      // Resolving only schedules the request's continuation: the statistics below are counted
      // before any answer goes out.
      p.resolve(mine);
    }
    this.stats.batch(rows, batch.length, prepareMs, running - staging, ran - running, performance.now() - splitting);
    // Requests that arrive from now on schedule themselves; this catches any left by a failed dispatch.
    if (this.#queue.length) this.#schedule();
  }

  /** Rejects queued requests whose deadline passed while every worker was busy. */
  #sweep(): void {
    const now = performance.now();
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const p = this.#queue[i] as Pending;
      if (p.deadline <= now) {
        this.#queue.splice(i, 1);
        this.#queuedRows -= p.prepared.rows;
        p.reject(deadlineError(this));
      }
    }
    if (!this.#queue.length && this.#sweepTimer) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
    if (this.meters) this.meters.queueDepth = this.#queuedRows;
  }

  /** Waits until every request routed here before the call has been answered. */
  async drain(): Promise<void> {
    if (this.state === 'ready') this.state = 'draining';
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    this.#drained = undefined;
  }

  /** Stops the workers and releases the sessions (call after drain). */
  async close(): Promise<void> {
    this.state = 'closed';
    if (this.#delayTimer) clearTimeout(this.#delayTimer);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    for (const p of this.#queue.splice(0)) p.reject(new FrescoError('FRESCO_ERR_UNAVAILABLE', `${this.name}@${this.version} was unloaded`));
    this.#queuedRows = 0;
    this.#metrics?.untrack(this.#key, this.name, String(this.version), this.meters);
    await Promise.all(this.#workers.map((w) => w.close()));
  }

  /** What /v2/models/{name}/versions/{v} and the admin API report. */
  metadata(): Record<string, unknown> {
    const m = this.pkg.manifest;
    return {
      name: this.name,
      version: this.version,
      state: this.state,
      provider: this.provider,
      inputKind: m.input_kind,
      inputs: m.signature.inputs,
      outputs: m.signature.outputs,
      planInputs: this.pkg.plan?.inputs.map((i) => i.name),
      packageChecksum: this.pkg.checksum,
      settings: this.settings,
      queuedRows: this.#queuedRows,
      inFlight: this.#inFlight,
    };
  }
}

function loadFailed(options: LoadOptions, error: unknown): FrescoError {
  const e = toFrescoError(error);
  const prefix = `${options.name}@${options.version} failed to load or warm up`;
  return new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', e.message.startsWith(prefix) ? e.message : `${prefix}: ${e.message}`, { cause: error });
}

function deadlineError(model: LoadedModel): FrescoError {
  return new FrescoError('FRESCO_ERR_DEADLINE_EXCEEDED', `${model.name}@${model.version}: the request's deadline passed before a worker could run it`);
}

function sameTails(a: Prepared, b: Prepared): boolean {
  for (let i = 0; i < a.tails.length; i++) {
    const x = a.tails[i] as number[];
    const y = b.tails[i] as number[];
    if (x.length !== y.length || x.some((d, j) => d !== y[j])) return false;
  }
  return true;
}

function sliceRows(out: TensorMsg, total: number, start: number, rows: number, requests: number): TensorMsg {
  if (out.shape[0] !== total) {
    if (requests === 1) return out;
    throw new FrescoError('FRESCO_ERR_INTERNAL', `output "${out.name}" has ${out.shape[0]} rows for a batch of ${total}`);
  }
  if (requests === 1) return out;
  const perRow = out.data.length / total;
  // A view: the batch's outputs were already copied out of the worker's slot for this batch alone.
  return { name: out.name, dtype: out.dtype, shape: [rows, ...out.shape.slice(1)], data: out.data.subarray(start * perRow, (start + rows) * perRow) as NumericArray };
}

/** Bytes for one batch of inputs and outputs, from the signature (dynamic dimensions count as 64). */
function slotSize(pkg: ModelPackage, maxBatch: number): number {
  let perRow = 0;
  for (const t of [...pkg.manifest.signature.inputs, ...pkg.manifest.signature.outputs]) {
    const size = dtypeInfo(t.dtype)?.size || 8;
    perRow += t.shape.slice(1).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 64), 1) * size + 16;
  }
  return Math.max(1 << 20, Math.ceil(perRow * maxBatch * 1.25) + HEADER_BYTES);
}
