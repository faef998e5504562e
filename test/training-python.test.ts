// `fresco train` with `algorithm: {type: python, script: train.py}` (docs/python-models.md,
// "Training from a script"): a numpy logistic regression written by a script is registered as a
// python package with its lineage (script hash, the environments' locks, dataset manifest, spec and
// plan hash) and metrics computed by scoring the package through the serving runner; the script
// sees the training and validation rows only; a failing script registers nothing.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../src/registry/index.js';
import { loadTrainConfig, parseTrainConfig } from '../src/training/config.js';
import { trainAny, trainFromConfig, type PythonTrainResult } from '../src/training/train.js';
import { cli } from './helpers/cli.js';
import { REQUIREMENTS } from './python-models-helpers.js';
import { makeProject, trainYaml } from './training-helpers.js';

/** Logistic regression by gradient descent on the plan's columns (NaN -> the training mean). */
const TRAIN_PY = `
import json, os, sys
import numpy as np

ctx = json.load(open(sys.argv[1]))
x = np.load(ctx["train"]["x"]).astype(np.float64)
y = np.load(ctx["train"]["y"])
means = np.nanmean(x, axis=0)
x = np.where(np.isnan(x), means, x)
mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
z = (x - mu) / sd
w, b = np.zeros(z.shape[1]), 0.0
for _ in range(int(ctx["params"].get("iterations", 300))):
    p = 1 / (1 + np.exp(-(z @ w + b)))
    w -= 0.5 * z.T @ (p - y) / len(y)
    b -= 0.5 * float(np.mean(p - y))
out = ctx["output"]
json.dump({"columns": ctx["columns"], "means": means.tolist(), "mu": mu.tolist(), "sd": sd.tolist(), "w": w.tolist(), "b": b}, open(os.path.join(out, "weights.json"), "w"))
json.dump({"train": int(len(y)), "validation": int(len(np.load(ctx["validation"]["y"]))), "dataset": ctx["dataset"]}, open(os.path.join(out, "seen.json"), "w"))
open(os.path.join(out, "model.py"), "w").write(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve_model.py")).read())
print("trained on", len(y), "rows")
`;

const SERVE_PY = `
import json
import numpy as np

class Model:
    def load(self, context):
        p = json.load(open(context.artifacts + "/weights.json"))
        self.columns = p["columns"]
        self.means, self.mu, self.sd, self.w = (np.array(p[k]) for k in ("means", "mu", "sd", "w"))
        self.b = p["b"]

    def predict(self, inputs):
        x = inputs[self.columns].to_numpy(dtype=np.float64)
        x = np.where(np.isnan(x), self.means, x)
        z = (x - self.mu) / self.sd
        return {"probability": (1 / (1 + np.exp(-(z @ self.w + self.b)))).astype(np.float32).reshape(-1, 1)}
`;

let dir: string;
beforeAll(async () => {
  dir = await makeProject(4000);
  mkdirSync(join(dir, 'trainer'));
  writeFileSync(join(dir, 'trainer', 'train.py'), TRAIN_PY);
  writeFileSync(join(dir, 'trainer', 'serve_model.py'), SERVE_PY);
  writeFileSync(join(dir, 'trainer', 'requirements.txt'), REQUIREMENTS);
  writeFileSync(join(dir, 'trainer', 'killed.py'), 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n');
  writeFileSync(join(dir, 'trainer', 'fail.py'), 'import sys\nprint("starting")\nraise ValueError("column x9 is missing from the dataset")\n');
}, 60_000);

function config(yaml: string, name: string) {
  writeFileSync(join(dir, name), yaml);
  return loadTrainConfig(join(dir, name));
}

describe('fresco train with a python script', () => {
  it('registers the package the script wrote, with metrics from the package and full lineage', async () => {
    const cfg = config(trainYaml({ algorithm: '  type: python\n  script: trainer/train.py\n  params: { iterations: 300 }', extra: 'register: { aliases: [production] }\n' }).replace('name: test-model', 'name: py-trained'), 'py.yaml');
    const result = (await trainAny(cfg)) as PythonTrainResult;
    // A real fit: the label is a threshold of x1 + 2 x2 plus noise.
    expect(result.metrics.auc).toBeGreaterThan(0.8);
    expect(result.test.predictions.length).toBe(result.split.test.length);
    const registry = ModelRegistry.open(join(dir, '.fresco', 'registry'));
    try {
      const v = registry.resolve('py-trained@production');
      expect(v.manifest.backend).toBe('python');
      expect(v.manifest.input_kind).toBe('dataframe');
      expect(v.planHash).toBe(result.frozen.hash);
      expect(v.metrics.auc).toBeCloseTo(result.metrics.auc as number, 12);
      expect(v.metrics.validation_auc).toBeGreaterThan(0.8);
      // Lineage: the script's hash, both environments' locks, dataset manifest, spec and plan.
      const scriptHash = `sha256:${createHash('sha256').update(readFileSync(join(dir, 'trainer', 'train.py'))).digest('hex')}`;
      expect(v.codeHash).toBe(scriptHash);
      const training = v.trainingConfig as { python: { script: string; scriptHash: string; environment: { lock: string } } };
      expect(training.python.script).toBe(join(dir, 'trainer', 'train.py'));
      expect(training.python.environment.lock).toContain('numpy==2.2.6');
      expect(v.environment?.lock).toContain('pandas==2.2.3');
      expect((v.datasets as { training: { labels: unknown } }).training.labels).toBeTruthy();
      expect(v.featureDefinitions).toMatchObject({ plan_hash: result.frozen.hash, spec: { text: readFileSync(join(dir, 'model.features'), 'utf8') } });
      // The script saw the training and validation rows only, and the dataset's Parquet path.
      const seen = JSON.parse(readFileSync(join((await registry.materialize('py-trained@production')).dir, 'seen.json'), 'utf8'));
      expect(seen).toEqual({ train: result.split.train.length, validation: result.split.valid.length, dataset: result.dataset.file });
      expect(registry.report('py-trained@production')).toContain('ROC');
    } finally {
      registry.close();
    }
  }, 240_000);

  it('a script that fails gives its stderr tail and registers nothing', async () => {
    const cfg = config(trainYaml({ algorithm: '  type: python\n  script: trainer/fail.py' }).replace('name: test-model', 'name: py-failed'), 'fail.yaml');
    await expect(trainAny(cfg)).rejects.toMatchObject({ code: 'FRESCO_ERR_TRAINING_FAILED', message: expect.stringMatching(/fail\.py failed \(exit 1\); nothing registered[\s\S]*ValueError: column x9 is missing from the dataset/) });
    // A script killed by a signal (as the OOM killer does) says so.
    const killed = config(trainYaml({ algorithm: '  type: python\n  script: trainer/killed.py' }).replace('name: test-model', 'name: py-failed'), 'killed.yaml');
    await expect(trainAny(killed)).rejects.toMatchObject({ code: 'FRESCO_ERR_TRAINING_FAILED', message: expect.stringContaining('killed.py failed (killed by SIGKILL); nothing registered') });
    const registry = ModelRegistry.open(join(dir, '.fresco', 'registry'));
    try {
      expect(() => registry.resolve('py-failed@1')).toThrow();
    } finally {
      registry.close();
    }
  }, 120_000);

  it('through the CLI: trains without registering, prints the package\'s metrics; a failing script and reproduce are errors', async () => {
    writeFileSync(join(dir, 'cli.yaml'), trainYaml({ algorithm: '  type: python\n  script: trainer/train.py' }).replace('name: test-model', 'name: py-cli'));
    const trained = await cli('--json', 'train', join(dir, 'cli.yaml'), '--no-register');
    expect(trained.code, trained.err).toBe(0);
    const data = JSON.parse(trained.out);
    expect(data).toMatchObject({ name: 'py-cli', version: null, onnxMaxAbsDiff: null, python: { script: join(dir, 'trainer', 'train.py') } });
    expect(data.metrics.auc).toBeGreaterThan(0.8);
    const human = await cli('train', join(dir, 'cli.yaml'), '--no-register');
    expect(human.out).toContain('metrics from the package scored through the serving runner');
    expect(human.err).toContain('trained on');

    const failed = await cli('train', join(dir, 'fail.yaml'));
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/error\[FRESCO_ERR_TRAINING_FAILED\]: training script .*fail\.py failed[\s\S]*ValueError: column x9/);
    const reproduce = await cli('models', 'reproduce', 'py-trained@production', '--project', dir);
    expect(reproduce.code).toBe(2);
    expect(reproduce.err).toMatch(/error\[FRESCO_ERR_INVALID_ARGUMENT\]: .*algorithm python \(a training script\) is not replayed by reproduce/);
  }, 240_000);

  it('bad python configs name the file and key; built-in-only callers refuse a python config', async () => {
    expect(() => parseTrainConfig('t.yaml', trainYaml({ algorithm: '  type: python' }))).toThrowError(/t\.yaml:\d+:\d+: algorithm: algorithm python needs script/);
    expect(() => parseTrainConfig('t.yaml', trainYaml({ algorithm: '  type: python\n  script: train.R' }))).toThrowError(/algorithm\.script: script "train\.R" is not a Python file/);
    expect(() => parseTrainConfig('t.yaml', trainYaml({ algorithm: '  type: python\n  script: train.py', extra: 'search: { method: grid, space: { a: [1] } }\n' }))).toThrowError(/search: search is not run for algorithm python/);
    expect(() => parseTrainConfig('t.yaml', trainYaml({ algorithm: '  type: gbdt\n  script: train.py' }))).toThrowError(/algorithm\.script: script is for algorithm python, not gbdt/);
    await expect(trainFromConfig(parseTrainConfig(join(dir, 'x.yaml'), trainYaml({ algorithm: '  type: python\n  script: train.py' })))).rejects.toMatchObject({ code: 'FRESCO_ERR_INVALID_ARGUMENT' });
    await expect(trainAny(parseTrainConfig(join(dir, 'x.yaml'), trainYaml({ algorithm: '  type: python\n  script: nowhere.py' })))).rejects.toMatchObject({ code: 'FRESCO_ERR_NOT_FOUND', message: expect.stringContaining('nowhere.py does not exist') });
  }, 120_000);
});
