/**
 * The server under test: one already running (--url), or one started here in a process of its
 * own (`fresco serve --project dir`, on a free port) so that it never shares this process's event
 * loop, and its memory (RSS) and CPU time can be read from /proc as the bench runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { packageRoot } from '../package-root.js';

export interface Target {
  /** http://host:port */
  httpBase: string;
  /** host:port */
  host: string;
  /** The server's process when known (started here, or --pid). */
  pid?: number;
  close(): Promise<void>;
}

export function targetFromUrl(url: string, pid?: number): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--url "${url}" is not a URL (ws://host:port or http://host:port)`);
  }
  if (!['ws:', 'http:'].includes(u.protocol)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--url "${url}": use ws://host:port or http://host:port`);
  const host = `${u.hostname}:${u.port || 80}`;
  return { httpBase: `http://${host}`, host, ...(pid !== undefined ? { pid } : {}), close: async () => {} };
}

export interface StartOptions {
  project: string;
  ref: string;
  maxBatchSize?: number;
  instances?: number;
  /** Extra `fresco serve` options (e.g. --config file). */
  serveArgs?: string[];
}

/** Starts `fresco serve` for the project on a free port and waits until it listens. */
export async function startServer(o: StartOptions): Promise<Target> {
  const args = [join(packageRoot(), 'bin', 'fresco.js'), 'serve', '--project', o.project, '--models', o.ref, '--port', '0'];
  if (o.maxBatchSize !== undefined) args.push('--max-batch-size', String(o.maxBatchSize));
  if (o.instances !== undefined) args.push('--instances', String(o.instances));
  args.push(...(o.serveArgs ?? []));
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new FrescoError('FRESCO_ERR_UNAVAILABLE', `fresco serve did not listen within 60 s: ${log.slice(-500)}`)), 60_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new FrescoError('FRESCO_ERR_UNAVAILABLE', `fresco serve exited (code ${code}) before listening: ${log.trim().slice(-800)}`));
    });
  });
  const host = `127.0.0.1:${port}`;
  return {
    httpBase: `http://${host}`,
    host,
    pid: child.pid!,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Resident memory (MB) of a process, from /proc; undefined where /proc is not readable. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process has used (all its threads), from /proc. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) counted from 1; the slice starts at field 3. Clock ticks: 100/s on Linux.
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}
