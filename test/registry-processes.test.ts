// Several processes on one registry: concurrent registration gets distinct versions, and a
// registration killed with SIGKILL (at two points) leaves no version and no partial file behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../src/registry/index.js';

const child = join(import.meta.dirname, 'registry-child.mjs');
const pkg = join(import.meta.dirname, '..', 'models', 'flights-delay');
const work = mkdtempSync(join(tmpdir(), 'fresco-registry-proc-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function start(registry: string, count: number, env: Record<string, string> = {}): { proc: ChildProcess; done: Promise<{ code: number | null; signal: string | null; out: string; err: string }> } {
  const proc = spawn(process.execPath, [child, registry, pkg, String(count)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal, out, err })));
  return { proc, done };
}

function waitFor(proc: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    proc.stderr!.on('data', (d) => {
      seen += d;
      if (seen.includes(text)) resolve();
    });
    proc.on('close', () => reject(new Error(`child exited before "${text}": ${seen}`)));
  });
}

/** Every file in objects/ is whole: its content hashes to its name. */
function objectsIntact(dir: string): string[] {
  const names: string[] = [];
  for (const prefix of readdirSync(join(dir, 'objects'))) {
    for (const name of readdirSync(join(dir, 'objects', prefix))) {
      expect(createHash('sha256').update(readFileSync(join(dir, 'objects', prefix, name))).digest('hex')).toBe(name);
      names.push(name);
    }
  }
  return names.sort();
}

describe('registry across processes', () => {
  it('gives two processes registering at once distinct, consecutive versions', async () => {
    const registry = join(work, 'concurrent');
    const a = start(registry, 4);
    const b = start(registry, 4);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.err).toBe(0);
    expect(rb.code, rb.err).toBe(0);
    const versions = [...ra.out.trim().split('\n'), ...rb.out.trim().split('\n')].map((l) => (JSON.parse(l) as { version: number }).version);
    expect(versions.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const r = ModelRegistry.open(registry);
    expect(r.versions('flights-delay').map((v) => v.createdBy)).toEqual(expect.arrayContaining([`pid-${a.proc.pid}`, `pid-${b.proc.pid}`]));
    expect(r.versions('flights-delay')).toHaveLength(8);
    r.close();
  });

  for (const point of ['after-copy', 'in-transaction'] as const) {
    it(`leaves nothing behind when killed ${point === 'after-copy' ? 'after copying the artifacts' : 'inside the registering transaction'}`, async () => {
      const registry = join(work, `killed-${point}`);
      const r = ModelRegistry.open(registry);
      const first = await r.register(pkg, { reportHtml: '<p>kept</p>' });
      const before = objectsIntact(registry);

      // The child registers with a report of its own: a new artifact to copy.
      const { proc, done } = start(registry, 1, { FRESCO_REGISTRY_TEST_PAUSE: point });
      await waitFor(proc, `fresco-registry-paused ${point}`);
      // The staged copies exist at this point: the kill is mid-registration.
      expect(readdirSync(join(registry, 'tmp')).length).toBe(1);
      proc.kill('SIGKILL');
      expect((await done).signal).toBe('SIGKILL');

      expect(r.versions('flights-delay').map((v) => v.version)).toEqual([first.version]);
      // Killed inside the transaction, its report had been moved into objects/: whole, but orphaned.
      expect(objectsIntact(registry).length).toBe(before.length + (point === 'in-transaction' ? 1 : 0));
      // The next registration sweeps the dead process's staging folder and any orphaned object.
      const next = await r.register(pkg, { metrics: { auc: 0.9 } });
      expect(next.version).toBe(2);
      expect(readdirSync(join(registry, 'tmp'))).toEqual([]);
      expect(objectsIntact(registry)).toEqual(before);
      expect(r.gc()).toEqual({ objects: 0, staging: 0, packages: 0 });
      r.close();
    });
  }
});
