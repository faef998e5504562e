/** Shared setup of the serving tests: a registry fixture and a server on a free port. */
import { readdirSync, readFileSync } from 'node:fs';
import pino from 'pino';
import { makeServingFixture, type Fixture } from '../bench/load/fixtures.js';
import { FrescoServer, type ServerOptions } from '../src/serving/index.js';

export const TOKEN = 'test-admin-token';

export async function startServer(fixture: Fixture, options: ServerOptions = {}): Promise<FrescoServer> {
  const server = new FrescoServer({
    port: 0,
    registry: fixture.registry,
    lookup: fixture.lookup,
    adminToken: TOKEN,
    logger: pino({ level: 'silent' }),
    syncIntervalMs: 0,
    defaults: { timeoutMs: 30_000 },
    ...options,
  });
  return server.start();
}

export { makeServingFixture, type Fixture };

export function url(server: FrescoServer, path = ''): string {
  return `http://127.0.0.1:${server.port}${path}`;
}

export async function admin(server: FrescoServer, method: string, path: string, body?: unknown, token = TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(url(server, path), {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

/** Polls `check` until it returns true (generous: loaded CI machines are slow). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
}

export function row50(seed: number): Float32Array {
  return Float32Array.from({ length: 50 }, (_, i) => ((seed * 13 + i * 7) % 17) / 17);
}

export const SCHED_OTHER = 0;
export const SCHED_IDLE = 5;

/** A thread's scheduling policy: field 41 of /proc/self/task/<tid>/stat (after the ")" that ends the name). */
export function policyOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[41 - 3]);
}

/** Thread ids of this process. */
export function threadsOf(): number[] {
  return readdirSync('/proc/self/task').map(Number);
}
