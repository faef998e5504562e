/**
 * What "serving threads first" (src/serving/scheduling.ts) costs the demoted threads when other
 * processes keep every core busy: the mean time of a file read on libuv's pool (a model file, 200
 * reads), with and without the process's other threads in SCHED_IDLE, beside one busy process
 * per core. Each case runs in a fresh process, since a demoted thread may not come back.
 * Run: node dist/bench/load/starvation.js   (Linux; docs/serving.md, "Serving threads first")
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../src/package-root.js';
import { backgroundAllBut, currentThreadId } from '../../src/serving/scheduling.js';

const READS = 200;
const file = join(packageRoot(), 'models', 'mlp-50', 'model.onnx');

async function meanReadMs(): Promise<number> {
  await readFile(file); // the pool's threads exist now
  const t0 = performance.now();
  for (let i = 0; i < READS; i++) await readFile(file);
  return (performance.now() - t0) / READS;
}

async function inChild(demote: boolean): Promise<number> {
  const child = fork(fileURLToPath(import.meta.url), ['case', demote ? 'demoted' : 'normal']);
  return new Promise((resolve, reject) => {
    child.once('message', (m: { ms: number }) => resolve(m.ms));
    child.once('exit', (code) => reject(new Error(`the ${demote ? 'demoted' : 'normal'} case exited with code ${code}`)));
  });
}

/** A process that keeps one core busy; resolves once it spins. */
function busyProcess(): Promise<ChildProcess> {
  const hog = fork(fileURLToPath(import.meta.url), ['spin']);
  return new Promise((resolve) => hog.once('message', () => resolve(hog)));
}

if (process.argv[2] === 'spin') {
  process.send?.('spinning');
  for (;;);
} else if (process.argv[2] === 'case') {
  if (process.argv[3] === 'demoted') {
    await readFile(file);
    backgroundAllBut(new Set([currentThreadId() as number]));
  }
  process.send?.({ ms: await meanReadMs() });
  process.exit(0);
} else {
  const results: Record<string, number> = {};
  for (const busy of [false, true]) {
    const hogs = busy ? await Promise.all(Array.from({ length: availableParallelism() }, busyProcess)) : [];
    try {
      for (const demote of [false, true]) results[`${busy ? 'busy' : 'idle'} cores, ${demote ? 'demoted' : 'normal'} pool`] = await inChild(demote);
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
    }
  }
  for (const [name, ms] of Object.entries(results)) console.log(`${name.padEnd(30)} ${ms.toFixed(2)} ms per read`);
}
