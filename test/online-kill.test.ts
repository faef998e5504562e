// A materialization killed with SIGKILL halfway leaves the store serving whole, correct rows
// (each committed chunk is one LMDB transaction) and the next run resumes after the last chunk.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { applyProject } from '../src/features/project.js';
import { StateStore } from '../src/features/state-store.js';
import { EmbeddedOnlineStore, materialize } from '../src/online/index.js';
import { BASE, writeOnlineProject } from './online-project.js';

const dir = writeOnlineProject({ drivers: 120, seed: 11 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('survives a real kill mid-run and resumes', async () => {
  const { project } = applyProject(dir);
  const end = new Date(BASE + 40 * 3_600_000).toISOString();
  const killedDir = join(dir, '.fresco', 'online');
  const child = spawn(process.execPath, [join(import.meta.dirname, 'online-child.mjs'), dir, killedDir, end], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      if ((err.match(/^chunk /gm) ?? []).length >= 4) resolve();
    });
    child.on('exit', () => reject(new Error(`child exited before being killed: ${err}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  // The oracle: the same window materialized without interruption into another store.
  const oracle = new EmbeddedOnlineStore(join(dir, '.fresco', 'oracle'));
  const store = new EmbeddedOnlineStore(killedDir);
  try {
    const full = await materialize({ project, end, store: oracle, tables: ['driver_hourly'] });
    const total = full.tables[0]!.rows;
    const keys = Array.from({ length: 120 }, (_, i) => [i + 1]);
    const want = await oracle.read('driver_hourly', keys, { asOf: new Date(end) });
    const partial = await store.read('driver_hourly', keys, { asOf: new Date(end) });
    const served = partial.rows.filter((r) => r.status !== 'missing').length;
    expect(served).toBeGreaterThanOrEqual(40);
    expect(served).toBeLessThan(total);
    // Every row served is whole and equals the oracle's.
    partial.rows.forEach((r, i) => r.status !== 'missing' && expect(r).toEqual(want.rows[i]));
    const state = new StateStore(project.config.stateFile);
    const run = state.materializations({ table: 'driver_hourly', store: `embedded:${killedDir}` })[0]!;
    state.close();
    expect(run.status).toBe('running');
    expect(run.rows).toBe(served);

    const resumed = await materialize({ project, end, store, tables: ['driver_hourly'], chunkRows: 10 });
    expect(resumed.tables[0]!.resumedAfter).toBe(served);
    expect(resumed.tables[0]!.rows).toBe(total);
    expect(await store.read('driver_hourly', keys, { asOf: new Date(end) })).toEqual(want);
  } finally {
    await store.close();
    await oracle.close();
  }
});
