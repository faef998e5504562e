/**
 * A Python model's workers for `fresco batch score`: the same runner processes and environment
 * as serving (worker.ts), fed the plan's float32 matrices one batch per worker; batches wait in a
 * FIFO for a free worker. Outputs come back as float32 values (batch writes float32 columns).
 */
import pino, { type Logger } from 'pino';
import { FrescoError } from '../errors/index.js';
import type { ModelPackage } from '../models/index.js';
import { pythonWorkers } from './index.js';
import type { PythonWorker } from './worker.js';

export interface PythonBatchResult {
  outputs: { name: string; dims: number[]; values: Float32Array }[];
  input: ArrayBuffer;
}

export class PythonModelPool {
  readonly #idle: PythonWorker[] = [];
  readonly #all: PythonWorker[] = [];
  readonly #waiting: ((worker: PythonWorker) => void)[] = [];
  /** Workers handed to a batch (from #take until its run settles). */
  readonly #leased = new Set<PythonWorker>();

  private constructor() {}

  /** Starts `count` workers of the package (its environment built first if missing). */
  static async open(pkg: ModelPackage, count: number, batchRows: number, log: Logger = pino({ level: 'warn' }, pino.destination(2))): Promise<PythonModelPool> {
    const pool = new PythonModelPool();
    const width = pkg.manifest.signature.inputs[0]?.shape[1];
    const perRow = (typeof width === 'number' ? width * 4 : 0) + pkg.manifest.signature.outputs.reduce((a, o) => a + 8 * o.shape.slice(1).reduce<number>((b, d) => b * (typeof d === 'number' ? d : 64), 1) + 16, 0);
    const start = await pythonWorkers(pkg, Math.max(1 << 20, Math.ceil(perRow * batchRows * 1.25)), log, () => pool.#wake());
    try {
      for (let i = 0; i < count; i++) pool.#all.push(start());
      await Promise.all(pool.#all.map((w) => w.ready));
    } catch (error) {
      await pool.close();
      throw error;
    }
    pool.#wake();
    return pool;
  }

  #wake(): void {
    // A restarted worker takes the next waiting batch.
    for (const w of this.#all) {
      if (w.alive && !this.#leased.has(w) && !this.#idle.includes(w)) this.#idle.push(w);
    }
    while (this.#waiting.length && this.#idle.length) {
      const w = this.#idle.shift()!;
      this.#leased.add(w);
      this.#waiting.shift()!(w);
    }
  }

  async #take(): Promise<PythonWorker> {
    for (;;) {
      const worker = this.#idle.shift() ?? (await new Promise<PythonWorker>((resolve) => this.#waiting.push(resolve)));
      this.#leased.add(worker);
      if (worker.alive) return worker;
      // It died while idle: its restart puts it back (#wake).
      this.#leased.delete(worker);
    }
  }

  /** Runs rows x width float32 features (the start of `buffer`) through the model. */
  async run(buffer: ArrayBuffer, rows: number, width: number): Promise<PythonBatchResult> {
    const worker = await this.#take();
    try {
      const byteLength = rows * width * 4;
      const outputs = await worker.run(rows, [{ dtype: 'float32', shape: [rows, width], byteLength, write: (target) => target.set(new Uint8Array(buffer, 0, byteLength)) }]);
      return {
        input: buffer,
        outputs: outputs.map((o) => {
          if (o.dtype === 'string') throw new FrescoError('FRESCO_ERR_PREDICT_FAILED', `output "${o.name}" is not numeric`);
          const values = o.data instanceof Float32Array ? o.data : Float32Array.from(o.data as ArrayLike<number | bigint>, Number);
          return { name: o.name, dims: o.shape, values };
        }),
      };
    } finally {
      this.#leased.delete(worker);
      this.#wake();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#all.map((w) => w.close()));
  }
}
