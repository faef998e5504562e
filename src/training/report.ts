/**
 * The evaluation report: one self-contained HTML file with inline SVG charts (ROC, PR,
 * calibration, feature importance, score distribution; residuals for regression). No script,
 * no font or style sheet from a network: it opens anywhere, offline, and is stored with the version.
 */
import type { ClassificationEval, RegressionEval } from './metrics.js';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toFixed(4));

const W = 360;
const H = 260;
const M = { l: 48, r: 12, t: 28, b: 40 };

function frame(title: string, xLabel: string, yLabel: string, body: string, xr: [number, number], yr: [number, number]): string {
  const ticks = (lo: number, hi: number) => Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  const sx = (v: number) => M.l + ((v - xr[0]) / (xr[1] - xr[0] || 1)) * (W - M.l - M.r);
  const sy = (v: number) => H - M.b - ((v - yr[0]) / (yr[1] - yr[0] || 1)) * (H - M.t - M.b);
  const xt = ticks(...xr).map((v) => `<line x1="${sx(v)}" x2="${sx(v)}" y1="${H - M.b}" y2="${H - M.b + 4}" stroke="#555"/><text x="${sx(v)}" y="${H - M.b + 16}" text-anchor="middle">${esc(fmt(v))}</text>`).join('');
  const yt = ticks(...yr).map((v) => `<line x1="${M.l - 4}" x2="${M.l}" y1="${sy(v)}" y2="${sy(v)}" stroke="#555"/><text x="${M.l - 6}" y="${sy(v) + 4}" text-anchor="end">${esc(fmt(v))}</text>`).join('');
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="10">
<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>
<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="#fafafa" stroke="#999"/>${xt}${yt}
<text x="${(W + M.l) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>
<text transform="translate(12 ${(H - M.b + M.t) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>
${body.replace(/\{x:([-\d.e]+)\}/g, (_, v) => String(sx(Number(v)))).replace(/\{y:([-\d.e]+)\}/g, (_, v) => String(sy(Number(v))))}</svg></figure>`;
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
  return svg.replace(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="0" fill="([^"]+)" data-v="[^"]*"\/>/g, (_, x, y, w, fill) => `<rect x="${x}" y="${y}" width="${w}" height="${Math.max(0, yZero - Number(y))}" fill="${fill}"/>`);
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
  importance: number[];
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
  charts.push(importanceChart(r.names, r.importance));
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
${trials}
<h2>Lineage</h2>${table(r.lineage)}
<h2>Configuration</h2><pre><code>${esc(JSON.stringify(r.config, null, 2))}</code></pre>
</body></html>
`;
}
