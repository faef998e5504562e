import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeSetThreadBackground } from '../src/native.js';
import type { FrescoServer } from '../src/serving/index.js';
import { inferenceThreadIds, idleThreads } from '../src/serving/pool/threads.js';
import { currentThreadId, mayReturnToNormal } from '../src/serving/scheduling.js';
import { admin, type Fixture, makeServingFixture, policyOf, SCHED_IDLE, SCHED_OTHER, startServer, threadsOf } from './serving-helpers.js';

// Scheduling classes of a serving process (src/serving/scheduling.ts). What users rely on: the
// threads that serve (event loop, inference threads of served versions) stay in the normal class,
// every other thread of the process runs in SCHED_IDLE, and a version warmed in the background
// serves in the normal class after a swap.
const linux = process.platform === 'linux';

let fixture: Fixture;
let server: FrescoServer;

beforeAll(async () => {
  fixture = await makeServingFixture(10);
  server = await startServer(fixture, { models: ['mlp-50@production'], syncIntervalMs: 0, prioritizeServing: true });
});

afterAll(async () => {
  await server?.close();
  fixture?.registry.close();
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

describe.runIf(linux)('serving threads first (Linux scheduling classes)', () => {
  it('keeps the event loop and the serving inference threads normal, and the other threads idle', () => {
    const loop = currentThreadId() as number;
    const inference = inferenceThreadIds();
    expect(inference.size).toBeGreaterThanOrEqual(2); // the serving one and a spare
    expect(policyOf(loop)).toBe(SCHED_OTHER);
    const others = threadsOf().filter((t) => t !== loop && !inference.has(t));
    expect(others.length).toBeGreaterThan(0); // V8's platform threads at least
    for (const t of others) expect(policyOf(t), `thread ${t}`).toBe(SCHED_IDLE);
    // Idle inference threads wait in SCHED_IDLE only where the process may move them back.
    const idle = [...inference].filter((t) => policyOf(t) === SCHED_IDLE);
    expect(idle.length).toBe(mayReturnToNormal() ? idleThreads() : 0);
  });

  it('serves a swapped-in version from a normal thread, its warm-up done in the background', async () => {
    const before = new Map([...inferenceThreadIds()].map((t) => [t, policyOf(t)]));
    const r = await admin(server, 'POST', '/admin/models/mlp-50%40production/swap', { version: 2 });
    expect(r.status).toBe(200);
    const after = [...inferenceThreadIds()].map((t) => policyOf(t));
    // One thread serves (normal); the one released by version 1 waits (idle where permitted).
    expect(after.filter((p) => p === SCHED_OTHER).length).toBe(mayReturnToNormal() ? 1 : after.length);
    expect(before.size).toBe(after.length);
    const answer = await admin(server, 'GET', '/admin/models');
    expect(answer.body.served[0].version).toBe(2);
  });

  it('refuses to set the class of a thread that is not this process\'s', () => {
    // A child process's pid is a thread id, but not one of ours.
    const child = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).toString());
    expect(nativeSetThreadBackground(child, true)).toMatch(/not a thread of this process/);
    expect(nativeSetThreadBackground(0, true)).toMatch(/not a thread of this process/);
  });
});
