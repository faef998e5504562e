/**
 * Which threads of a serving process get the CPU first (Linux; elsewhere nothing changes).
 *
 * On a machine with few cores, a burst of background work on a normal thread (V8 compiling a
 * function or helping its GC, a model version loading beside the serving one) makes a serving
 * thread that wakes up behind it wait for the next scheduler tick: measured on the 2-core
 * machines here (kernel 6.18, HZ=250), the inference thread and the load generator each waited
 * 4-5 ms behind a 4 ms V8 compile job while the other core sat idle. That one wait is several
 * times the p99 a request is allowed.
 *
 * So the threads that serve (the event loop, and the inference threads of the loaded versions)
 * stay in the normal class, and every other thread of the process is moved to SCHED_IDLE, which
 * runs only on CPU time no normal thread wants and is preempted at once when one wakes. No
 * privilege is needed to move a thread there. Moving one back (an inference thread that loaded a
 * version in the background and now serves it) needs CAP_SYS_NICE or RLIMIT_NICE >= 20; without
 * either, inference threads are left in the normal class throughout (`mayReturnToNormal`).
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { nativeSetThreadBackground } from '../native.js';

const linux = process.platform === 'linux';

/** The calling thread's Linux thread id (undefined elsewhere). */
export function currentThreadId(): number | undefined {
  if (!linux) return undefined;
  // "/proc/thread-self" links to "<pid>/task/<tid>".
  return Number(readlinkSync('/proc/thread-self').split('/').pop());
}

/** Moves thread `tid` of this process into (or out of) SCHED_IDLE; returns why not, if it could not. */
export function setBackground(tid: number, background: boolean): string | undefined {
  if (!linux) return 'thread scheduling classes are only set on Linux';
  return nativeSetThreadBackground(tid, background);
}

/**
 * Moves every thread of this process except `serving` into SCHED_IDLE. Returns how many moved,
 * and the first refusal, if any (a thread that ended meanwhile is not one).
 */
export function backgroundAllBut(serving: ReadonlySet<number>): { moved: number; refused?: string } {
  if (!linux) return { moved: 0, refused: 'thread scheduling classes are only set on Linux' };
  let moved = 0;
  let refused: string | undefined;
  for (const entry of readdirSync('/proc/self/task')) {
    const tid = Number(entry);
    if (serving.has(tid)) continue;
    const why = setBackground(tid, true);
    if (!why) moved++;
    else if (existsSync(`/proc/self/task/${tid}`)) refused ??= why; // else it ended meanwhile
  }
  return refused ? { moved, refused } : { moved };
}

let servingFirst = false;

/**
 * Puts this process's serving threads first from now on (a server's `prioritizeServing`): the
 * inference threads then also change class as they wait, load and serve (pool/threads.ts). For
 * the process's life: a thread moved to SCHED_IDLE may not be allowed back.
 */
export function putServingFirst(): void {
  servingFirst = true;
}

/** Whether this process puts its serving threads first (`putServingFirst`). */
export function isServingFirst(): boolean {
  return servingFirst;
}

let mayReturn: boolean | undefined;

/**
 * Whether this process may move a thread from SCHED_IDLE back to the normal class: it holds
 * CAP_SYS_NICE, or its RLIMIT_NICE soft limit is at least 20 (nice 0 counts as 20 there).
 */
export function mayReturnToNormal(): boolean {
  if (mayReturn !== undefined) return mayReturn;
  mayReturn = false;
  if (!linux) return mayReturn;
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    const CAP_SYS_NICE = 23n;
    if (capEff && (BigInt(`0x${capEff}`) >> CAP_SYS_NICE) & 1n) return (mayReturn = true);
    const nice = /^Max nice priority\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    mayReturn = nice === 'unlimited' || Number(nice) >= 20;
  } catch {
    mayReturn = false;
  }
  return mayReturn;
}
