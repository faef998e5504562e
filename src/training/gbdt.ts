/**
 * Gradient-boosted decision trees on forust-ml (native/train): the engine trains and predicts;
 * its trees are exported to ONNX here (onnx-export.ts). Why this engine: docs/training.md.
 */
import { nativePredictGbdt, nativeTrainGbdt } from '../native.js';
import type { GbdtParams } from './config.js';
import { GBDT_ENGINE } from './code-hash.js';
import { type Task, type TrainedModel, sigmoid } from './model.js';
import { treeEnsembleOnnx, type TreeNode } from './onnx-export.js';

interface EngineOutput {
  booster: string;
  base_score: number;
  trees: (TreeNode & { split: number; gain: number; cover: number })[][];
  best_iteration: number | null;
  iterations_run: number;
  validation_history: number[];
  gain: number[];
  splits: number[];
}

export interface Matrix {
  x: Float32Array;
  rows: number;
  y: Float64Array;
}

export function trainGbdt(task: Task, columns: number, train: Matrix, valid: Matrix | undefined, params: GbdtParams, seed: number): TrainedModel {
  const engineParams = {
    objective: task,
    iterations: params.iterations,
    learning_rate: params.learning_rate,
    max_leaves: params.max_leaves,
    max_depth: params.max_depth,
    l1: params.l1,
    l2: params.l2,
    min_leaf_weight: params.min_leaf_weight,
    gamma: params.gamma,
    nbins: params.max_bin,
    subsample: params.subsample,
    colsample_bytree: params.colsample_bytree,
    seed,
    early_stopping_rounds: params.early_stopping_rounds > 0 ? params.early_stopping_rounds : null,
    threads: params.threads,
  };
  const out = JSON.parse(nativeTrainGbdt(train.x, train.rows, columns, train.y, valid, JSON.stringify(engineParams))) as EngineOutput;
  const totalGain = out.gain.reduce((a, b) => a + b, 0) || 1;
  const leaves = out.trees.reduce((s, t) => s + t.filter((n) => n.leaf).length, 0);
  return {
    algorithm: 'gbdt',
    task,
    columns,
    predict(x, rows) {
      const raw = nativePredictGbdt(out.booster, x, rows, columns);
      if (task === 'binary') for (let i = 0; i < raw.length; i++) raw[i] = sigmoid(raw[i] as number);
      return raw;
    },
    toOnnx: () => treeEnsembleOnnx(task, columns, out.trees, out.base_score),
    importance: out.gain.map((g) => g / totalGain),
    summary: {
      engine: GBDT_ENGINE,
      trees: out.trees.length,
      leaves,
      iterations_run: out.iterations_run,
      best_iteration: out.best_iteration,
      base_score: out.base_score,
      splits_per_feature: out.splits,
    },
    validationHistory: out.validation_history,
    ...(out.best_iteration === null ? {} : { bestIteration: out.best_iteration }),
  };
}
