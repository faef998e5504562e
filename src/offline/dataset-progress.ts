/**
 * Progress of `fresco dataset build`: which step it is in (reading labels, checking, each feature
 * table, the join, quality, writing) and, during the point-in-time join, DuckDB's own estimate of
 * how far the query is. On a terminal the CLI redraws one line, as batch scoring does
 * (src/batch/progress.ts); elsewhere it prints nothing more than the build's log lines.
 */
import { formatDuration } from '../batch/progress.js';
import type { Engine } from './engine.js';

export interface DatasetProgress {
  /** What is running, e.g. `joining 4 feature table(s) onto 3000000 label rows`. */
  step: string;
  /** 1-based step number, and how many steps there are. */
  index: number;
  count: number;
  /** Done fraction of the running query (0..1), when DuckDB can tell. */
  fraction?: number;
  elapsedSeconds: number;
}

/**
 * Runs `sql`, calling `tick` with DuckDB's progress estimate (0..1) every `everyMs` while it
 * runs. DuckDB only tracks a query's progress with its progress bar on (not printed here).
 */
export async function runWithProgress(engine: Engine, sql: string, tick: (fraction: number | undefined) => void, everyMs = 200): Promise<void> {
  await engine.run('SET enable_progress_bar = true');
  await engine.run('SET enable_progress_bar_print = false');
  const timer = setInterval(() => {
    const p = engine.connection.progress;
    tick(p.percentage >= 0 ? Math.min(1, p.percentage / 100) : undefined);
  }, everyMs);
  try {
    await engine.run(sql);
  } finally {
    clearInterval(timer);
    await engine.run('SET enable_progress_bar = false');
  }
}

const WIDTH = 20;

/** One line: `[3/6] joining ... [########------------]  41%  12s`. */
export function renderDatasetProgress(p: DatasetProgress): string {
  const bar = p.fraction === undefined ? '' : ` [${'#'.repeat(Math.round(p.fraction * WIDTH))}${'-'.repeat(WIDTH - Math.round(p.fraction * WIDTH))}] ${String(Math.floor(p.fraction * 100)).padStart(3)}%`;
  return `[${p.index}/${p.count}] ${p.step}${bar}  ${formatDuration(p.elapsedSeconds)}`;
}

/** A progress callback redrawing one terminal line (at most every 200 ms); call `end()` when done. */
export function datasetProgressPrinter(write: (text: string) => void): { update(p: DatasetProgress): void; end(): void } {
  let last = 0;
  let width = 0;
  let step = '';
  return {
    update(p) {
      const now = performance.now();
      if (p.step === step && now - last < 200) return;
      last = now;
      step = p.step;
      const line = renderDatasetProgress(p);
      // Pad over what a longer previous line left on the terminal.
      write(`\r${line.padEnd(width)}`);
      width = line.length;
    },
    end() {
      if (width) write(`\r${' '.repeat(width)}\r`);
      width = 0;
    },
  };
}
