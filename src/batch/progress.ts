/**
 * The batch progress bar: done/total rows, rows per second and the estimated time left. On a
 * terminal it redraws one line (at most every 200 ms); elsewhere (logs of a Kubernetes Job) it
 * writes a plain line at each tenth of the work, so logs stay readable.
 */
import type { BatchProgress } from './score.js';

const WIDTH = 24;

function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line: `[#########---------------]  37%  1110000/3000000 rows  812.3k rows/s  ETA 2s`. */
export function renderProgress(p: BatchProgress): string {
  const fraction = p.rowsTotal ? Math.min(1, p.rowsDone / p.rowsTotal) : 1;
  const filled = Math.round(fraction * WIDTH);
  const perSecond = p.elapsedSeconds > 0 ? p.rowsDone / p.elapsedSeconds : 0;
  const eta = perSecond > 0 ? (p.rowsTotal - p.rowsDone) / perSecond : Infinity;
  return `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${p.rowsDone}/${p.rowsTotal} rows  ${rate(perSecond)} rows/s  ETA ${formatDuration(eta)}`;
}

/** A progress callback writing to `write` (a terminal when `tty`). Call `end()` when done. */
export function progressPrinter(write: (text: string) => void, tty: boolean): { update(p: BatchProgress): void; end(): void } {
  let last = 0;
  let lastTenth = -1;
  let drawn = false;
  let latest: BatchProgress | undefined;
  return {
    update(p) {
      latest = p;
      const now = performance.now();
      if (tty) {
        if (now - last < 200 && p.rowsDone < p.rowsTotal) return;
        last = now;
        write(`\r${renderProgress(p)}`);
        drawn = true;
        return;
      }
      const tenth = p.rowsTotal ? Math.floor((10 * p.rowsDone) / p.rowsTotal) : 10;
      if (tenth > lastTenth) {
        lastTenth = tenth;
        write(`${renderProgress(p)}\n`);
      }
    },
    end() {
      if (tty && latest) write(`\r${renderProgress(latest)}\n`);
      else if (tty && drawn) write('\n');
    },
  };
}
