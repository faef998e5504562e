/**
 * The life of a worker that runs a user's model code (a Python runner process, a custom model's
 * thread): until its first load() succeeds, an end is final (the version never takes traffic);
 * after that, a worker that dies is started again with exponential backoff (0.1 s doubling to
 * 5 s, back to 0.1 s once it loads again), counted in `restarts` and reported through onDied (the
 * restart metric). close() ends the cycle.
 */
import type { Logger } from 'pino';

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

export class RestartingLife {
  /** Restarts after a death (for the metadata and the log). */
  restarts = 0;
  /** Loaded and taking batches. */
  up = false;
  closed = false;
  #everLoaded = false;
  #backoffMs = FIRST_BACKOFF_MS;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly hooks: { log: Logger; onDied?: (() => void) | undefined }) {}

  get alive(): boolean {
    return this.up && !this.closed;
  }

  /** The worker's load() finished: it takes batches, and its next death waits the first backoff again. */
  loaded(): void {
    this.up = true;
    this.#everLoaded = true;
    this.#backoffMs = FIRST_BACKOFF_MS;
  }

  /**
   * The worker ended. Before its first load, `loadFailed` is called once and nothing restarts.
   * After it, the death is logged (`message`, with `fields`) and `start` runs after the backoff.
   */
  ended(message: string, fields: Record<string, unknown>, loadFailed: () => void, start: () => void): void {
    this.up = false;
    if (this.closed) return;
    if (!this.#everLoaded) {
      this.closed = true;
      loadFailed();
      return;
    }
    this.hooks.log.error({ ...fields, restartInMs: this.#backoffMs }, message);
    this.hooks.onDied?.();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.closed) return;
      this.restarts++;
      start();
    }, this.#backoffMs);
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
  }

  close(): void {
    this.closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
