// The scikit-learn example (examples/python-sklearn, docs/python-models.md): its train.py, run by
// `fresco train` with its own requirements.txt (scikit-learn pinned; the environment is built once
// and cached like the other Python test environments), trains a pipeline that is registered as a
// python package, and the package served through the runner answers what the pipeline's
// predict_proba answers inside Python. The example's train.yaml runs on the quickstart's flights
// sample; here the same script trains on the small synthetic training project.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../src/package-root.js';
import { ModelRegistry } from '../src/registry/index.js';
import { loadTrainConfig, parseTrainConfig } from '../src/training/config.js';
import { trainAny, type PythonTrainResult } from '../src/training/train.js';
import { predictInPython } from './python-models-helpers.js';
import { makeProject, trainYaml } from './training-helpers.js';

const EXAMPLE = join(packageRoot(), 'examples', 'python-sklearn');
let dir: string;
beforeAll(async () => {
  dir = await makeProject(3000);
}, 60_000);

it('the example train.yaml is a valid python training config over the quickstart flights sample', () => {
  const config = parseTrainConfig(join(EXAMPLE, 'train.yaml'), readFileSync(join(EXAMPLE, 'train.yaml'), 'utf8'));
  expect(config.algorithm).toEqual({ type: 'python', script: join(EXAMPLE, 'train.py'), params: { C: 1, max_iter: 500 } });
  expect(config.projectDir).toBe(join(packageRoot(), '.quickstart'));
  expect(readFileSync(join(EXAMPLE, 'requirements.txt'), 'utf8')).toMatch(/^scikit-learn==\d+\.\d+\.\d+$/m);
});

it('examples/python-sklearn/train.py trains a pipeline that is registered and served as predict_proba answers', async () => {
  writeFileSync(join(dir, 'sk.yaml'), trainYaml({ algorithm: `  type: python\n  script: ${join(EXAMPLE, 'train.py')}\n  params: { C: 0.5 }`, extra: 'register: { aliases: [production] }\n' }).replace('name: test-model', 'name: sk-pipeline'));
  const result = (await trainAny(loadTrainConfig(join(dir, 'sk.yaml')))) as PythonTrainResult;
  expect(result.metrics.auc).toBeGreaterThan(0.8);
  expect(result.python.environment.lock).toMatch(/^scikit-learn==1\.6\.1$/m);
  const registry = ModelRegistry.open(join(dir, '.fresco', 'registry'));
  try {
    const v = registry.resolve('sk-pipeline@production');
    expect(v.manifest.backend).toBe('python');
    expect(Object.keys(v.manifest.files).sort()).toEqual(['model.py', 'pipeline.joblib', 'requirements.txt']);
    expect(v.environment?.lock).toMatch(/^scikit-learn==1\.6\.1$/m);
    // The runner's scores (the test metrics' predictions) are predict_proba's, rows with nulls included.
    const pkg = await registry.materialize('sk-pipeline@production');
    const k = result.frozen.plan.outputs.length;
    const rows = 64;
    const x = Array.from(result.test.x.subarray(0, rows * k), (v) => (Number.isNaN(v) ? null : v)) as number[];
    expect(x.some((v) => v === null)).toBe(true);
    const direct = await predictInPython(pkg.dir, { features: ['float32', [rows, k], x] }, result.frozen.plan.output_names!);
    const served = Array.from(result.test.predictions.subarray(0, rows));
    direct.probability!.forEach((p, i) => expect(Math.abs(p - served[i]!)).toBeLessThan(1e-6));
  } finally {
    registry.close();
  }
}, 600_000);
