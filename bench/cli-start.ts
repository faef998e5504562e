/**
 * CLI start-up: how long `fresco --help`, `fresco --version` and `fresco models list` (an empty
 * project) take from spawn to exit, against `node -e 0` (Node's own start-up, the floor no CLI
 * can go under) measured in the same run. The runs are interleaved, so that other load on the
 * machine weighs on both alike, and the median is reported. `speedup` is below 1 here: it is
 * node's time over fresco's; `overNodeMs` is what Fresco adds to Node's start.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.js';
import type { BenchRow } from './row.js';

const RUNS = 20;

function spawnMs(args: string[], cwd: string): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function runCliStartBenchmarks(log: (line: string) => void = console.log): Promise<BenchRow[]> {
  const bin = join(packageRoot(), 'bin', 'fresco.js');
  const work = mkdtempSync(join(tmpdir(), 'fresco-bench-cli-'));
  try {
    spawnMs([bin, 'init', 'project'], work);
    const project = join(work, 'project');
    const cases: { name: string; args: string[] }[] = [
      { name: 'fresco --help', args: [bin, '--help'] },
      { name: 'fresco --version', args: [bin, '--version'] },
      { name: 'fresco models list (empty project)', args: [bin, 'models', 'list'] },
    ];
    const rows: BenchRow[] = [];
    for (const c of cases) {
      log(`${c.name} ...`);
      // One warm-up each (file cache), then fresco and node in turn.
      spawnMs(c.args, project);
      spawnMs(['-e', '0'], project);
      const fresco: number[] = [];
      const node: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        fresco.push(spawnMs(c.args, project));
        node.push(spawnMs(['-e', '0'], project));
      }
      const f = median(fresco);
      const n = median(node);
      rows.push({ name: `start: ${c.name}`, baseline: 'node -e 0 (Node start-up)', nativeNs: f * 1e6, baselineNs: n * 1e6, speedup: n / f, extra: { frescoMs: f, nodeMs: n, overNodeMs: f - n, timesNode: f / n } });
    }
    return rows;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
