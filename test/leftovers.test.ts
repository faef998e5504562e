// A write killed with SIGKILL cannot remove its temporaries; the next run of the same command
// removes those of dead processes (named after host and pid, as the registry's staging folders)
// and leaves a live writer's alone.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchScore } from '../src/batch/index.js';
import { applyProject } from '../src/features/project.js';
import { buildDataset } from '../src/offline/dataset-builder.js';
import { push } from '../src/online/index.js';
import { packageRoot } from '../src/package-root.js';
import { ModelRegistry } from '../src/registry/index.js';
import { copyFixture, sqlRows } from './offline-helpers.js';
import { writeOnlineProject } from './online-project.js';

/** The pid of a process that has exited (as a killed writer's is). */
const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
/** A live process other than this one: a concurrent writer. */
let live: ChildProcess;
const host = hostname();

beforeAll(() => {
  live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
});
afterAll(() => {
  live.kill('SIGKILL');
});

/** Creates the temporaries a killed writer (dead pid, also in the host-less form of earlier versions) and a live one would leave. */
function leave(dir: string, name: string): { dead: string[]; alive: string } {
  mkdirSync(dir, { recursive: true });
  const dead = [join(dir, `.${name}.tmp-${host}-${deadPid}-0a1b2c3d`), join(dir, `.${name}.tmp-${deadPid}-deadbeef`)];
  const alive = join(dir, `.${name}.tmp-${host}-${live.pid}-12345678`);
  for (const f of [...dead, alive]) writeFileSync(f, 'partial');
  return { dead, alive };
}

function leaveDir(parent: string, prefix: string): { dead: string; alive: string } {
  const dead = join(parent, `${prefix}${host}-${deadPid}-0a1b2c3d`);
  const alive = join(parent, `${prefix}${host}-${live.pid}-12345678`);
  for (const d of [dead, alive]) mkdirSync(d, { recursive: true });
  writeFileSync(join(dead, 'rows.jsonl'), '{}\n');
  return { dead, alive };
}

describe('the next run removes what a killed one left', () => {
  it('push: lake temporaries and scratch folders of dead pushes', async () => {
    const dir = writeOnlineProject({ drivers: 5, airports: 2 });
    try {
      applyProject(dir);
      const data = join(dir, 'data');
      const stats = leave(data, 'driver_stats.csv');
      const other = leave(data, 'flights.csv'); // another file's temporaries: not this push's to remove
      const scratch = leaveDir(join(dir, '.fresco', 'tmp'), 'push-');
      writeFileSync(join(dir, 'new.csv'), 'event_timestamp,created,driver_id,conv_rate\n2024-01-02 10:00:00,2024-01-02 10:00:00,1,0.5\n');
      await push({ project: dir, source: 'driver_stats', file: join(dir, 'new.csv') });
      for (const f of stats.dead) expect(existsSync(f), f).toBe(false);
      expect(existsSync(stats.alive)).toBe(true);
      for (const f of [...other.dead, other.alive]) expect(existsSync(f)).toBe(true);
      expect(existsSync(scratch.dead)).toBe(false);
      expect(readdirSync(join(dir, '.fresco', 'tmp'))).toEqual([scratch.alive.split('/').pop()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dataset build: output and manifest temporaries and spill folders of dead builds', async () => {
    const dir = copyFixture('pit-project');
    try {
      applyProject(dir);
      const outDir = join(dir, 'out');
      const data = leave(outDir, 'train.parquet');
      const manifest = leave(outDir, 'train.parquet.manifest.json');
      const spill = leaveDir(join(dir, '.fresco', 'tmp'), 'dataset-');
      await buildDataset({ project: dir, labels: join(dir, 'data/labels.csv'), timestamp: 'ts', features: ['driver_model'], out: join(outDir, 'train.parquet') });
      for (const f of [...data.dead, ...manifest.dead, spill.dead]) expect(existsSync(f), f).toBe(false);
      expect(readdirSync(outDir).sort()).toEqual([data.alive, manifest.alive].map((f) => f.split('/').pop()).concat(['train.parquet', 'train.parquet.manifest.json']).sort());
      expect(readdirSync(join(dir, '.fresco', 'tmp'))).toEqual([spill.alive.split('/').pop()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('batch score: scratch folders of dead jobs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-leftovers-batch-'));
    try {
      const registry = join(dir, 'registry');
      const reg = ModelRegistry.open(registry);
      await reg.register(join(packageRoot(), 'models', 'flights-delay'), { aliases: ['production'] });
      reg.close();
      const input = join(dir, 'flights.parquet');
      const flights = join(packageRoot(), 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
      await sqlRows(`COPY (SELECT * FROM read_parquet('${flights}') LIMIT 2000) TO '${input}' (FORMAT parquet)`);
      const scratchParent = join(dir, 'scratch');
      const left = leaveDir(scratchParent, 'fresco-batch-scratch-');
      await batchScore({ registry, models: ['flights-delay@production'], input: [input], output: join(dir, 'scores.parquet'), tempDir: scratchParent, workers: 1 });
      expect(existsSync(left.dead)).toBe(false);
      expect(readdirSync(scratchParent)).toEqual([left.alive.split('/').pop()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
