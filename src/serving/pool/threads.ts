/**
 * Inference threads outlive model versions. Booting a worker thread (a V8 isolate, Node's
 * bootstrap, onnxruntime-node's modules) and warming its JIT costs tens of milliseconds of CPU,
 * and tearing one down costs more; during a hot swap under load that CPU is taken from the
 * threads serving the old version. So a version that unloads hands its threads back here (its
 * session released), and the next version to load opens its session in one of them: a swap then
 * costs one ONNX Runtime session and its warm-up, not a thread's life.
 *
 * Idle threads are unref'd (they never keep the process alive) and at most MAX_IDLE wait; a
 * server boots spares ahead of its first swap (`keepSpareThreads`: as many as its largest
 * `instances`) and ends the idle ones when it closes (`closeIdleThreads`).
 *
 * Scheduling (../scheduling.ts): in a process that puts its serving threads first, and may move
 * a thread back out of SCHED_IDLE, a thread waits in the pool, opens and warms its next version
 * and releases its last one in SCHED_IDLE, and serves in the normal class (`toForeground`, once
 * its version is warm). Elsewhere every inference thread stays in the class it started in.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { nativeAddonPath } from '../../native.js';
import { isServingFirst, mayReturnToNormal, setBackground } from '../scheduling.js';
import { WORKER_SOURCE } from './worker-source.js';

const MAX_IDLE = 4;
const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
const idle: Worker[] = [];
interface Entry {
  /** Its Linux thread id, once it has booted (it says so). */
  tid: number | undefined;
  booted: Promise<boolean>;
  /**
   * Its shared-memory slot (layout.ts), kept from one version to the next: a new one of a
   * megabyte or more is zero-filled page by page on the event loop (0.5-1 ms of page faults,
   * measured during hot swaps), so only a version that needs a larger slot gets a new one.
   */
  slot: SharedArrayBuffer | undefined;
}

/** Every live inference thread. */
const live = new Map<Worker, Entry>();

function boot(): Worker {
  const thread = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath, addonPath: nativeAddonPath() } });
  const entry: Entry = { tid: undefined, booted: Promise.resolve(false), slot: undefined };
  entry.booted = new Promise<boolean>((resolve) => {
    // The first message a thread sends is `booted`, with its thread id.
    thread.once('message', (m: { type?: string; tid?: number }) => {
      entry.tid = m?.type === 'booted' ? m.tid : undefined;
      resolve(m?.type === 'booted');
    });
    thread.once('exit', () => {
      resolve(false);
      live.delete(thread);
      // A thread that dies while idle (it should not) leaves the pool.
      const at = idle.indexOf(thread);
      if (at >= 0) idle.splice(at, 1);
    });
  });
  live.set(thread, entry);
  return thread;
}

/** Linux thread ids of the inference threads (idle or serving) that have booted. */
export function inferenceThreadIds(): Set<number> {
  return new Set([...live.values()].map((e) => e.tid).filter((tid): tid is number => tid !== undefined));
}

/**
 * Moves an inference thread into SCHED_IDLE (`background`) or back, where this process puts its
 * serving threads first and may do both (a thread it could not move back would serve at idle
 * priority); a no-op elsewhere.
 */
export function setThreadBackground(thread: Worker, background: boolean): void {
  const tid = live.get(thread)?.tid;
  if (tid === undefined || !isServingFirst() || !mayReturnToNormal()) return;
  setBackground(tid, background);
}

/** Moves the idle threads into SCHED_IDLE (as `returnThread` does from now on), where allowed. */
export function backgroundIdleThreads(): void {
  for (const thread of idle) setThreadBackground(thread, true);
}

/**
 * An inference thread for one model version (an idle one if there is one, else a new one), and
 * its slot of at least `slotBytes` bytes (the thread's own, when it is large enough).
 */
export function takeThread(slotBytes: number): { thread: Worker; slot: SharedArrayBuffer } {
  let thread = idle.pop();
  if (thread) {
    thread.removeAllListeners('error');
    thread.ref();
  } else thread = boot();
  const entry = live.get(thread) as Entry;
  if (!entry.slot || entry.slot.byteLength < slotBytes) entry.slot = new SharedArrayBuffer(slotBytes);
  return { thread, slot: entry.slot };
}

/**
 * Takes back a thread whose session is released (it said `closed`, or its open failed); returns
 * false, and the caller ends the thread, when enough are idle already.
 */
export function returnThread(thread: Worker): boolean {
  if (idle.length >= MAX_IDLE) return false;
  thread.removeAllListeners('message');
  thread.removeAllListeners('error');
  thread.on('error', () => {});
  thread.unref();
  setThreadBackground(thread, true);
  idle.push(thread);
  return true;
}

/** Boots idle threads until `count` wait (at most MAX_IDLE); resolves once they have booted. */
export async function keepSpareThreads(count: number): Promise<void> {
  const booting: Promise<void>[] = [];
  for (let i = idle.length; i < Math.min(count, MAX_IDLE); i++) {
    const thread = boot();
    thread.once('error', () => {});
    booting.push(
      (live.get(thread) as Entry).booted.then((booted) => {
        if (booted && !returnThread(thread)) void thread.terminate();
      }),
    );
  }
  await Promise.all(booting);
}

/** Ends every idle thread (a closing server: their isolates and ONNX Runtime environments go). */
export async function closeIdleThreads(): Promise<void> {
  const threads = idle.splice(0);
  await Promise.all(threads.map((t) => t.terminate()));
}

/** How many booted threads wait for a model version. */
export function idleThreads(): number {
  return idle.length;
}
