/**
 * Linear regression (squared loss) and logistic regression (log loss) with L2 and L1 penalties,
 * on standardized columns (so a penalty treats every column alike; the intercept is free), then
 * folded back into weights on the raw columns for ONNX.
 *
 * Objective: mean loss + l2/2 |w|^2 + l1 |w|_1. Without L1: Newton's method (exact for squared
 * loss in one step; a few steps for log loss, with step halving). With L1: FISTA (proximal
 * gradient with backtracking).
 */
import { FrescoError } from '../errors/index.js';
import type { LinearParams } from './config.js';
import type { Matrix } from './gbdt.js';
import { type Task, type TrainedModel, sigmoid } from './model.js';
import { linearOnnx } from './onnx-export.js';

/** Refuses missing values: a linear model has no branch for them, so the spec must fill them. */
function checkFinite(m: Matrix, k: number, names: string[]): void {
  for (let i = 0; i < m.x.length; i++) {
    if (!Number.isFinite(m.x[i] as number)) {
      const col = i % k;
      let count = 0;
      for (let r = 0; r < m.rows; r++) if (!Number.isFinite(m.x[r * k + col] as number)) count++;
      throw new FrescoError(
        'FRESCO_ERR_TRAINING_FAILED',
        `feature column "${names[col] ?? col}" is missing (null) in ${count} of ${m.rows} training rows; a linear model cannot take missing values: wrap it in fill_null(x, v), fill_mean(x) or fill_median(x) in the feature spec`,
        { location: { key: names[col] ?? String(col) } },
      );
    }
  }
}

/** Solves A x = b for symmetric positive definite A (n x n, row-major) by Cholesky. */
function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] as number;
      for (let p = 0; p < j; p++) s -= (l[i * n + p] as number) * (l[j * n + p] as number);
      l[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / (l[j * n + j] as number);
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let p = 0; p < i; p++) s -= (l[i * n + p] as number) * (y[p] as number);
    y[i] = s / (l[i * n + i] as number);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let p = i + 1; p < n; p++) s -= (l[p * n + i] as number) * (x[p] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
}

export function trainLinear(task: Task, names: string[], train: Matrix, params: LinearParams): TrainedModel {
  const k = names.length;
  const n = train.rows;
  checkFinite(train, k, names);
  // Standardize: z = (x - mean) / std (std 0 taken as 1).
  const mean = new Float64Array(k);
  const std = new Float64Array(k);
  for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) mean[j] = (mean[j] as number) + (train.x[r * k + j] as number);
  for (let j = 0; j < k; j++) mean[j] = (mean[j] as number) / n;
  for (let r = 0; r < n; r++)
    for (let j = 0; j < k; j++) {
      const d = (train.x[r * k + j] as number) - (mean[j] as number);
      std[j] = (std[j] as number) + d * d;
    }
  for (let j = 0; j < k; j++) std[j] = Math.sqrt((std[j] as number) / n) || 1;
  const z = new Float64Array(n * k);
  for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) z[r * k + j] = ((train.x[r * k + j] as number) - (mean[j] as number)) / (std[j] as number);
  const y = train.y;
  const logistic = task === 'binary';
  // Parameters: w[0..k) on standardized columns, w[k] the intercept.
  const d = k + 1;
  const w = new Float64Array(d);
  if (!logistic) {
    let s = 0;
    for (const v of y) s += v;
    w[k] = s / n;
  } else {
    let s = 0;
    for (const v of y) s += v;
    const p = Math.min(Math.max(s / n, 1e-6), 1 - 1e-6);
    w[k] = Math.log(p / (1 - p));
  }
  const margin = (wv: Float64Array, r: number) => {
    let m = wv[k] as number;
    for (let j = 0; j < k; j++) m += (wv[j] as number) * (z[r * k + j] as number);
    return m;
  };
  const objective = (wv: Float64Array) => {
    let loss = 0;
    for (let r = 0; r < n; r++) {
      const m = margin(wv, r);
      const t = y[r] as number;
      loss += logistic ? Math.max(m, 0) - m * t + Math.log1p(Math.exp(-Math.abs(m))) : 0.5 * (m - t) * (m - t);
    }
    let pen = 0;
    for (let j = 0; j < k; j++) pen += 0.5 * params.l2 * (wv[j] as number) ** 2 + params.l1 * Math.abs(wv[j] as number);
    return loss / n + pen;
  };
  const gradient = (wv: Float64Array, hessian?: Float64Array) => {
    const g = new Float64Array(d);
    hessian?.fill(0);
    for (let r = 0; r < n; r++) {
      const m = margin(wv, r);
      const p = logistic ? sigmoid(m) : m;
      const e = p - (y[r] as number);
      const h = logistic ? p * (1 - p) : 1;
      for (let j = 0; j < k; j++) g[j] = (g[j] as number) + e * (z[r * k + j] as number);
      g[k] = (g[k] as number) + e;
      if (hessian) {
        for (let i = 0; i < d; i++) {
          const zi = i === k ? 1 : (z[r * k + i] as number);
          const hz = h * zi;
          for (let j = 0; j <= i; j++) hessian[i * d + j] = (hessian[i * d + j] as number) + hz * (j === k ? 1 : (z[r * k + j] as number));
        }
      }
    }
    for (let j = 0; j < d; j++) g[j] = (g[j] as number) / n + (j < k ? params.l2 * (wv[j] as number) : 0);
    if (hessian) {
      for (let i = 0; i < d; i++)
        for (let j = 0; j <= i; j++) {
          const v = (hessian[i * d + j] as number) / n + (i === j ? (i < k ? params.l2 : 0) + 1e-10 : 0);
          hessian[i * d + j] = v;
          hessian[j * d + i] = v;
        }
    }
    return g;
  };

  let iterations = 0;
  let converged = false;
  if (params.l1 === 0) {
    const hessian = new Float64Array(d * d);
    let f = objective(w);
    for (; iterations < params.max_iterations && !converged; iterations++) {
      const g = gradient(w, hessian);
      const step = solveSpd(hessian, g, d);
      let t = 1;
      let next = w.map((v, j) => v - t * (step[j] as number));
      let fn = objective(next);
      while (fn > f + 1e-12 && t > 1e-8) {
        t /= 2;
        next = w.map((v, j) => v - t * (step[j] as number));
        fn = objective(next);
      }
      let change = 0;
      for (let j = 0; j < d; j++) change = Math.max(change, Math.abs((next[j] as number) - (w[j] as number)));
      w.set(next);
      f = fn;
      converged = change < params.tolerance;
    }
  } else {
    // FISTA with backtracking on the smooth part; soft-thresholding for L1 (not on the intercept).
    const smooth = (wv: Float64Array) => objective(wv) - params.l1 * wv.slice(0, k).reduce((s, v) => s + Math.abs(v), 0);
    const shrink = (v: number, t: number) => Math.sign(v) * Math.max(Math.abs(v) - t, 0);
    let step = 1;
    let v = w.slice();
    let tk = 1;
    for (; iterations < params.max_iterations && !converged; iterations++) {
      const g = gradient(v);
      const fv = smooth(v);
      let next: Float64Array;
      for (;;) {
        next = v.map((x, j) => (j < k ? shrink(x - step * (g[j] as number), step * params.l1) : x - step * (g[j] as number)));
        let quad = fv;
        for (let j = 0; j < d; j++) quad += (g[j] as number) * ((next[j] as number) - (v[j] as number)) + (((next[j] as number) - (v[j] as number)) ** 2) / (2 * step);
        if (smooth(next) <= quad + 1e-12 || step < 1e-10) break;
        step /= 2;
      }
      const tNext = (1 + Math.sqrt(1 + 4 * tk * tk)) / 2;
      let change = 0;
      for (let j = 0; j < d; j++) change = Math.max(change, Math.abs((next[j] as number) - (w[j] as number)));
      v = next.map((x, j) => x + ((tk - 1) / tNext) * (x - (w[j] as number)));
      w.set(next);
      tk = tNext;
      converged = change < params.tolerance;
    }
  }
  // Fold the standardization into raw-column weights: w_raw = w / std, b = w_k - sum(w mean / std).
  const weights = new Float64Array(k);
  let intercept = w[k] as number;
  for (let j = 0; j < k; j++) {
    weights[j] = (w[j] as number) / (std[j] as number);
    intercept -= (weights[j] as number) * (mean[j] as number);
  }
  const total = w.slice(0, k).reduce((s, v) => s + Math.abs(v), 0) || 1;
  return {
    algorithm: logistic ? 'logistic' : 'linear',
    task,
    columns: k,
    predict(x, rows) {
      const out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        let m = intercept;
        for (let j = 0; j < k; j++) m += (weights[j] as number) * (x[r * k + j] as number);
        out[r] = logistic ? sigmoid(m) : m;
      }
      return out;
    },
    toOnnx: () => linearOnnx(task, weights, intercept),
    importance: Array.from(w.slice(0, k), (v) => Math.abs(v) / total),
    coefficients: { raw: Array.from(weights), standardized: Array.from(w.slice(0, k)), intercept },
    summary: {
      solver: params.l1 === 0 ? 'newton' : 'fista',
      iterations,
      converged,
      intercept,
      coefficients: Object.fromEntries(names.map((name, j) => [name, weights[j]])),
      standardized_coefficients: Object.fromEntries(names.map((name, j) => [name, w[j]])),
      nonzero: Array.from(w.slice(0, k)).filter((v) => v !== 0).length,
    },
  };
}
