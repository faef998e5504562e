/**
 * `fresco bench batch`: rows/s of offline batch scoring by worker count, measured by running
 * `fresco batch score` itself (a process per run, so each gets the machine as a real job would)
 * on the user's input, and the workers and time needed to score N rows by a deadline.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { packageRoot } from '../package-root.js';

export interface BatchMeasurement {
  workers: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

export interface BatchBenchOptions {
  ref: string;
  input: string[];
  project?: string;
  registry?: string;
  workers: number[];
  /** Other `fresco batch score` options (--timestamp, --keys...). */
  scoreArgs?: string[];
  onRun?: (m: BatchMeasurement) => void;
}

export async function benchBatch(o: BatchBenchOptions): Promise<BatchMeasurement[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-bench-batch-'));
  const out: BatchMeasurement[] = [];
  try {
    for (const workers of o.workers) {
      const args = [join(packageRoot(), 'bin', 'fresco.js'), '--json', 'batch', 'score', o.ref, ...o.input.flatMap((i) => ['--input', i]), '--output', join(dir, 'scores.parquet'), '--overwrite', '--no-progress', '--workers', String(workers)];
      if (o.project) args.push('--project', o.project);
      if (o.registry) args.push('--registry', o.registry);
      args.push(...(o.scoreArgs ?? []));
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) {
        // Its own error, as it printed it: the input, the model or the option is what is wrong.
        const text = (r.stdout + r.stderr).trim();
        let message = text.slice(-800);
        for (const stream of [r.stdout, r.stderr]) {
          try {
            const e = (JSON.parse(stream) as { error: { code: string; message: string } }).error;
            message = `${e.code}: ${e.message}`;
            break;
          } catch {}
        }
        throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `fresco batch score with ${workers} worker(s) failed: ${message}`);
      }
      const s = JSON.parse(r.stdout) as { rows: number; seconds: number; rowsPerSecond: number };
      const m = { workers, rows: s.rows, seconds: s.seconds, rowsPerSecond: s.rowsPerSecond };
      out.push(m);
      o.onRun?.(m);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export interface BatchPlan {
  rows: number;
  deadlineSeconds: number;
  /** The fewest measured workers that finish in time, and their time. */
  workers?: number;
  seconds?: number;
  /** When no measured count is enough: jobs (machines) running as many workers as the fastest measured count, in parallel on shards. */
  shards?: number;
  note: string;
}

/**
 * The fewest workers that score `rows` within `deadlineSeconds`, from measured rates (no
 * extrapolation past what was measured: batch scoring stops scaling at the machine's cores);
 * when none is enough, `--shard` jobs of the fastest measured count on as many machines.
 */
export function planBatch(measured: readonly BatchMeasurement[], rows: number, deadlineSeconds: number): BatchPlan {
  if (!measured.length) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'no batch measurements to plan from');
  if (!(rows > 0) || !(deadlineSeconds > 0)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--rows and --deadline must be positive, got ${rows} and ${deadlineSeconds}`);
  const byWorkers = [...measured].sort((a, b) => a.workers - b.workers);
  const fit = byWorkers.find((m) => rows / m.rowsPerSecond <= deadlineSeconds);
  if (fit) {
    const seconds = rows / fit.rowsPerSecond;
    return { rows, deadlineSeconds, workers: fit.workers, seconds, note: `${fit.workers} worker(s) score ${rows} rows in ${seconds.toFixed(1)} s at the measured ${Math.round(fit.rowsPerSecond)} rows/s` };
  }
  const fastest = byWorkers.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
  const shards = Math.ceil(rows / (fastest.rowsPerSecond * deadlineSeconds));
  return {
    rows,
    deadlineSeconds,
    shards,
    seconds: rows / (fastest.rowsPerSecond * shards),
    note: `no measured worker count is fast enough (best ${Math.round(fastest.rowsPerSecond)} rows/s with ${fastest.workers}); run ${shards} jobs with --shard i/${shards} and --workers ${fastest.workers} on as many machines like this one`,
  };
}
