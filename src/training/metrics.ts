/**
 * Evaluation metrics, computed in f64 over the trainer's predictions. Classification: AUC (ties
 * count one half, as scikit-learn's roc_auc_score), log loss (probabilities clipped to 1e-15),
 * accuracy, precision, recall and F1 at a threshold (and the confusion matrix they come from), Brier
 * score, calibration in 10 equal-width bins, and lift / gain by score decile. Regression: RMSE, MAE,
 * R2. Curves are thinned to at most 200 points for the report.
 */
export interface Curve {
  x: number[];
  y: number[];
}

export interface ClassificationEval {
  metrics: Record<string, number>;
  roc: Curve;
  pr: Curve;
  calibration: { predicted: number; observed: number; count: number }[];
  /** Histogram of scores in 20 bins over [0, 1], per class. */
  scores: { negatives: number[]; positives: number[] };
  /** Counts at the threshold: a score >= threshold is predicted positive. */
  confusion: Confusion;
  /** Lift and cumulative gain per score decile, highest scores first. */
  lift: LiftRow[];
}

export interface Confusion {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface LiftRow {
  /** 1 = the tenth of rows with the highest scores. */
  decile: number;
  rows: number;
  positives: number;
  minScore: number;
  maxScore: number;
  /** Positive rate in the decile. */
  rate: number;
  /** rate / the overall positive rate. */
  lift: number;
  /** Share of all positives in this decile and the ones above it. */
  cumulativeGain: number;
  /** Positive rate of this decile and the ones above it / the overall positive rate. */
  cumulativeLift: number;
}

export interface RegressionEval {
  metrics: Record<string, number>;
  /** Histogram of residuals (prediction - label) in 30 bins. */
  residuals: { from: number; to: number; counts: number[] };
  /** Up to 2000 (label, prediction) pairs. */
  sample: { label: number[]; prediction: number[] };
}

function thin(curve: Curve, max = 200): Curve {
  const n = curve.x.length;
  if (n <= max) return curve;
  const keep: number[] = [];
  for (let i = 0; i < max; i++) keep.push(Math.round((i * (n - 1)) / (max - 1)));
  return { x: keep.map((i) => curve.x[i] as number), y: keep.map((i) => curve.y[i] as number) };
}

export function auc(p: Float64Array, y: Float64Array): number {
  const order = Array.from(p.keys()).sort((a, b) => (p[a] as number) - (p[b] as number));
  // Mann-Whitney U with average ranks for ties.
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && p[order[j + 1] as number] === p[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) if (y[order[t] as number] === 1) {
      rankSum += rank;
      positives++;
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Rows ranked by score, highest first, cut into `groups` groups whose sizes differ by at most one
 * row; rows with equal scores keep their order, so the cut is the same on every run.
 */
export function liftTable(p: Float64Array, y: Float64Array, groups = 10): LiftRow[] {
  const n = p.length;
  const order = Array.from(p.keys()).sort((a, b) => (p[b] as number) - (p[a] as number));
  let total = 0;
  for (const v of y) total += v === 1 ? 1 : 0;
  const overall = n ? total / n : 0;
  const out: LiftRow[] = [];
  let seenRows = 0;
  let seenPositives = 0;
  for (let g = 0; g < groups; g++) {
    const from = Math.floor((g * n) / groups);
    const to = Math.floor(((g + 1) * n) / groups);
    if (to === from) continue;
    let positives = 0;
    for (let i = from; i < to; i++) positives += y[order[i] as number] === 1 ? 1 : 0;
    seenRows += to - from;
    seenPositives += positives;
    const rate = positives / (to - from);
    out.push({
      decile: g + 1,
      rows: to - from,
      positives,
      minScore: p[order[to - 1] as number] as number,
      maxScore: p[order[from] as number] as number,
      rate,
      lift: overall ? rate / overall : 0,
      cumulativeGain: total ? seenPositives / total : 0,
      cumulativeLift: overall ? seenPositives / seenRows / overall : 0,
    });
  }
  return out;
}

export function evaluateClassification(p: Float64Array, y: Float64Array, threshold: number): ClassificationEval {
  const n = p.length;
  let logloss = 0;
  let brier = 0;
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const q = Math.min(Math.max(p[i] as number, 1e-15), 1 - 1e-15);
    const t = y[i] as number;
    logloss -= t * Math.log(q) + (1 - t) * Math.log(1 - q);
    brier += ((p[i] as number) - t) ** 2;
    const predicted = (p[i] as number) >= threshold;
    if (predicted && t === 1) tp++;
    else if (predicted) fp++;
    else if (t === 1) fn++;
    else tn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  // Curves: sweep thresholds from the highest score down.
  const order = Array.from(p.keys()).sort((a, b) => (p[b] as number) - (p[a] as number));
  const pos = tp + fn;
  const neg = n - pos;
  const roc: Curve = { x: [0], y: [0] };
  const pr: Curve = { x: [0], y: [1] };
  let ctp = 0;
  let cfp = 0;
  for (let i = 0; i < n; i++) {
    if (y[order[i] as number] === 1) ctp++;
    else cfp++;
    if (i + 1 < n && p[order[i + 1] as number] === p[order[i] as number]) continue;
    roc.x.push(neg ? cfp / neg : 0);
    roc.y.push(pos ? ctp / pos : 0);
    pr.x.push(pos ? ctp / pos : 0);
    pr.y.push(ctp / (ctp + cfp));
  }
  const bins = Array.from({ length: 10 }, () => ({ sp: 0, sy: 0, count: 0 }));
  const negHist = new Array<number>(20).fill(0);
  const posHist = new Array<number>(20).fill(0);
  for (let i = 0; i < n; i++) {
    const q = p[i] as number;
    const b = bins[Math.min(9, Math.floor(q * 10))]!;
    b.sp += q;
    b.sy += y[i] as number;
    b.count++;
    const h = Math.min(19, Math.floor(q * 20));
    if (y[i] === 1) posHist[h]!++;
    else negHist[h]!++;
  }
  return {
    metrics: {
      auc: auc(p, y),
      logloss: logloss / n,
      accuracy: (tp + tn) / n,
      precision,
      recall,
      f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
      brier: brier / n,
      positive_rate: pos / n,
      rows: n,
    },
    roc: thin(roc),
    pr: thin(pr),
    calibration: bins.filter((b) => b.count > 0).map((b) => ({ predicted: b.sp / b.count, observed: b.sy / b.count, count: b.count })),
    scores: { negatives: negHist, positives: posHist },
    confusion: { threshold, tp, fp, tn, fn },
    lift: liftTable(p, y),
  };
}

export function evaluateRegression(p: Float64Array, y: Float64Array): RegressionEval {
  const n = p.length;
  let se = 0;
  let ae = 0;
  let mean = 0;
  for (const v of y) mean += v;
  mean /= n;
  let tss = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const e = (p[i] as number) - (y[i] as number);
    se += e * e;
    ae += Math.abs(e);
    tss += ((y[i] as number) - mean) ** 2;
    lo = Math.min(lo, e);
    hi = Math.max(hi, e);
  }
  const counts = new Array<number>(30).fill(0);
  const width = (hi - lo) / 30 || 1;
  for (let i = 0; i < n; i++) counts[Math.min(29, Math.floor(((p[i] as number) - (y[i] as number) - lo) / width))]!++;
  const stride = Math.max(1, Math.floor(n / 2000));
  const sample = { label: [] as number[], prediction: [] as number[] };
  for (let i = 0; i < n; i += stride) {
    sample.label.push(y[i] as number);
    sample.prediction.push(p[i] as number);
  }
  return { metrics: { rmse: Math.sqrt(se / n), mae: ae / n, r2: tss ? 1 - se / tss : 0, rows: n }, residuals: { from: lo, to: hi, counts }, sample };
}
