/**
 * The evaluation report: one self-contained HTML file with inline SVG charts (ROC, PR,
 * calibration, cumulative gain, feature importance or signed coefficients, score distribution;
 * residuals for regression) and tables (metrics, confusion matrix, lift by decile, coefficients).
 * No script, no font or style sheet from a network: it opens anywhere, offline, and is stored
 * with the version.
 */
import type { ClassificationEval, Confusion, LiftRow, RegressionEval } from './metrics.js';
import type { TrainedModel } from './model.js';
import { axisTicks } from './report-axes.js';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toFixed(4));

const W = 360;
const H = 260;
const M = { l: 48, r: 12, t: 28, b: 40 };

function frame(title: string, xLabel: string, yLabel: string, body: string, xr: [number, number], yr: [number, number]): string {
  const px = (v: number) => Math.round(v * 100) / 100;
  const sx = (v: number) => px(M.l + ((v - xr[0]) / (xr[1] - xr[0] || 1)) * (W - M.l - M.r));
  const sy = (v: number) => px(H - M.b - ((v - yr[0]) / (yr[1] - yr[0] || 1)) * (H - M.t - M.b));
  const xt = axisTicks(...xr).map(({ value: v, label }) => `<line x1="${sx(v)}" x2="${sx(v)}" y1="${H - M.b}" y2="${H - M.b + 4}" stroke="#555"/><text x="${sx(v)}" y="${H - M.b + 16}" text-anchor="middle">${esc(label)}</text>`).join('');
  const yt = axisTicks(...yr).map(({ value: v, label }) => `<line x1="${M.l - 4}" x2="${M.l}" y1="${sy(v)}" y2="${sy(v)}" stroke="#555"/><text x="${M.l - 6}" y="${sy(v) + 4}" text-anchor="end">${esc(label)}</text>`).join('');
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="10">
<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>
<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="#fafafa" stroke="#999"/>${xt}${yt}
<text x="${(W + M.l) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>
<text transform="translate(12 ${(H - M.b + M.t) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>
${body.replace(/\{x:([-+\d.e]+)\}/g, (_, v) => String(sx(Number(v)))).replace(/\{y:([-+\d.e]+)\}/g, (_, v) => String(sy(Number(v))))}</svg></figure>`;
}

function line(xs: number[], ys: number[], color: string, dashed = false): string {
  const pts = xs.map((x, i) => `{x:${x}},{y:${ys[i]}}`).join(' ');
  return `<polyline fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="4 3"' : ''} points="${pts}"/>`;
}

function bars(values: number[], color: string, from = 0, to = 1, offset = 0, widthShare = 1): string {
  const step = (to - from) / values.length;
  return values.map((v, i) => `<rect x="{x:${from + i * step + step * offset}}" y="{y:${v}}" width="${Math.max(1, ((W - M.l - M.r) / values.length) * widthShare - 1)}" height="0" fill="${color}" data-v="${v}"/>`).join('');
}

/** Bars need a height in pixels: fixed up after coordinates are substituted. */
function fixBars(svg: string, yZero: number): string {
  return svg.replace(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="0" fill="([^"]+)" data-v="[^"]*"\/>/g, (_, x, y, w, fill) => `<rect x="${x}" y="${y}" width="${w}" height="${Math.max(0, Math.round((yZero - Number(y)) * 100) / 100)}" fill="${fill}"/>`);
}

function importanceChart(names: string[], importance: number[]): string {
  const top = names.map((n, i) => ({ n, v: importance[i] ?? 0 })).sort((a, b) => b.v - a.v).slice(0, 20);
  const max = Math.max(...top.map((t) => t.v), 1e-12);
  const rowH = 16;
  const h = 36 + top.length * rowH;
  const body = top
    .map((t, i) => {
      const w = (t.v / max) * 200;
      return `<text x="178" y="${34 + i * rowH + 11}" text-anchor="end">${esc(t.n)}</text><rect x="182" y="${34 + i * rowH}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="#4c78a8"/><text x="${186 + w}" y="${34 + i * rowH + 11}">${esc(fmt(t.v))}</text>`;
    })
    .join('');
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="460" height="${h}" viewBox="0 0 460 ${h}" role="img" aria-label="Feature importance" font-family="sans-serif" font-size="10"><text x="230" y="16" text-anchor="middle" font-size="13" font-weight="bold">Feature importance (top ${top.length})</text>${body}</svg></figure>`;
}

/** A signed value to 4 significant digits: +1.9, -0.01234, +2.5e-7. */
const signed = (v: number) => (v > 0 ? `+${Number(v.toPrecision(4))}` : v < 0 ? `-${Number((-v).toPrecision(4))}` : '0');
const percent = (v: number) => `${(v * 100).toFixed(1)}%`;

/** Linear models: signed coefficients, largest |standardized coefficient| first (comparable across columns). */
export function coefficientRows(names: string[], c: NonNullable<TrainedModel['coefficients']>): { feature: string; coefficient: number; standardized: number }[] {
  return names
    .map((feature, i) => ({ feature, coefficient: c.raw[i] ?? 0, standardized: c.standardized[i] ?? 0 }))
    .sort((a, b) => Math.abs(b.standardized) - Math.abs(a.standardized) || (a.feature < b.feature ? -1 : 1));
}

function coefficientSection(names: string[], c: NonNullable<TrainedModel['coefficients']>, task: ReportInput['task']): { chart: string; table: string } {
  const rows = coefficientRows(names, c);
  const top = rows.slice(0, 20);
  const max = Math.max(...top.map((t) => Math.abs(t.standardized)), 1e-12);
  const rowH = 16;
  const h = 36 + top.length * rowH;
  const mid = 280;
  const body = top
    .map((t, i) => {
      const w = (Math.abs(t.standardized) / max) * 95;
      const y = 34 + i * rowH;
      const x = t.standardized < 0 ? mid - w : mid;
      const valueX = t.standardized < 0 ? mid - w - 4 : mid + w + 4;
      return `<text x="120" y="${y + 11}" text-anchor="end">${esc(t.feature)}</text><rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${t.standardized < 0 ? '#e45756' : '#4c78a8'}"/><text x="${valueX.toFixed(1)}" y="${y + 11}" text-anchor="${t.standardized < 0 ? 'end' : 'start'}">${esc(signed(t.standardized))}</text>`;
    })
    .join('');
  const chart = `<figure><svg xmlns="http://www.w3.org/2000/svg" width="460" height="${h}" viewBox="0 0 460 ${h}" role="img" aria-label="Coefficients" font-family="sans-serif" font-size="10"><text x="230" y="16" text-anchor="middle" font-size="13" font-weight="bold">Coefficients per standard deviation (top ${top.length})</text><line x1="${mid}" x2="${mid}" y1="30" y2="${h - 2}" stroke="#999"/>${body}</svg></figure>`;
  const table = `<h2>Coefficients</h2><p>Signed: a positive coefficient raises the ${task === 'binary' ? 'log-odds of label 1' : 'prediction'} as the feature grows. Sorted by the size of the standardized coefficient (the change for one standard deviation of the feature), which compares features in different units.</p>
<table><tr><th>feature</th><th>coefficient (per unit)</th><th>standardized (per std)</th></tr><tr><td><i>intercept</i></td><td>${esc(signed(c.intercept))}</td><td></td></tr>${rows
    .map((r) => `<tr><td>${esc(r.feature)}</td><td>${esc(signed(r.coefficient))}</td><td>${esc(signed(r.standardized))}</td></tr>`)
    .join('')}</table>`;
  return { chart, table };
}

function confusionTable(c: Confusion): string {
  const n = c.tp + c.fp + c.tn + c.fn || 1;
  const cell = (v: number) => `<td>${v.toLocaleString('en-US')} <small>(${percent(v / n)})</small></td>`;
  const t = String(Number(c.threshold.toPrecision(6)));
  return `<h2>Confusion matrix at threshold ${esc(t)}</h2><p>Test rows; a score ≥ ${esc(t)} predicts 1.</p>
<table class="confusion"><tr><th></th><th>predicted 0</th><th>predicted 1</th></tr><tr><th>actual 0</th>${cell(c.tn)}${cell(c.fp)}</tr><tr><th>actual 1</th>${cell(c.fn)}${cell(c.tp)}</tr></table>`;
}

function liftSection(rows: LiftRow[]): { chart: string; table: string } {
  const xs = [0];
  const ys = [0];
  let seen = 0;
  const total = rows.reduce((s, r) => s + r.rows, 0) || 1;
  for (const r of rows) {
    seen += r.rows;
    xs.push(seen / total);
    ys.push(r.cumulativeGain);
  }
  const chart = frame('Cumulative gain (deciles)', 'share of rows, highest scores first', 'share of positives found', line([0, 1], [0, 1], '#bbb', true) + line(xs, ys, '#b279a2') + xs.map((x, i) => `<circle cx="{x:${x}}" cy="{y:${ys[i]}}" r="3" fill="#b279a2"/>`).join(''), [0, 1], [0, 1]);
  const table = `<h2>Lift by decile</h2><p>Test rows ranked by score, highest first, in ten equal groups. Lift: the group's positive rate over the overall rate; gain: the share of all positives found down to that group.</p>
<table><tr><th>decile</th><th>rows</th><th>scores</th><th>positives</th><th>positive rate</th><th>lift</th><th>cumulative gain</th><th>cumulative lift</th></tr>${rows
    .map((r) => `<tr><td>${r.decile}</td><td>${r.rows.toLocaleString('en-US')}</td><td>${r.minScore.toFixed(4)} – ${r.maxScore.toFixed(4)}</td><td>${r.positives.toLocaleString('en-US')}</td><td>${percent(r.rate)}</td><td>${r.lift.toFixed(2)}</td><td>${percent(r.cumulativeGain)}</td><td>${r.cumulativeLift.toFixed(2)}</td></tr>`)
    .join('')}</table>`;
  return { chart, table };
}

/** What the kept model was fitted with, in one sentence: early stopping is named only when it stopped training. */
export function describeFit(f: {
  model: Pick<TrainedModel, 'algorithm' | 'summary'>;
  params: Record<string, unknown>;
  rows: { train: number; valid: number; test: number };
  splitBy: 'time' | 'random';
}): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const tested = `tested on ${n(f.rows.test)} ${f.splitBy === 'time' ? 'later' : 'held-out'} rows`;
  const s = f.model.summary;
  if (f.model.algorithm === 'gbdt') {
    const limit = Number(f.params.iterations);
    const patience = Number(f.params.early_stopping_rounds ?? 0);
    const ran = Number(s.iterations_run);
    const trees = Number(s.trees);
    if (patience > 0 && ran < limit) {
      return `Trained on ${n(f.rows.train)} rows; early-stopped on ${n(f.rows.valid)} validation rows after ${ran} of at most ${limit} rounds (no gain for ${patience}), keeping ${trees} trees; ${tested}.`;
    }
    const stopping = patience > 0 ? `early stopping (patience ${patience}) did not trigger` : 'no early stopping';
    return `Trained on ${n(f.rows.train)} rows for all ${ran} rounds (${stopping}), keeping ${trees} trees; validated on ${n(f.rows.valid)} rows; ${tested}.`;
  }
  const solver = s.solver === 'fista' ? 'FISTA' : 'Newton';
  const fit = s.converged ? `converged after ${s.iterations} ${solver} iterations` : `stopped at the limit of ${s.iterations} ${solver} iterations before converging`;
  return `Trained on ${n(f.rows.train)} rows (${fit}); validated on ${n(f.rows.valid)} rows; ${tested}.`;
}

function table(rows: [string, unknown][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${typeof v === 'number' ? esc(fmt(v)) : `<code>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</code>`}</td></tr>`).join('')}</table>`;
}

export interface ReportInput {
  title: string;
  subtitle: string;
  task: 'binary' | 'regression';
  evaluation: ClassificationEval | RegressionEval;
  validationMetrics: Record<string, number>;
  names: string[];
  /** Per column (empty: no importance chart, as for a Python script's model). */
  importance: number[];
  /** Linear models: signed coefficients, shown instead of the importance chart. */
  coefficients?: TrainedModel['coefficients'];
  trials: { trial: number; params: Record<string, unknown>; metric: number; iterations?: number | null; seconds: number }[];
  searchMetric: string;
  lineage: [string, unknown][];
  config: unknown;
}

export function renderReport(r: ReportInput): string {
  const charts: string[] = [];
  if (r.task === 'binary') {
    const e = r.evaluation as ClassificationEval;
    charts.push(frame(`ROC (AUC ${fmt(e.metrics.auc as number)})`, 'false positive rate', 'true positive rate', line([0, 1], [0, 1], '#bbb', true) + line(e.roc.x, e.roc.y, '#4c78a8'), [0, 1], [0, 1]));
    charts.push(frame('Precision-recall', 'recall', 'precision', line(e.pr.x, e.pr.y, '#f58518'), [0, 1], [0, 1]));
    const maxCal = Math.max(1e-9, ...e.calibration.map((c) => Math.max(c.predicted, c.observed)));
    charts.push(frame('Calibration (10 bins)', 'mean predicted probability', 'observed positive rate', line([0, maxCal], [0, maxCal], '#bbb', true) + line(e.calibration.map((c) => c.predicted), e.calibration.map((c) => c.observed), '#54a24b') + e.calibration.map((c) => `<circle cx="{x:${c.predicted}}" cy="{y:${c.observed}}" r="3" fill="#54a24b"/>`).join(''), [0, maxCal], [0, maxCal]));
    const total = (a: number[]) => a.reduce((s, v) => s + v, 0) || 1;
    const neg = e.scores.negatives.map((v) => v / total(e.scores.negatives));
    const pos = e.scores.positives.map((v) => v / total(e.scores.positives));
    const ymax = Math.max(...neg, ...pos, 1e-9);
    const svg = frame('Score distribution (share of each class)', 'predicted probability', 'share of rows', bars(neg, '#4c78a8aa', 0, 1, 0, 0.5) + bars(pos, '#e45756aa', 0, 1, 0.5, 0.5) + `<text x="${W - 90}" y="44" fill="#4c78a8">■ label 0</text><text x="${W - 90}" y="58" fill="#e45756">■ label 1</text>`, [0, 1], [0, ymax]);
    charts.push(fixBars(svg, H - M.b));
  } else {
    const e = r.evaluation as RegressionEval;
    const lo = Math.min(...e.sample.label, ...e.sample.prediction);
    const hi = Math.max(...e.sample.label, ...e.sample.prediction);
    charts.push(frame('Predicted vs actual', 'label', 'prediction', line([lo, hi], [lo, hi], '#bbb', true) + e.sample.label.map((l, i) => `<circle cx="{x:${l}}" cy="{y:${e.sample.prediction[i]}}" r="1.5" fill="#4c78a8" fill-opacity="0.5"/>`).join(''), [lo, hi], [lo, hi]));
    const ymax = Math.max(...e.residuals.counts, 1);
    charts.push(fixBars(frame('Residuals (prediction - label)', 'residual', 'rows', bars(e.residuals.counts, '#4c78a8', e.residuals.from, e.residuals.to), [e.residuals.from, e.residuals.to], [0, ymax]), H - M.b));
  }
  const coefficients = r.coefficients ? coefficientSection(r.names, r.coefficients, r.task) : undefined;
  if (coefficients || r.importance.length) charts.push(coefficients ? coefficients.chart : importanceChart(r.names, r.importance));
  let tables = coefficients?.table ?? '';
  if (r.task === 'binary') {
    const e = r.evaluation as ClassificationEval;
    const lift = liftSection(e.lift);
    charts.splice(3, 0, lift.chart);
    tables = `${confusionTable(e.confusion)}\n${lift.table}\n${tables}`;
  }
  const trials = r.trials.length
    ? `<h2>Search: ${r.trials.length} trial(s), by validation ${esc(r.searchMetric)}</h2><table><tr><th>trial</th><th>parameters</th><th>validation ${esc(r.searchMetric)}</th><th>trees kept</th><th>seconds</th></tr>${r.trials
        .map((t) => `<tr><td>${t.trial}</td><td><code>${esc(JSON.stringify(t.params))}</code></td><td>${esc(fmt(t.metric))}</td><td>${t.iterations ?? ''}</td><td>${t.seconds.toFixed(2)}</td></tr>`)
        .join('')}</table>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}figure{display:inline-block;margin:8px}table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}code{font-size:12px;white-space:pre-wrap}</style></head>
<body><h1>${esc(r.title)}</h1><p>${esc(r.subtitle)}</p>
<h2>Test metrics</h2>${table(Object.entries(r.evaluation.metrics))}
<h2>Validation metrics</h2>${table(Object.entries(r.validationMetrics))}
<h2>Charts (test split)</h2><div>${charts.join('\n')}</div>
${tables}
${trials}
<h2>Lineage</h2>${table(r.lineage)}
<h2>Configuration</h2><pre><code>${esc(JSON.stringify(r.config, null, 2))}</code></pre>
</body></html>
`;
}
