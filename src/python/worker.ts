/**
 * One Python worker process of a model version (python/fresco_runner.py), with the interface the
 * batcher uses for an inference thread (ready, busy, alive, run, close).
 *
 * Hand-over: a slot file in /dev/shm, created and unlinked here and passed to the runner as fd 4
 * (so no file outlives either process, even after a kill -9); the runner maps it. A batch is
 * written with one pwrite (header + raw little-endian input buffers, the layout of
 * src/serving/pool/layout.ts), the doorbell is one byte on the runner's stdin, the answer one
 * byte on its fd 3, and the outputs are read back with one pread. No JSON or pickle per batch.
 *
 * Faults: an exception in predict fails that batch (FRESCO_ERR_PREDICT_FAILED, the
 * traceback in the log); a runner that dies fails only its batch in flight
 * (FRESCO_ERR_PYTHON_WORKER_DIED) and is started again with backoff (0.1 s doubling to 5 s);
 * `onReady` tells the batcher when it takes work again. A first load() that raises, or does not
 * finish within the load timeout, rejects `ready`: the version never takes traffic.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { FrescoError } from '../errors/index.js';
import { packageRoot } from '../package-root.js';
import type { SlotInput } from '../serving/pool/inference-worker.js';
import { RestartingLife } from '../serving/pool/restarts.js';
import { align8, DATA_END, DESC_BASE, DESC_INTS, ERR_LEN, HEADER_BYTES, HEADER_INTS, MAX_RANK, MAX_TENSORS, N_IN, N_OUT, ROWS } from '../serving/pool/layout.js';
import { dtypeFromWire, dtypeInfo, type NumericArray } from '../serving/protocol/dtypes.js';
import type { TensorMsg } from '../serving/protocol/messages.js';

const OUT_END = 7;

export interface PythonWorkerOptions {
  python: string;
  /** Runner configuration (fresco_runner.py's FRESCO_RUNNER_CONFIG). */
  config: Record<string, unknown>;
  inputNames: string[];
  outputNames: string[];
  slotBytes: number;
  /** How long load() may take before the worker is killed. */
  loadTimeoutMs: number;
  log: Logger;
  /** Called whenever a (re)started runner is ready for batches. */
  onReady?: () => void;
  /** Called when a runner that had loaded dies (it is then restarted): the restart metric. */
  onDied?: () => void;
}

let nextSlot = 0;
const decoder = new TextDecoder();

export function runnerPath(): string {
  return join(packageRoot(), 'python', 'fresco_runner.py');
}

export class PythonWorker {
  readonly ready: Promise<{ provider: string; skipped: string[] }>;
  busyMs = 0;
  readonly #options: PythonWorkerOptions;
  readonly #staging: Buffer;
  readonly #ctrl: Int32Array;
  readonly #fd: number;
  #child: ChildProcess | undefined;
  #busy = false;
  readonly #life: RestartingLife;
  #pending: ((reply: 'D' | 'E' | 'died') => void) | undefined;

  constructor(options: PythonWorkerOptions) {
    this.#options = options;
    this.#life = new RestartingLife({ log: options.log, onDied: options.onDied });
    const bytes = HEADER_BYTES + align8(options.slotBytes);
    this.#staging = Buffer.alloc(bytes);
    this.#ctrl = new Int32Array(this.#staging.buffer, this.#staging.byteOffset, HEADER_INTS);
    const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const path = join(dir, `fresco-py-${process.pid}-${nextSlot++}`);
    this.#fd = openSync(path, 'w+', 0o600);
    unlinkSync(path);
    ftruncateSync(this.#fd, bytes);
    this.ready = new Promise((resolve, reject) => this.#spawn(resolve, reject));
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

  /** Worker processes are not inference threads: nothing to reschedule. */
  toForeground(): void {}

  #spawn(resolve?: (r: { provider: string; skipped: string[] }) => void, reject?: (e: Error) => void): void {
    const { python, config, log } = this.#options;
    const child = spawn(python, [runnerPath()], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', this.#fd],
      env: { ...process.env, FRESCO_RUNNER_CONFIG: JSON.stringify(config), FRESCO_RUNNER_PARENT: String(process.pid), PYTHONUNBUFFERED: '1' },
    });
    this.#child = child;
    let tail = '';
    const onLog = (stream: string) => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log.warn({ pid: child.pid, stream }, line);
    };
    child.stdout?.on('data', onLog('stdout'));
    child.stderr?.on('data', onLog('stderr'));
    const timer = setTimeout(() => {
      if (this.#life.up) return;
      log.error({ pid: child.pid }, `python worker: load() did not finish within ${this.#options.loadTimeoutMs} ms; killed`);
      tail += `\nload() did not finish within ${this.#options.loadTimeoutMs} ms`;
      child.kill('SIGKILL');
    }, this.#options.loadTimeoutMs);
    const replies = child.stdio[3] as Readable;
    replies.on('data', (chunk: Buffer) => {
      for (const byte of chunk) {
        const c = String.fromCharCode(byte);
        if (c === 'R') {
          clearTimeout(timer);
          this.#life.loaded();
          // The execution provider, in ONNX's terms: the model's own code on the CPU.
          resolve?.({ provider: 'cpu', skipped: [] });
          this.#options.onReady?.();
        } else if (c === 'D' || c === 'E') {
          const pending = this.#pending;
          this.#pending = undefined;
          pending?.(c);
        }
      }
    });
    (child.stdin as Writable).on('error', () => {}); // a dead runner's pipe: its exit event reports it
    child.on('error', (error) => log.error({ err: error.message }, 'python worker could not start'));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.('died');
      const why = signal ? `signal ${signal}` : `exit code ${code}`;
      this.#life.ended(
        `python worker died (${why}); restarting`,
        { pid: child.pid, code, signal },
        () => reject?.(new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', `python worker failed to load the model (${why}):\n${tail.trim().split('\n').slice(-20).join('\n')}`)),
        () => this.#spawn(),
      );
    });
  }

  /** Runs one batch in the runner; resolves with the output tensors. */
  async run(rows: number, inputs: SlotInput[]): Promise<TensorMsg[]> {
    if (this.#busy) throw new FrescoError('FRESCO_ERR_INTERNAL', 'python worker is already running a batch');
    if (!this.alive) throw new FrescoError('FRESCO_ERR_UNAVAILABLE', 'python worker is restarting');
    if (inputs.length + this.#options.outputNames.length > MAX_TENSORS) throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `at most ${MAX_TENSORS} inputs and outputs together`);
    const ctrl = this.#ctrl;
    const data = this.#staging.subarray(HEADER_BYTES);
    let offset = 0;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as SlotInput;
      const info = dtypeInfo(input.dtype);
      if (!info || info.name === 'string') throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `dtype ${input.dtype} cannot be served`);
      if (input.shape.length > MAX_RANK) throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `rank ${input.shape.length} is above ${MAX_RANK}`);
      if (offset + input.byteLength > data.byteLength) throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `the batch (${offset + input.byteLength} bytes of inputs) does not fit the ${data.byteLength}-byte slot; send fewer rows`);
      const d = DESC_BASE + i * DESC_INTS;
      ctrl[d] = info.wire;
      ctrl[d + 1] = input.shape.length;
      for (let r = 0; r < input.shape.length; r++) ctrl[d + 2 + r] = input.shape[r] as number;
      ctrl[d + 2 + MAX_RANK] = offset;
      ctrl[d + 3 + MAX_RANK] = input.byteLength;
      input.write(data.subarray(offset, offset + input.byteLength));
      offset = align8(offset + input.byteLength);
    }
    ctrl[ROWS] = rows;
    ctrl[N_IN] = inputs.length;
    ctrl[N_OUT] = 0;
    ctrl[DATA_END] = offset;
    this.#busy = true;
    const started = performance.now();
    try {
      writeSync(this.#fd, this.#staging, 0, HEADER_BYTES + offset, 0);
      const reply = await new Promise<'D' | 'E' | 'died'>((resolve) => {
        this.#pending = resolve;
        (this.#child?.stdin as Writable).write('B');
      });
      if (reply === 'died') throw new FrescoError('FRESCO_ERR_PYTHON_WORKER_DIED', 'the python worker running this batch died; it is being restarted');
      readSync(this.#fd, this.#staging, 0, HEADER_BYTES, 0);
      if (reply === 'E') {
        const length = ctrl[ERR_LEN] as number;
        readSync(this.#fd, this.#staging, HEADER_BYTES, length, HEADER_BYTES);
        const message = decoder.decode(data.subarray(0, length));
        throw new FrescoError('FRESCO_ERR_PREDICT_FAILED', `predict() raised ${message} (the traceback is in the server log)`);
      }
      const outEnd = ctrl[OUT_END] as number;
      const outStart = align8(ctrl[DATA_END] as number);
      readSync(this.#fd, this.#staging, HEADER_BYTES + outStart, outEnd - outStart, HEADER_BYTES + outStart);
      const outputs: TensorMsg[] = [];
      const nIn = ctrl[N_IN] as number;
      for (let o = 0; o < (ctrl[N_OUT] as number); o++) {
        const d = DESC_BASE + (nIn + o) * DESC_INTS;
        const info = dtypeFromWire(ctrl[d] as number);
        if (!info) throw new FrescoError('FRESCO_ERR_INTERNAL', `python worker wrote an unknown dtype ${ctrl[d]}`);
        const shape: number[] = [];
        for (let r = 0; r < (ctrl[d + 1] as number); r++) shape.push(ctrl[d + 2 + r] as number);
        const at = ctrl[d + 2 + MAX_RANK] as number;
        const length = ctrl[d + 3 + MAX_RANK] as number;
        // A copy of its own: the staging buffer is reused by the next batch.
        const copy = new Uint8Array(length);
        copy.set(data.subarray(at, at + length));
        outputs.push({ name: this.#options.outputNames[o] as string, dtype: info.name, shape, data: new info.array(copy.buffer, 0, length / info.size) as NumericArray });
      }
      return outputs;
    } finally {
      this.busyMs += performance.now() - started;
      this.#busy = false;
    }
  }

  /** Stops the runner (after its batch in flight) and releases the slot. */
  async close(): Promise<void> {
    if (this.#life.closed && !this.#child) return;
    this.#life.close();
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
      (child.stdin as Writable).end('X');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
  }
}
