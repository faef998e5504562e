// `fresco features list|describe` and `fresco apply --dry-run` on a real project: read-only
// views of the definitions and their versions, and a plan that apply then carries out exactly.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../src/features/state-store.js';
import { cli } from './helpers/cli.js';
import { writeOnlineProject } from './online-project.js';

const json = async (...args: string[]) => {
  const r = await cli('--json', ...args);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
};

describe('fresco features list|describe, fresco apply --dry-run', () => {
  it('lists and plans without writing, and apply then records what the plan said', async () => {
    const dir = writeOnlineProject({ drivers: 5, airports: 3 });
    const files = () => readdirSync(dir).sort();
    const before = files();

    // Never applied: everything is new, and reading creates no state.
    const fresh = await json('features', 'list', '--project', dir);
    expect(fresh.definitions).toHaveLength(9);
    expect(fresh.definitions.every((d: { status: string }) => d.status === 'new')).toBe(true);
    const plan1 = await json('apply', '--dry-run', '--project', dir);
    expect(plan1.changes.map((c: { change: string }) => c.change)).toEqual(Array(9).fill('new'));
    expect(files()).toEqual(before);

    const applied = await json('apply', '--project', dir);
    expect(applied.definitions.map((d: { label: string }) => d.label)).toEqual(plan1.changes.map((c: { to: string }) => c.to));
    const list = await cli('features', 'list', '--project', dir);
    expect(list.out).toMatch(/^feature_table\s+driver_hourly\s+v1-[0-9a-f]{16}\s+applied\s+batch, entities driver, source driver_stats, 4 features, ttl 6h\s+features\/drivers\.yaml:\d+$/m);
    expect(list.out).toMatch(/^feature_service\s+driver_model\s+v1-[0-9a-f]{16}\s+applied\s+3 features from driver_hourly, driver_profile/m);

    // A change: the plan names it and what in it changed; the state is left exactly as it was.
    const yaml = join(dir, 'features', 'drivers.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('ttl: 6h', 'ttl: 3h'));
    const stateFile = join(dir, '.fresco', 'state.db');
    const state = readFileSync(stateFile);
    const stateFolder = readdirSync(join(dir, '.fresco')).sort();
    const plan2 = await json('apply', '--dry-run', '--project', dir);
    const hourly = plan2.changes.find((c: { name: string; kind: string }) => c.kind === 'feature_table' && c.name === 'driver_hourly');
    expect(hourly).toMatchObject({ change: 'changed', from: expect.stringMatching(/^v1-/), to: expect.stringMatching(/^v2-/), details: ['ttl_seconds: 21600 -> 10800'] });
    // The service names the table's version, so it changes with it; nothing else does.
    expect(plan2.changes.filter((c: { change: string }) => c.change !== 'unchanged').map((c: { name: string }) => c.name)).toEqual(['driver_hourly', 'driver_model']);
    const human = await cli('apply', '--dry-run', '--project', dir);
    expect(human.out).toMatch(/apply would record 0 new and 2 changed definition\(s\); 7 unchanged \(dry run: nothing written\)/);
    expect(human.out).toMatch(/^ {2}ttl_seconds: 21600 -> 10800$/m);
    expect(readFileSync(stateFile).equals(state)).toBe(true);
    expect(readdirSync(join(dir, '.fresco')).sort()).toEqual(stateFolder);
    const store = new StateStore(stateFile);
    expect(store.history('feature_table', 'driver_hourly')).toHaveLength(1);
    store.close();

    const described = await json('features', 'describe', 'driver_hourly', '--project', dir);
    expect(described.definitions).toHaveLength(1);
    expect(described.definitions[0]).toMatchObject({
      kind: 'feature_table',
      status: 'changed',
      version: hourly.to,
      appliedVersion: hourly.from,
      details: { kind: 'batch', entities: ['driver'], joinKeys: ['driver_id'], source: 'driver_stats', ttl: '3h' },
      usedBy: ['feature_service driver_model'],
      changes: ['ttl_seconds: 21600 -> 10800'],
      history: [{ version: hourly.from }],
    });
    expect(described.definitions[0].details.features.map((f: { name: string }) => f.name)).toEqual(['conv_rate', 'trips', 'rating', 'active']);

    // The real apply records exactly what the plan announced.
    const reapplied = await json('apply', '--project', dir);
    expect(reapplied.definitions.find((d: { name: string; kind: string }) => d.kind === 'feature_table' && d.name === 'driver_hourly')).toMatchObject({ change: 'changed', label: hourly.to });
    expect((await json('apply', '--dry-run', '--project', dir)).changes.every((c: { change: string }) => c.change === 'unchanged')).toBe(true);

    // A definition taken out of the files shows as removed.
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/feature_services:[\s\S]*$/, ''));
    const plan3 = await json('apply', '--dry-run', '--project', dir);
    expect(plan3.changes.filter((c: { change: string }) => c.change === 'removed')).toEqual([{ kind: 'feature_service', name: 'driver_model', change: 'removed', from: expect.stringMatching(/^v2-/), to: null, details: [] }]);
  });

  it('describes every definition of a name, filters by kind, and names what exists when nothing matches', async () => {
    const dir = writeOnlineProject({ drivers: 5, airports: 3 });
    const both = await json('features', 'describe', 'driver_profile', '--project', dir);
    expect(both.definitions.map((d: { kind: string }) => d.kind)).toEqual(['source', 'feature_table']);
    const source = await json('features', 'describe', 'driver_profile', '--kind', 'source', '--project', dir);
    expect(source.definitions).toEqual([expect.objectContaining({ kind: 'source', status: 'new', details: expect.objectContaining({ path: 'data/driver_profile.csv', format: 'csv', timestamp: null }), usedBy: ['feature_table driver_profile'], history: [] })]);
    const entities = await json('features', 'list', '--kind', 'entity', '--project', dir);
    expect(entities.definitions.map((d: { name: string }) => d.name)).toEqual(['driver', 'airport']);
    const missing = await cli('features', 'describe', 'drivr', '--project', dir);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error\[FRESCO_ERR_NOT_FOUND\]: no entity, source, feature table or feature service named "drivr" in .*features; defined: airport, driver, /);
    const badKind = await cli('features', 'list', '--kind', 'view', '--project', dir);
    expect(badKind.code).toBe(2);
    expect(badKind.err).toMatch(/--kind "view": use one of entity, source, feature_table, feature_service/);
    expect(readdirSync(dir).sort()).toEqual(['data', 'features', 'fresco.yaml']);
  });
});
