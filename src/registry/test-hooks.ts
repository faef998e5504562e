/**
 * A test hook for the killed-registration test: with FRESCO_REGISTRY_TEST_PAUSE=<point>, a
 * registration reaching <point> prints `fresco-registry-paused <point>` on stderr and blocks
 * until the test kills the process with SIGKILL. Points: `after-copy` (artifacts staged, nothing
 * committed) and `in-transaction` (artifacts moved into objects/, rows not yet committed).
 */
import { writeSync } from 'node:fs';

export type PausePoint = 'after-copy' | 'in-transaction';

export function pauseForTest(point: PausePoint): void {
  if (process.env.FRESCO_REGISTRY_TEST_PAUSE !== point) return;
  writeSync(2, `fresco-registry-paused ${point}\n`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0, 60_000);
}
