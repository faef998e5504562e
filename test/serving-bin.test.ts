/**
 * The `fresco` executable as a user runs it (bin/fresco.js through its shebang, in a process of
 * its own): `fresco serve` runs with V8's memory reducer off (docs/serving.md, "Process flags"),
 * answers, and on a real SIGTERM drains and exits 0.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { packageRoot } from '../src/package-root.js';

describe('fresco serve (the executable)', () => {
  it('runs with the memory reducer off, answers, and drains on SIGTERM', async () => {
    const root = packageRoot();
    const child = spawn(join(root, 'bin', 'fresco.js'), ['serve', '--port', '0', '--models', join(root, 'models', 'mlp-50')], {
      env: { ...process.env, FRESCO_LOG_LEVEL: 'info' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // A failed assertion must not leave a server running.
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        err += d;
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      void exited.then((code) => reject(new Error(`fresco serve exited (code ${code}) before listening: ${err}`)));
    });

    expect((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).status).toBe(200);
    const logs = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; memoryReducer?: boolean });
    expect(logs.find((l) => l.msg === 'fresco serve: listening')?.memoryReducer).toBe(false);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toMatch(/SIGTERM: draining/);
  }, 60_000);
});
