/**
 * A `custom` (TypeScript `model.ts`) model version's worker thread, with the interface the
 * batcher uses for ONNX threads (ready, busy, alive, run, close): the model's load() and
 * predict() run on the thread, never on the event loop.
 *
 * The thread transpiles model.ts with TypeScript (as src/models/custom.ts does for a direct
 * load) and compiles it as a CommonJS module at its own path, so its imports resolve in the
 * package. Batches move by postMessage with their buffers transferred (custom models are
 * ordinary code: a zero-copy slot would buy little next to their own run time).
 *
 * Faults, as for Python workers (src/python/worker.ts): predict() throwing fails that batch
 * (FRESCO_ERR_PREDICT_FAILED, the stack in the log); a thread that dies fails its batch in flight
 * (FRESCO_ERR_UNAVAILABLE) and is started again with backoff; a first load() that throws or does
 * not finish in time rejects `ready`, so the version never takes traffic.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { FrescoError } from '../../errors/index.js';
import type { Manifest } from '../../models/index.js';
import { dtypeInfo, type NumericArray } from '../protocol/dtypes.js';
import type { TensorMsg } from '../protocol/messages.js';
import type { SlotInput } from './inference-worker.js';
import { RestartingLife } from './restarts.js';

const SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { dirname } = require('node:path');
const { file, dir, manifest, tsPath } = workerData;
let model, state;
const ready = (async () => {
  const ts = require(tsPath);
  const out = ts.transpileModule(readFileSync(file, 'utf8'), { fileName: file, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false } });
  const mod = new Module(file);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dirname(file));
  mod._compile(out.outputText, file);
  model = mod.exports;
  for (const name of ['load', 'predict']) if (typeof model[name] !== 'function') throw new Error('export ' + name + ' is ' + typeof model[name] + ', expected a function');
  state = await model.load({ dir, manifest });
})();
ready.then(() => parentPort.postMessage({ type: 'ready' }), (e) => parentPort.postMessage({ type: 'failed', message: String((e && e.stack) || e) }));
parentPort.on('message', async (m) => {
  try {
    const out = await model.predict(state, m.inputs);
    const outputs = [];
    const transfer = [];
    for (const name of m.outputs) {
      const value = out == null ? undefined : out[name];
      if (value === undefined) throw new Error('predict() returned no output "' + name + '"');
      outputs.push({ name, value });
      if (ArrayBuffer.isView(value) && !(value.buffer instanceof SharedArrayBuffer)) transfer.push(value.buffer);
    }
    try {
      parentPort.postMessage({ type: 'result', id: m.id, outputs }, transfer);
    } catch {
      parentPort.postMessage({ type: 'result', id: m.id, outputs }); // buffers shared with the model's state: copied
    }
  } catch (e) {
    parentPort.postMessage({ type: 'error', id: m.id, message: String((e && e.message) || e), stack: String((e && e.stack) || e) });
  }
});
`;

export interface CustomWorkerOptions {
  file: string;
  dir: string;
  manifest: Manifest;
  loadTimeoutMs: number;
  log: Logger;
  onReady?: () => void;
  /** Called when a thread that had loaded dies (it is then restarted): the restart metric. */
  onDied?: () => void;
}

type FromThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; outputs: { name: string; value: unknown }[] }
  | { type: 'error'; id: number; message: string; stack: string };

let tsPath: string | undefined;
function typescriptPath(file: string): string {
  try {
    return (tsPath ??= createRequire(import.meta.url).resolve('typescript'));
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${file}: custom models are TypeScript; install the "typescript" package to serve them`, { location: { file }, cause: error });
  }
}

export class CustomWorker {
  readonly ready: Promise<{ provider: string; skipped: string[] }>;
  busyMs = 0;
  readonly #options: CustomWorkerOptions;
  #thread: Worker | undefined;
  #busy = false;
  readonly #life: RestartingLife;
  #nextId = 1;
  #pending: { id: number; settle: (m: FromThread | undefined) => void } | undefined;

  constructor(options: CustomWorkerOptions) {
    this.#options = options;
    this.#life = new RestartingLife({ log: options.log, onDied: options.onDied });
    this.ready = new Promise((resolve, reject) => this.#start(resolve, reject));
    this.ready.catch(() => {});
  }

  get busy(): boolean {
    return this.#busy;
  }

  get alive(): boolean {
    return this.#life.alive;
  }

  /** Restarts after a death (for the metadata and the log). */
  get restarts(): number {
    return this.#life.restarts;
  }

  toForeground(): void {}

  #start(resolve?: (r: { provider: string; skipped: string[] }) => void, reject?: (e: Error) => void): void {
    const { file, dir, manifest, log } = this.#options;
    const thread = new Worker(SOURCE, { eval: true, workerData: { file, dir, manifest, tsPath: typescriptPath(manifest.model) } });
    this.#thread = thread;
    let failure = '';
    const timer = setTimeout(() => {
      failure = `load() did not finish within ${this.#options.loadTimeoutMs} ms`;
      log.error(`custom model worker: ${failure}; terminated`);
      void thread.terminate();
    }, this.#options.loadTimeoutMs);
    thread.on('message', (m: FromThread) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        this.#life.loaded();
        resolve?.({ provider: 'cpu', skipped: [] });
        this.#options.onReady?.();
      } else if (m.type === 'failed') {
        failure = m.message;
        log.error({ stack: m.message }, 'custom model: load() failed');
        void thread.terminate();
      } else if (this.#pending?.id === m.id) {
        const pending = this.#pending;
        this.#pending = undefined;
        pending.settle(m);
      }
    });
    thread.on('error', (error) => {
      failure ||= error.stack ?? error.message;
      log.error({ stack: error.stack }, 'custom model worker crashed');
    });
    thread.on('exit', (code) => {
      clearTimeout(timer);
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.settle(undefined);
      this.#life.ended(
        'custom model worker died; restarting',
        { code },
        () => reject?.(new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', `custom model failed to load: ${failure || `the thread exited (code ${code})`}`)),
        () => this.#start(),
      );
    });
  }

  async run(rows: number, inputs: SlotInput[]): Promise<TensorMsg[]> {
    if (this.#busy) throw new FrescoError('FRESCO_ERR_INTERNAL', 'custom model worker is already running a batch');
    if (!this.alive || !this.#thread) throw new FrescoError('FRESCO_ERR_UNAVAILABLE', 'custom model worker is restarting');
    const { manifest } = this.#options;
    const named: Record<string, NumericArray> = {};
    const transfer: ArrayBuffer[] = [];
    inputs.forEach((input, i) => {
      const info = dtypeInfo(input.dtype);
      if (!info || info.name === 'string') throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `dtype ${input.dtype} cannot be served`);
      const bytes = new Uint8Array(input.byteLength);
      input.write(bytes);
      named[manifest.signature.inputs[i]?.name ?? `input${i}`] = new info.array(bytes.buffer, 0, input.byteLength / info.size);
      transfer.push(bytes.buffer);
    });
    this.#busy = true;
    const started = performance.now();
    try {
      const id = this.#nextId++;
      const outputs = manifest.signature.outputs.map((o) => o.name);
      const reply = await new Promise<FromThread | undefined>((resolve) => {
        this.#pending = { id, settle: resolve };
        this.#thread!.postMessage({ id, inputs: named, outputs }, transfer);
      });
      if (!reply) throw new FrescoError('FRESCO_ERR_UNAVAILABLE', 'the custom model worker running this batch died; it is being restarted');
      if (reply.type === 'error') {
        this.#options.log.error({ stack: reply.stack }, 'custom model: predict() threw');
        throw new FrescoError('FRESCO_ERR_PREDICT_FAILED', `predict() threw: ${reply.message} (the stack is in the server log)`);
      }
      if (reply.type !== 'result') throw new FrescoError('FRESCO_ERR_INTERNAL', `unexpected message from the custom model worker: ${reply.type}`);
      return manifest.signature.outputs.map((spec, o) => toTensor(spec, reply.outputs[o]!.value, rows));
    } finally {
      this.busyMs += performance.now() - started;
      this.#busy = false;
    }
  }

  async close(): Promise<void> {
    this.#life.close();
    const thread = this.#thread;
    this.#thread = undefined;
    await thread?.terminate();
  }
}

/** An output checked against its signature: a typed array of its dtype (or numbers), rows first. */
function toTensor(spec: Manifest['signature']['outputs'][number], value: unknown, rows: number): TensorMsg {
  const info = dtypeInfo(spec.dtype);
  if (!info || info.name === 'string') throw new FrescoError('FRESCO_ERR_PREDICT_FAILED', `output "${spec.name}": dtype ${spec.dtype} cannot be served`);
  let data: NumericArray;
  if (value instanceof info.array) data = value as NumericArray;
  else if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const values = value as ArrayLike<number | bigint>;
    data = info.array === BigInt64Array || info.array === BigUint64Array ? (info.array as unknown as { from(a: ArrayLike<unknown>, f: (v: unknown) => bigint): NumericArray }).from(values, (v) => BigInt(v as number)) : (info.array as unknown as { from(a: ArrayLike<unknown>, f: (v: unknown) => number): NumericArray }).from(values, Number);
  } else throw new FrescoError('FRESCO_ERR_PREDICT_FAILED', `predict() returned output "${spec.name}" as ${typeof value}; expected a typed array or an array of numbers`);
  if (rows === 0 || data.length % rows !== 0) throw new FrescoError('FRESCO_ERR_PREDICT_FAILED', `predict() returned ${data.length} values for output "${spec.name}", not a multiple of the batch's ${rows} rows`);
  const perRow = data.length / rows;
  const shape = spec.shape.length <= 1 && perRow === 1 ? [rows] : [rows, ...(spec.shape.length > 2 ? spec.shape.slice(1).map((d) => (typeof d === 'number' ? d : perRow)) : [perRow])];
  return { name: spec.name, dtype: info.name, shape, data };
}
