/**
 * The shared-memory slot through which a batch moves between the event loop and an inference
 * worker (one slot per worker; one batch in flight per worker). No postMessage per request: the
 * main thread writes the batch into the slot, flips STATE to REQUEST and notifies; the worker,
 * blocked in Atomics.wait, runs the model, writes the outputs and flips STATE to DONE or ERROR;
 * the main thread learns of it through the addon's completion signal (inference-worker.ts), or
 * through Atomics.waitAsync where the thread has no addon.
 *
 * Wake-ups: a futex wake (Atomics.notify) of a sleeping thread costs tens of microseconds on a
 * busy machine (the woken worker often preempts the event loop on its own core), so the worker
 * spins briefly after each batch and only then sleeps, announcing it in SLEEPING; the event loop
 * notifies only when SLEEPING is set (the store/load pairs are sequentially consistent, so a
 * worker that announced itself after the check still sees REQUEST before it waits).
 *
 * Layout: a header of HEADER_INTS int32s, then the data region (inputs, then outputs, each
 * tensor 8-byte aligned). Header: [STATE, ROWS, N_IN, N_OUT, ERR_LEN, DATA_END, SLEEPING, -], then one
 * descriptor of DESC_INTS int32s per tensor, inputs first: [dtype code, rank, dims x MAX_RANK,
 * byte offset into the data region, byte length].
 */
export const STATE = 0;
export const ROWS = 1;
export const N_IN = 2;
export const N_OUT = 3;
export const ERR_LEN = 4;
export const DATA_END = 5;
/** 1 while the worker is (about to be) blocked in Atomics.wait: a hand-over must notify it. */
export const SLEEPING = 6;

export const IDLE = 0;
export const REQUEST = 1;
export const DONE = 2;
export const ERROR = 3;
export const EXIT = 4;

export const MAX_RANK = 8;
export const MAX_TENSORS = 32;
export const DESC_INTS = 4 + MAX_RANK;
export const DESC_BASE = 8;
export const HEADER_INTS = DESC_BASE + MAX_TENSORS * DESC_INTS;
export const HEADER_BYTES = HEADER_INTS * 4;

/** Element-type codes in descriptors (the wire DType values, schema/fresco.fbs). */
export const align8 = (n: number) => (n + 7) & ~7;
