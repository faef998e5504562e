/**
 * One model version's session on an inference thread (threads.ts), and its shared-memory slot
 * (layout.ts). `run` writes a batch into the slot, wakes the thread and resolves when the thread
 * flips the slot's state; it never uses postMessage. One batch at a time per worker: the batcher
 * only hands a batch to an idle worker. `close` releases the session and gives the thread back.
 */
import type { Worker } from 'node:worker_threads';
import { FrescoError } from '../../errors/index.js';
import { dtypeFromWire, dtypeInfo, type NumericArray } from '../protocol/dtypes.js';
import type { TensorMsg } from '../protocol/messages.js';
import {
  align8, DATA_END, DESC_BASE, DESC_INTS, DONE, ERR_LEN, ERROR, EXIT, HEADER_BYTES, HEADER_INTS, IDLE, MAX_RANK, MAX_TENSORS, N_IN, N_OUT, REQUEST, ROWS, SLEEPING, STATE,
} from './layout.js';
import { nativeSignals } from '../../native.js';
import { returnThread, setThreadBackground, takeThread } from './threads.js';

export interface WorkerOptions {
  modelPath: string;
  /** Execution providers in order of preference; the first that opens the model is used. */
  providers: string[];
  intraOpThreads: number;
  inputNames: string[];
  outputNames: string[];
  /** Bytes of the data region (inputs + outputs of one batch). */
  slotBytes: number;
  /** How long the worker polls for the next batch before it sleeps (layout.ts). Default 50. */
  spinMicros?: number;
}

export interface WorkerReady {
  provider: string;
  /** Providers tried before it, with why they were skipped. */
  skipped: string[];
}

/** A batch input: a tensor whose bytes are written into the slot (`write` fills them in place). */
export interface SlotInput {
  dtype: string;
  shape: number[];
  byteLength: number;
  write(target: Uint8Array): void;
}

const decoder = new TextDecoder();
// Atomics.waitAsync is in Node 20 (V8) but not in TypeScript's ES2023 lib.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/**
 * How a finished batch wakes the event loop: a Node-API thread-safe function the thread calls
 * through the addon (native/binding/src/signal.rs), one for the process, whose value says which
 * worker's batch is done. Atomics.waitAsync is the fallback (a thread without the addon): it leaves
 * ~120-190 bytes in V8's old generation per wait, and so a major GC every few seconds under load.
 */
const waiting = new Map<number, InferenceWorker>();
let signalId: number | undefined;
let nextSlotId = 1;
function processSignal(): number | undefined {
  if (signalId === undefined) signalId = nativeSignals()?.signalOpen((slot) => waiting.get(slot)?.wake());
  return signalId;
}

export class InferenceWorker {
  readonly ready: Promise<WorkerReady>;
  readonly #worker: Worker;
  readonly #ctrl: Int32Array;
  readonly #data: Uint8Array;
  #busy = false;
  #exited = false;
  #exitError: string | undefined;
  /** Set once the thread has no session of ours any more: its open failed, or it said `closed`. */
  #released: Promise<void>;
  #detach: () => void = () => {};
  /** This worker's value in the process's completion signal, and whether its thread sends it. */
  readonly #slotId = nextSlotId++;
  #signalled = false;
  #wake: (() => void) | undefined;
  /** Milliseconds spent running batches, for the utilization metric. */
  busyMs = 0;

  constructor(readonly options: WorkerOptions) {
    const dataBytes = align8(options.slotBytes);
    const { thread, slot: sab } = takeThread(HEADER_BYTES + dataBytes);
    this.#worker = thread;
    this.#ctrl = new Int32Array(sab, 0, HEADER_INTS);
    this.#data = new Uint8Array(sab, HEADER_BYTES, dataBytes);
    // The slot may come from the thread's last version, whose close left EXIT in it.
    Atomics.store(this.#ctrl, STATE, IDLE);
    Atomics.store(this.#ctrl, SLEEPING, 0);
    let released: () => void = () => {};
    this.#released = new Promise<void>((resolve) => (released = resolve));
    this.ready = new Promise<WorkerReady>((resolve, reject) => {
      const onMessage = (m: { type: string; provider?: string; skipped?: string[]; message?: string; signals?: boolean }) => {
        if (m.type === 'ready') {
          this.#signalled = m.signals === true;
          resolve({ provider: m.provider as string, skipped: m.skipped ?? [] });
        }
        else if (m.type === 'failed') {
          // The open failed: the thread holds no session and waits for the next open.
          reject(new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', m.message ?? 'the worker failed'));
          released();
        } else if (m.type === 'closed') released();
        else if (m.type === 'crashed') this.#exitError = m.message; // the thread ends; its exit event follows
      };
      const onError = (error: Error) => {
        this.#exitError = error.message;
        reject(new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', `inference worker crashed: ${error.message}`, { cause: error }));
      };
      const onExit = (code: number) => {
        this.#exited = true;
        this.wake();
        released();
        reject(new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', `inference worker exited (code ${code}) before it was ready`));
      };
      this.#worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      // The thread outlives this version (threads.ts): the next one attaches its own listeners.
      this.#detach = () => this.#worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    });
    // ONNX Runtime's intra-op threads are started by the session and inherit the thread's
    // scheduling class: a session with its own pool opens in the normal class (threads.ts).
    if (options.intraOpThreads !== 1) setThreadBackground(this.#worker, false);
    // Lifecycle promise rejections are observed by whoever awaits `ready`; keep Node quiet otherwise.
    this.ready.catch(() => {});
    const { modelPath, providers, intraOpThreads, inputNames, outputNames } = options;
    const signal = processSignal();
    if (signal !== undefined) waiting.set(this.#slotId, this);
    this.#worker.postMessage({ type: 'open', sab, slotBytes: dataBytes, modelPath, providers, intraOpThreads, inputNames, outputNames, spinMicros: options.spinMicros ?? 50, signalId: signal, slotId: this.#slotId });
  }

  get busy(): boolean {
    return this.#busy;
  }

  /** The thread's id: threads outlive versions (threads.ts), so two versions may share one in turn. */
  get threadId(): number {
    return this.#worker.threadId;
  }

  get alive(): boolean {
    return !this.#exited;
  }

  get capacity(): number {
    return this.#data.byteLength;
  }

  /** Runs one batch; resolves with the output tensors (copied out of the slot). */
  async run(rows: number, inputs: SlotInput[]): Promise<TensorMsg[]> {
    if (this.#busy) throw new FrescoError('FRESCO_ERR_INTERNAL', 'inference worker is already running a batch');
    if (this.#exited) throw new FrescoError('FRESCO_ERR_UNAVAILABLE', `inference worker is gone${this.#exitError ? `: ${this.#exitError}` : ''}`);
    if (inputs.length + this.options.outputNames.length > MAX_TENSORS) throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `at most ${MAX_TENSORS} inputs and outputs together`);
    const ctrl = this.#ctrl;
    let offset = 0;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as SlotInput;
      const info = dtypeInfo(input.dtype);
      if (!info || info.name === 'string') throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `dtype ${input.dtype} cannot be served`);
      if (input.shape.length > MAX_RANK) throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `rank ${input.shape.length} is above ${MAX_RANK}`);
      if (offset + input.byteLength > this.#data.byteLength) {
        throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `the batch (${offset + input.byteLength} bytes of inputs) does not fit the ${this.#data.byteLength}-byte slot; send fewer rows`);
      }
      const d = DESC_BASE + i * DESC_INTS;
      ctrl[d] = info.wire;
      ctrl[d + 1] = input.shape.length;
      for (let r = 0; r < input.shape.length; r++) ctrl[d + 2 + r] = input.shape[r] as number;
      ctrl[d + 2 + MAX_RANK] = offset;
      ctrl[d + 3 + MAX_RANK] = input.byteLength;
      input.write(this.#data.subarray(offset, offset + input.byteLength));
      offset = align8(offset + input.byteLength);
    }
    ctrl[ROWS] = rows;
    ctrl[N_IN] = inputs.length;
    ctrl[DATA_END] = offset;
    this.#busy = true;
    const started = performance.now();
    Atomics.store(ctrl, STATE, REQUEST);
    // Only a sleeping worker needs the (costly) futex wake; a spinning one sees REQUEST by itself.
    if (Atomics.load(ctrl, SLEEPING) !== 0) Atomics.notify(ctrl, STATE);
    try {
      let state = Atomics.load(ctrl, STATE);
      while (state === REQUEST && !this.#exited) {
        if (this.#signalled) {
          // Woken by the thread's signal (or a late one of an earlier batch: the state says).
          await new Promise<void>((resolve) => (this.#wake = resolve));
        } else {
          const waited = waitAsync(ctrl, STATE, REQUEST);
          if (waited.async) await waited.value;
        }
        state = Atomics.load(ctrl, STATE);
      }
      if (state === ERROR) {
        const message = decoder.decode(this.#data.slice(0, ctrl[ERR_LEN]));
        throw new FrescoError('FRESCO_ERR_INTERNAL', `ONNX Runtime failed: ${message}`);
      }
      if (state !== DONE) throw new FrescoError('FRESCO_ERR_UNAVAILABLE', 'inference worker stopped');
      const outputs: TensorMsg[] = [];
      const nIn = ctrl[N_IN] as number;
      const nOut = ctrl[N_OUT] as number;
      for (let o = 0; o < nOut; o++) {
        const d = DESC_BASE + (nIn + o) * DESC_INTS;
        const info = dtypeFromWire(ctrl[d] as number);
        if (!info) throw new FrescoError('FRESCO_ERR_INTERNAL', `worker wrote an unknown dtype ${ctrl[d]}`);
        const shape: number[] = [];
        for (let r = 0; r < (ctrl[d + 1] as number); r++) shape.push(ctrl[d + 2 + r] as number);
        const at = ctrl[d + 2 + MAX_RANK] as number;
        const length = ctrl[d + 3 + MAX_RANK] as number;
        const copy = this.#data.slice(at, at + length);
        outputs.push({ name: this.options.outputNames[o] as string, dtype: info.name, shape, data: new info.array(copy.buffer, 0, length / info.size) as NumericArray });
      }
      return outputs;
    } finally {
      if (Atomics.load(ctrl, STATE) !== EXIT) Atomics.store(ctrl, STATE, IDLE);
      this.busyMs += performance.now() - started;
      this.#busy = false;
    }
  }

  /**
   * Releases the session (after the current batch) and gives the thread back to the pool, or
   * ends it when the pool is full or the thread does not answer within 5 s.
   */
  async close(): Promise<void> {
    if (this.#exited) return;
    // The release (ONNX Runtime freeing the session) is background work (threads.ts).
    setThreadBackground(this.#worker, true);
    Atomics.store(this.#ctrl, STATE, EXIT);
    Atomics.notify(this.#ctrl, STATE);
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([this.#released.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5000)))]);
    clearTimeout(timer);
    this.#detach();
    waiting.delete(this.#slotId);
    if (this.#exited) return;
    this.#exited = true;
    if (answered && returnThread(this.#worker)) return;
    this.#worker.on('error', () => {}); // a thread ending with an error must not take the process down
    await this.#worker.terminate();
  }

  /** The thread signalled (a batch of this worker finished, or the thread ended): the waiting run looks again. */
  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Called once the version is warm: the thread serves in the normal scheduling class (threads.ts). */
  toForeground(): void {
    setThreadBackground(this.#worker, false);
  }
}
