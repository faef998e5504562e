import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProjectConfig } from '../src/config/project-config.js';
import { featureSchemaFromDefinitions } from '../src/features/feature-schema-from-definitions.js';
import { applyProject, initProject, loadProject } from '../src/features/project.js';

function project(config: string, defs: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-config-'));
  writeFileSync(join(dir, 'fresco.yaml'), config);
  mkdirSync(join(dir, 'features'));
  for (const [name, text] of Object.entries(defs)) writeFileSync(join(dir, 'features', name), text);
  return dir;
}

const DRIVERS = `entities:
  - name: driver
    join_keys: [driver_id]
sources:
  - name: stats
    path: data/stats.parquet
    timestamp: ts
feature_tables:
  - name: driver_stats
    entities: [driver]
    source: stats
    ttl: 1d
    description: first words
    features:
      - { name: conv_rate, type: float32 }
      - { name: trips, type: int32 }
`;

describe('fresco.yaml', () => {
  it('works with only a project name, every path defaulting under the project', () => {
    const dir = project('project: demo\n');
    const c = loadProjectConfig(dir);
    expect(c).toMatchObject({ name: 'demo', featuresDir: join(dir, 'features'), lakeDir: join(dir, 'data'), registryDir: join(dir, '.fresco/registry'), stateFile: join(dir, '.fresco/state.db') });
    expect(c.online).toEqual({ type: 'embedded', path: join(dir, '.fresco/online') });
  });

  it('rejects unknown keys naming the file, line and key', () => {
    const dir = project('project: demo\nlake:\n  path: lake\n  colour: blue\n');
    expect(() => loadProjectConfig(dir)).toThrow(expect.objectContaining({ code: 'FRESCO_ERR_CONFIG_INVALID', message: expect.stringMatching(/fresco\.yaml:4:3: lake\.colour: unknown key "colour"; expected one of: path/) }));
  });

  it('init creates a project that loads', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fresco-init-')), 'my-proj');
    initProject(dir);
    expect(loadProjectConfig(dir).name).toBe('my-proj');
    expect(() => initProject(dir)).toThrow(expect.objectContaining({ code: 'FRESCO_ERR_INVALID_ARGUMENT' }));
  });
});

describe('feature definitions', () => {
  const broken = (defs: string) => () => loadProject(project('project: p\n', { 'a.yaml': defs }));

  it('names file, line and key for an unknown key, a bad value and a broken reference', () => {
    expect(broken(DRIVERS.replace('ttl: 1d', 'ttl: 1d\n    tll: 2d'))).toThrow(expect.objectContaining({ message: expect.stringMatching(/a\.yaml:13:5: feature_tables\[0\]\.tll: unknown key "tll"/) }));
    expect(broken(DRIVERS.replace('ttl: 1d', 'ttl: one day'))).toThrow(expect.objectContaining({ message: expect.stringMatching(/a\.yaml:12:10: feature_tables\[0\]\.ttl: must be a duration/) }));
    expect(broken(DRIVERS.replace('type: int32', 'type: integer'))).toThrow(expect.objectContaining({ message: expect.stringMatching(/a\.yaml:\d+:\d+: feature_tables\[0\]\.features\[1\]\.type/) }));
    expect(broken(DRIVERS.replace('entities: [driver]', 'entities: [rider]'))).toThrow(expect.objectContaining({ code: 'FRESCO_ERR_CONFIG_INVALID', message: expect.stringMatching(/a\.yaml:\d+:\d+: feature_tables\[0\]\.entities\[0\]: unknown entity "rider"/) }));
  });

  it('rejects duplicate feature names and duplicate tables across files', () => {
    expect(broken(DRIVERS.replace('name: trips', 'name: conv_rate'))).toThrow(expect.objectContaining({ message: expect.stringMatching(/features\[1\]\.name: feature "conv_rate" is defined twice/) }));
    const twice = () => loadProject(project('project: p\n', { 'a.yaml': DRIVERS, 'b.yaml': 'sources:\n  - name: stats\n    path: x.csv\n' }));
    expect(twice).toThrow(expect.objectContaining({ message: expect.stringMatching(/b\.yaml:2:5: sources\[0\]\.name: source "stats" is defined twice \(also at features\/a\.yaml:\d+\)/) }));
  });

  it('makes a new version when the meaning changes, not when a description does', () => {
    const dir = project('project: p\n', { 'a.yaml': DRIVERS });
    const v1 = applyProject(dir).applied.find((a) => a.name === 'driver_stats')!;
    expect(v1).toMatchObject({ version: 1, change: 'new' });
    writeFileSync(join(dir, 'features/a.yaml'), DRIVERS.replace('first words', 'other words'));
    expect(applyProject(dir).applied.find((a) => a.name === 'driver_stats')).toMatchObject({ version: 1, change: 'unchanged', hash: v1.hash });
    writeFileSync(join(dir, 'features/a.yaml'), DRIVERS.replace('type: int32', 'type: int64'));
    expect(applyProject(dir).applied.find((a) => a.name === 'driver_stats')).toMatchObject({ version: 2, change: 'changed' });
  });

  it('turns definitions into the DSL feature schema', () => {
    const defs = loadProject(project('project: p\n', { 'a.yaml': DRIVERS })).definitions;
    expect(featureSchemaFromDefinitions(defs, { driver_stats: 'v1-x' })).toEqual({
      tables: { driver_stats: { conv_rate: { type: 'float', nullable: true }, trips: { type: 'int', nullable: true } } },
      request: {},
      versions: { driver_stats: 'v1-x' },
    });
  });
});
