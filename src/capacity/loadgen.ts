/**
 * Runs one open-loop load point with fresco-loadgen (bench/load/loadgen/, the Rust generator the
 * serving benchmark uses: one thread, one epoll, a timerfd at the request interval, prebuilt
 * requests, latency from each request's *scheduled* time so queueing is charged, the send's own
 * lateness recorded). It runs in a process of its own, so its work never shares this process's
 * event loop or GC, and costs a few µs of CPU per request where a Node generator took ~80
 * (docs/serving.md#benchmarks). Built with cargo on first use (release; seconds when up to date).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { packageRoot } from '../package-root.js';
import type { RequestRecords } from './stats.js';
import { cpuSeconds } from './target.js';

let built: string | undefined;

export function loadgenBinary(): string {
  if (built) return built;
  const dir = join(packageRoot(), 'bench', 'load', 'loadgen');
  if (!existsSync(join(dir, 'Cargo.toml'))) {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${dir}: the load generator's sources are not here; fresco bench runs from a Fresco source checkout (with cargo)`, { location: { file: dir } });
  }
  const cargo = spawnSync('cargo', ['build', '--release', '--quiet', '--manifest-path', join(dir, 'Cargo.toml')], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (cargo.status !== 0) {
    throw new FrescoError('FRESCO_ERR_UNAVAILABLE', `building the load generator with cargo failed (${cargo.error?.message ?? `exit ${cargo.status}`}): ${(cargo.stderr ?? '').slice(-500)}`);
  }
  return (built = join(dir, 'target', 'release', 'fresco-loadgen'));
}

/**
 * The requests file fresco-loadgen reads: the request count, the body count, then each body with
 * its length (request i sends body i % count).
 */
export function writeRequestFile(path: string, total: number, bodies: Uint8Array[]): void {
  const file = Buffer.alloc(8 + bodies.reduce((n, b) => n + 4 + b.byteLength, 0));
  file.writeUInt32LE(total, 0);
  file.writeUInt32LE(bodies.length, 4);
  let at = 8;
  for (const b of bodies) {
    file.writeUInt32LE(b.byteLength, at);
    file.set(b, at + 4);
    at += 4 + b.byteLength;
  }
  writeFileSync(path, file);
}

/**
 * The result file fresco-loadgen writes: four f64 arrays of one value per request (scheduled
 * time, latency, lateness, answer status), each cut to the measured part (after `skip`).
 */
export function readResultFile(path: string, total: number, skip: number): { scheduledAt: Float64Array; latency: Float64Array; lateMs: Float64Array; status: Float64Array } {
  const all = new Float64Array(new Uint8Array(readFileSync(path)).buffer); // copied: aligned for f64
  const part = (k: number) => all.slice(k * total + skip, (k + 1) * total);
  return { scheduledAt: part(0), latency: part(1), lateMs: part(2), status: part(3) };
}

export interface LoadPoint {
  transport: 'ws' | 'http';
  /** host:port */
  host: string;
  path: string;
  rate: number;
  seconds: number;
  /** Seconds sent first on the same schedule and dropped (JIT, connections, batcher warm-up). */
  warmupSeconds: number;
  /** ws: many in flight per connection; http: one in flight per connection (a keep-alive pool). */
  connections: number;
  /** Request i sends bodies[i % bodies.length] (ws: every request its own frame, ids i + 1). */
  bodies: (total: number) => Uint8Array[];
  contentType?: string;
}

export interface LoadRun extends RequestRecords {
  /** The first few failures' messages, as the generator saw them. */
  errorSamples: string[];
  /** CPU seconds the generator used (warm-up included), sampled every 100 ms: a lower bound. */
  generatorCpuSeconds: number;
}

/** Requests in a run (warm-up included): what `bodies` is asked for. */
export function requestCount(p: Pick<LoadPoint, 'rate' | 'seconds' | 'warmupSeconds'>): { skip: number; total: number } {
  const skip = Math.round(p.rate * p.warmupSeconds);
  return { skip, total: skip + Math.max(1, Math.round(p.rate * p.seconds)) };
}

export async function runLoadPoint(p: LoadPoint): Promise<LoadRun> {
  const binary = loadgenBinary();
  const { skip, total } = requestCount(p);
  const bodies = p.bodies(total);
  const dir = mkdtempSync(join(tmpdir(), 'fresco-bench-'));
  try {
    const framesFile = join(dir, 'frames.bin');
    const outFile = join(dir, 'result.bin');
    writeRequestFile(framesFile, total, bodies);
    const args = [p.transport, p.host, p.path, String(p.rate), String(p.connections), String(skip), framesFile, outFile, ...(p.contentType ? [p.contentType] : [])];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    // Its CPU time, sampled from /proc while it runs (a child's usage is gone once it exits): the
    // last sample is within 100 ms of the whole, enough to tell µs per request.
    let cpu = 0;
    const sample = setInterval(() => {
      const s = child.pid !== undefined ? cpuSeconds(child.pid) : undefined;
      if (s !== undefined) cpu = s;
    }, 100);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    }).finally(() => clearInterval(sample));
    if (code !== 0) throw new FrescoError('FRESCO_ERR_UNAVAILABLE', `load generator against ${p.host}${p.path}: ${err.trim() || `exit ${code}`}`);
    const summary = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { errors: string[]; elapsedMs: number };
    const { latency, lateMs, status } = readResultFile(outFile, total, skip);
    return { latency, lateMs, status, elapsedMs: summary.elapsedMs, errorSamples: summary.errors, generatorCpuSeconds: cpu };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
