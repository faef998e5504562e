import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FrescoError } from '../src/errors/index.js';
import { ModelRegistry } from '../src/registry/index.js';
import { loadTrainConfig, parseTrainConfig } from '../src/training/config.js';
import { runOnnx } from '../src/training/onnx-run.js';
import { reproduceVersion } from '../src/training/reproduce.js';
import { trainFromConfig } from '../src/training/train.js';
import { makeProject, trainYaml } from './training-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await makeProject();
}, 60_000);

function config(yaml: string, name = 'train.yaml') {
  writeFileSync(join(dir, name), yaml);
  return loadTrainConfig(join(dir, name));
}

async function expectOnnxEqualsTrainer(result: Awaited<ReturnType<typeof trainFromConfig>>, tolerance: number) {
  const out = await runOnnx(result.onnx, result.test.x, result.test.rows, result.model.columns, result.config.task === 'binary' ? 'probability' : 'prediction');
  let max = 0;
  for (let i = 0; i < result.test.rows; i++) max = Math.max(max, Math.abs((out[i] as number) - (result.test.predictions[i] as number)));
  expect(max).toBeLessThan(tolerance);
  // Not a constant model: the comparison covers real branching.
  expect(new Set(Array.from(result.test.predictions.slice(0, 200), (p) => p.toFixed(4))).size).toBeGreaterThan(10);
}

describe('fresco train', () => {
  it('trains a GBDT on a point-in-time dataset, evaluates on later rows, registers ONNX + plan + report + lineage', async () => {
    const result = await trainFromConfig(config(trainYaml({ extra: 'register: { aliases: [production] }\nreport: out/report.html\n' })));
    expect(result.metrics.auc).toBeGreaterThan(0.8);
    expect(result.split.test.length).toBeGreaterThan(1000);
    await expectOnnxEqualsTrainer(result, 1e-5);
    // The x2 column has nulls: the ONNX missing-value routing is exercised.
    expect(Array.from(result.test.x).some(Number.isNaN)).toBe(true);
    const registry = ModelRegistry.open(join(dir, '.fresco', 'registry'));
    try {
      const v = registry.resolve('test-model@production');
      expect(v.planHash).toBe(result.frozen.hash);
      expect(v.manifest.input_kind).toBe('dataframe');
      expect(v.metrics.auc).toBeCloseTo(result.metrics.auc as number, 12);
      expect((v.datasets as { training: { labels: unknown } }).training.labels).toBeTruthy();
      expect(v.codeHash).toMatch(/^sha256:/);
      expect(v.featureDefinitions).toMatchObject({ plan_hash: result.frozen.hash });
      const html = registry.report('test-model@production') as string;
      for (const chart of ['ROC', 'Precision-recall', 'Calibration', 'Feature importance', 'Score distribution']) expect(html).toContain(chart);
      expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
      expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).toBe(html);
    } finally {
      registry.close();
    }
    // Reproduce: rebuild the dataset from lineage, retrain, compare.
    const report = await reproduceVersion(join(dir, '.fresco', 'registry'), 'test-model@production');
    expect(report.ok).toBe(true);
    expect(report.predictionMaxAbsDiff).toBeLessThanOrEqual(1e-6);
    expect(report.inputs.every((i) => i.now === i.recorded)).toBe(true);
  }, 60_000);

  it('logistic regression (L2 and L1) and linear regression export to ONNX that matches the trainer', async () => {
    const l2 = await trainFromConfig(config(trainYaml({ features: 'filled.features', algorithm: '  type: logistic\n  params: { l2: 0.001 }' })), { register: false });
    expect(l2.metrics.auc).toBeGreaterThan(0.8);
    await expectOnnxEqualsTrainer(l2, 1e-5);
    const l1 = await trainFromConfig(config(trainYaml({ features: 'filled.features', algorithm: '  type: logistic\n  params: { l2: 0, l1: 0.05, max_iterations: 500 }' })), { register: false });
    expect(l1.model.summary.nonzero).toBeLessThan(3);
    await expectOnnxEqualsTrainer(l1, 1e-5);
    const linear = await trainFromConfig(config(trainYaml({ features: 'filled.features', label: 'target', task: 'regression', algorithm: '  type: linear' })), { register: false });
    expect(linear.metrics.r2).toBeGreaterThan(0.8);
    await expectOnnxEqualsTrainer(linear, 1e-4);
  }, 60_000);

  it('grid search records every trial and keeps the best on the validation split', async () => {
    const result = await trainFromConfig(
      config(trainYaml({ extra: 'search:\n  method: grid\n  space: { max_leaves: [4, 15], learning_rate: [0.1, 0.3] }\n' })),
      { register: false },
    );
    expect(result.trials).toHaveLength(4);
    const best = Math.max(...result.trials.map((t) => t.metric));
    expect(result.validationMetrics.auc).toBeCloseTo(best, 12);
    expect(result.reportHtml).toContain('Search: 4 trial(s)');
  }, 60_000);
});

describe('bad training input fails before training', () => {
  const code = async (yaml: string) => {
    try {
      await trainFromConfig(config(yaml), { register: false });
    } catch (error) {
      return error as FrescoError;
    }
    throw new Error('expected an error');
  };

  it('unknown algorithm and hyper-parameter name the file, line and key', () => {
    expect(() => parseTrainConfig('t.yaml', trainYaml({ algorithm: '  type: xgboost' }))).toThrowError(/t\.yaml:10:9: algorithm\.type: unknown algorithm "xgboost"/);
    try {
      parseTrainConfig('t.yaml', trainYaml({ algorithm: '  type: gbdt\n  params:\n    iterations: 10\n    num_trees: 5' }));
      throw new Error('no error');
    } catch (error) {
      expect((error as FrescoError).code).toBe('FRESCO_ERR_CONFIG_INVALID');
      expect((error as FrescoError).message).toMatch(/t\.yaml:13:\d+: algorithm\.params\.num_trees: unknown hyper-parameter "num_trees" for algorithm gbdt/);
    }
    expect(() => parseTrainConfig('t.yaml', trainYaml({ algorithm: '  type: gbdt\n  params: { learning_rate: -1 }' }))).toThrowError(/algorithm\.params\.learning_rate/);
    expect(() => parseTrainConfig('t.yaml', trainYaml({ extra: 'search:\n  method: grid\n  space: { leaves: [2] }\n' }))).toThrowError(/search\.space\.leaves: unknown hyper-parameter/);
    expect(() => parseTrainConfig('t.yaml', `${trainYaml()}colour: red\n`)).toThrowError(/unknown key "colour"/);
  });

  it('a missing or string label, a single class, an empty split, nulls for a linear model', async () => {
    const missing = await code(trainYaml({ label: 'nope' }));
    expect([missing.code, missing.message]).toEqual(['FRESCO_ERR_DATA_INVALID', expect.stringMatching(/label column "nope" is not in the dataset/)]);
    const text = await code(trainYaml({ label: 'text' }));
    expect(text.message).toMatch(/label column "text" is a string/);
    const regressionAsBinary = await code(trainYaml({ label: 'target' }));
    expect(regressionAsBinary.message).toMatch(/binary label must be 0\/1/);
    const empty = await code(trainYaml({ extra: '' }).replace('test_fraction: 0.2', 'test_from: "2003-01-01"'));
    expect([empty.code, empty.message]).toEqual(['FRESCO_ERR_DATA_INVALID', expect.stringMatching(/the test split is empty/)]);
    const nulls = await code(trainYaml({ algorithm: '  type: logistic' }));
    expect([nulls.code, nulls.message]).toEqual(['FRESCO_ERR_TRAINING_FAILED', expect.stringMatching(/feature column "x2" is missing.*fill_null/)]);
  }, 60_000);

  it('a single-class training split', async () => {
    writeFileSync(join(dir, 'one.features'), 'x1 = @request.x1\n');
    const yaml = trainYaml({ features: 'one.features', label: 'always' });
    // A label file whose label is always 0.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    await c.run(`COPY (SELECT ts, store, x1, false AS always FROM '${join(dir, 'data', 'labels.parquet')}') TO '${join(dir, 'data', 'one.parquet')}' (FORMAT parquet)`);
    c.closeSync();
    instance.closeSync();
    const error = await code(yaml.replace('data/labels.parquet', 'data/one.parquet'));
    expect([error.code, error.message]).toEqual(['FRESCO_ERR_DATA_INVALID', expect.stringMatching(/training split has a single class/)]);
  }, 60_000);
});
