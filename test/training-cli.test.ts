// `fresco train` and `fresco models reproduce` through the CLI, with --json and the one error style.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { makeProject, trainYaml } from './training-helpers.js';

describe('fresco train (CLI)', () => {
  it('trains, registers, reproduces; a bad config fails with file, line and key', async () => {
    const dir = await makeProject(3000);
    writeFileSync(join(dir, 'train.yaml'), trainYaml({ extra: 'register: { aliases: [production] }\n' }));
    const trained = await cli('--json', 'train', join(dir, 'train.yaml'));
    expect(trained.code, trained.err).toBe(0);
    const data = JSON.parse(trained.out);
    expect(data).toMatchObject({ name: 'test-model', version: 1, aliases: ['production'] });
    expect(data.metrics.auc).toBeGreaterThan(0.75);
    expect(data.onnxMaxAbsDiff).toBeLessThan(1e-5);

    const reproduced = await cli('models', 'reproduce', 'test-model@production', '--project', dir);
    expect(reproduced.code, reproduced.err).toBe(0);
    expect(reproduced.out).toMatch(/^test-model@1: REPRODUCED/);

    writeFileSync(join(dir, 'bad.yaml'), trainYaml({ algorithm: '  type: gbdt\n  params: { trees: 5 }' }));
    const bad = await cli('train', join(dir, 'bad.yaml'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/error\[FRESCO_ERR_CONFIG_INVALID\]: .*bad\.yaml:11:\d+: algorithm\.params\.trees: unknown hyper-parameter "trees"/);
  }, 60_000);
});
