/**
 * The `fresco` executable as a user runs it (bin/fresco.js through its shebang, in a process of
 * its own): `fresco serve` runs with V8's memory reducer off (docs/serving.md, "Process flags"),
 * puts its serving threads first (Linux), answers, and on a real SIGTERM drains and exits 0.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { packageRoot } from '../src/package-root.js';
import { eventually } from './serving-helpers.js';

describe('fresco serve (the executable)', () => {
  it('runs with the memory reducer off and serving threads first, answers, and drains on SIGTERM', async () => {
    const root = packageRoot();
    const child = spawn(join(root, 'bin', 'fresco.js'), ['serve', '--port', '0', '--models', join(root, 'models', 'mlp-50')], {
      env: { ...process.env, FRESCO_LOG_LEVEL: 'info' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    // 'close', not 'exit': only then has all of its output been read.
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    // A failed assertion must not leave a server running.
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    // stdout (the JSON log, written asynchronously) and stderr (the CLI's lines) are separate
    // pipes: their data arrives in no fixed order, so each expectation waits for what it reads.
    const printed = async (stream: () => string, pattern: RegExp): Promise<RegExpExecArray> => {
      await eventually(() => {
        if (child.exitCode !== null) throw new Error(`fresco serve exited (code ${child.exitCode}) before printing ${pattern}: ${err}`);
        return pattern.test(stream());
      });
      return pattern.exec(stream())!;
    };

    const port = Number((await printed(() => err, /listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    expect((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).status).toBe(200);
    const listening = JSON.parse((await printed(() => out, /^\{.*"msg":"fresco serve: listening".*$/m))[0]) as { memoryReducer?: boolean };
    expect(listening.memoryReducer).toBe(false);
    if (process.platform === 'linux') {
      // Logged before "listening" by the same stream, so it is here by now.
      const first = /^\{.*"msg":"serving threads first.*$/m.exec(out);
      expect(first, 'the "serving threads first" log line').not.toBeNull();
      expect((JSON.parse(first![0]) as { background: number }).background).toBeGreaterThan(0);
    }

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toMatch(/SIGTERM: draining/);
  }, 60_000);
});
