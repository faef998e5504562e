// `fresco models diff` of two versions trained by `fresco train`: a short, readable summary by
// default (metric deltas, changed parameters, features, lineage), every value with --full.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { makeProject, trainYaml } from './training-helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await makeProject(3000);
  writeFileSync(join(dir, 'train.yaml'), trainYaml());
  // Version 2: other hyper-parameters and another spec (fitted features, no `hour`).
  writeFileSync(join(dir, 'train2.yaml'), trainYaml({ algorithm: '  type: gbdt\n  params: { iterations: 40, learning_rate: 0.1, max_leaves: 15, threads: 1 }', features: 'filled.features' }));
  for (const file of ['train.yaml', 'train2.yaml']) {
    const r = await cli('train', join(dir, file));
    expect(r.code, r.err).toBe(0);
  }
}, 120_000);

describe('fresco models diff', () => {
  it('prints a short summary: metric deltas, changed parameters, features and lineage', async () => {
    const r = await cli('models', 'diff', 'test-model', '1', '2', '--project', dir);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(200);
    expect(r.out.length).toBeLessThan(6000);
    expect(lines[0]).toBe('test-model@1 -> test-model@2');
    // Every metric side by side with its signed delta.
    expect(r.out).toMatch(/^auc\s+0\.\d+\s+0\.\d+\s+[+-]\d/m);
    expect(r.out).toMatch(/^validation_logloss\s+0\.\d+\s+0\.\d+\s+[+-]\d/m);
    // Only the parameters that changed.
    expect(r.out).toMatch(/^ {2}config\.algorithm\.params\.learning_rate\s+0\.2 -> 0\.1$/m);
    expect(r.out).toMatch(/^ {2}config\.algorithm\.params\.iterations\s+60 -> 40$/m);
    expect(r.out).not.toMatch(/max_leaves/);
    expect(r.out).not.toMatch(/seed/);
    // Features: removed, redefined (with the definitions), fitted statistics.
    expect(r.out).toMatch(/^ {2}removed: hour$/m);
    expect(r.out).toMatch(/^ {2}x1\s+@request\.x1 -> standardize\(@request\.x1\)$/m);
    expect(r.out).toMatch(/^ {2}fitted x1\.standardize\.mean\s+- -> -?0\.\d+$/m);
    // Lineage: same label and source files (by hash); another spec file.
    expect(r.out).toMatch(/^ {2}feature spec file\s+.*model\.features -> .*filled\.features$/m);
    expect(r.out).not.toMatch(/labels\.parquet/);
  });

  it('--full prints every differing value whole; --json is the summary, --json --full adds the rows', async () => {
    const full = await cli('models', 'diff', 'test-model', '1', '2', '--project', dir, '--full');
    expect(full.code, full.err).toBe(0);
    // The whole spec text and training YAML of each version, line by line.
    expect(full.out).toContain('features feature_definitions.spec.text');
    expect(full.out).toContain('x2 = fill_mean(@request.x2)');
    expect(full.out).toContain('hour = hour(@request.ts)');
    expect(full.out).toContain('params: { iterations: 40, learning_rate: 0.1, max_leaves: 15, threads: 1 }');

    const summary = JSON.parse((await cli('--json', 'models', 'diff', 'test-model', '1', '2', '--project', dir)).out);
    expect(summary).toMatchObject({ name: 'test-model', a: 1, b: 2, features: { removed: ['hour'], added: [] } });
    const auc = summary.metrics.find((m: { name: string }) => m.name === 'auc');
    expect(auc.delta).toBeCloseTo(auc.b - auc.a, 12);
    expect(summary.parameters).toContainEqual({ key: 'config.algorithm.params.learning_rate', a: 0.2, b: 0.1 });
    expect(summary.rows).toBeUndefined();
    const all = JSON.parse((await cli('--json', 'models', 'diff', 'test-model', '1', '2', '--project', dir, '--full')).out);
    expect(all.summary.metrics).toEqual(summary.metrics);
    expect(all.rows.find((row: { key: string }) => row.key === 'yaml').b).toContain('features: filled.features');
  });
});
