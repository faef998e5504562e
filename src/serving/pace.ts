/**
 * Pacing for the main-thread steps of a model load (after the package check, after compiling the
 * plan, after building the input preparer; manager.ts and loaded-model.ts). A hot swap happens
 * under load, and every millisecond of load work on the event loop is a millisecond that the
 * requests read meanwhile wait, so each step is followed by a short pause in which the event loop
 * drains what queued: the swap takes a few milliseconds longer, and no request waits behind a
 * whole load. (The workers' open and warm-up are asynchronous already.)
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** How long the event loop gets between two load steps (a timer's minimum, about 1 ms). */
const PAUSE_MS = 1;

export function betweenLoadSteps(): Promise<void> {
  return sleep(PAUSE_MS);
}
