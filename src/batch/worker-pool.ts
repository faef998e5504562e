/**
 * A small pool of inference workers for batch scoring. ONNX Runtime's `session.run` blocks the
 * thread it runs on, so it never runs on the main thread: the main thread reads, joins and runs
 * the plan while the workers run the models. Each worker opens every model once (one session per
 * model per worker, reused for the whole job). Messages are typed; buffers move by transfer.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { FrescoError } from '../errors/index.js';
import type { ModelPackage } from '../models/index.js';
import type { PythonModelPool } from '../python/batch-pool.js';
import { BATCH_WORKER_SOURCE } from './worker-source.js';

export interface PoolModel {
  /** Key the batches name the model by. */
  key: string;
  /** The .onnx file. */
  path: string;
  input: string;
  outputs: string[];
  /** Backend `python`: the package, run by Python worker processes (src/python) instead of threads. */
  python?: ModelPackage;
}

export interface PoolOptions {
  /** Worker threads (default 1; each runs one batch at a time). */
  workers?: number;
  /** ONNX Runtime intra-op threads per worker (default 1). */
  intraOpThreads?: number;
  /** Rows per batch (sizes a Python worker's shared-memory slot). Default 65536. */
  batchRows?: number;
}

export interface ModelOutput {
  name: string;
  dims: number[];
  values: Float32Array;
}

export interface RunResult {
  outputs: ModelOutput[];
  /** The input buffer, handed back so that the caller can reuse it. */
  input: ArrayBuffer;
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; outputs: { name: string; dims: number[]; buffer: ArrayBuffer }[]; input: ArrayBuffer }
  | { type: 'error'; id: number; message: string; input: ArrayBuffer };

interface Pending {
  resolve(result: RunResult): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  busy: number;
  pending: Map<number, Pending>;
}

export class InferencePool {
  private readonly slots: Slot[] = [];
  /** Python models by key: their worker processes (as many as `workers`). */
  private readonly python = new Map<string, PythonModelPool>();
  private workers = 1;
  private nextId = 1;
  private closed = false;

  private constructor() {}

  /** Starts the workers and opens every model in each; rejects if any model fails to open. */
  static async open(models: PoolModel[], options: PoolOptions = {}): Promise<InferencePool> {
    const pool = new InferencePool();
    const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
    const count = Math.max(1, Math.floor(options.workers ?? 1));
    pool.workers = count;
    const onnx = models.filter((m) => !m.python);
    try {
      for (const m of models) {
        if (!m.python) continue;
        const { PythonModelPool } = await import('../python/batch-pool.js');
        pool.python.set(m.key, await PythonModelPool.open(m.python, count, options.batchRows ?? 65536));
      }
      await Promise.all(
        Array.from({ length: onnx.length ? count : 0 }, async () => {
          const worker = new Worker(BATCH_WORKER_SOURCE, { eval: true, workerData: { ortPath, intraOpThreads: options.intraOpThreads ?? 1 } });
          const slot: Slot = { worker, busy: 0, pending: new Map() };
          pool.slots.push(slot);
          await new Promise<void>((resolve, reject) => {
            const onMessage = (msg: FromWorker) => {
              if (msg.type === 'ready') resolve();
              else if (msg.type === 'failed') reject(new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', `an inference worker could not open a model: ${msg.message}`));
            };
            worker.once('message', onMessage);
            worker.once('error', reject);
            worker.postMessage({ type: 'open', models: onnx });
          });
          worker.on('message', (msg: FromWorker) => pool.settle(slot, msg));
          worker.on('error', (error) => pool.failAll(slot, error));
          worker.on('exit', (code) => pool.failAll(slot, new Error(`inference worker exited with code ${code}`)));
        }),
      );
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.workers;
  }

  /** Runs `rows` x `width` float32 features (the first rows*width values of `buffer`, transferred) through model `key`. */
  run(key: string, buffer: ArrayBuffer, rows: number, width: number): Promise<RunResult> {
    if (this.closed) return Promise.reject(new FrescoError('FRESCO_ERR_INTERNAL', 'the inference pool is closed'));
    const python = this.python.get(key);
    if (python) return python.run(buffer, rows, width);
    // Least busy worker: batches are similar in size, so this balances well.
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    const id = this.nextId++;
    slot.busy++;
    return new Promise<RunResult>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ type: 'run', id, model: key, buffer, rows, width }, [buffer]);
    });
  }

  private settle(slot: Slot, msg: FromWorker): void {
    if (msg.type !== 'result' && msg.type !== 'error') return;
    const pending = slot.pending.get(msg.id);
    if (!pending) return;
    slot.pending.delete(msg.id);
    slot.busy--;
    if (msg.type === 'error') pending.reject(new FrescoError('FRESCO_ERR_INTERNAL', `ONNX Runtime failed on a batch: ${msg.message}`));
    else pending.resolve({ outputs: msg.outputs.map((o) => ({ name: o.name, dims: o.dims, values: new Float32Array(o.buffer) })), input: msg.input });
  }

  private failAll(slot: Slot, error: Error): void {
    for (const p of slot.pending.values()) p.reject(error);
    slot.pending.clear();
    slot.busy = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.slots.map((s) => s.worker.terminate()), ...[...this.python.values()].map((p) => p.close())]);
  }
}
