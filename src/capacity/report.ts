/**
 * The bench's results for people: a text table of the curve and the plan, and a self-contained
 * HTML page (inline SVG, no scripts or external assets, so it opens anywhere and can be archived
 * with the run) plotting p50/p99 against the offered rate with the SLO line and the best point.
 */
import type { CapacityPlan } from './plan.js';
import type { SearchResult } from './search.js';
import type { PointStats } from './stats.js';

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-');

export function curveTable(points: readonly PointStats[]): string {
  const head = ['rate/s', 'ok/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'errors', '429s', 'p99 spread', 'gen late p99 ms', 'gen cpu µs/req'];
  const rows = points.map((p) => {
    const gen = (p as { generatorCpuUsPerRequest?: number }).generatorCpuUsPerRequest;
    return [String(Math.round(p.rate)), String(Math.round(p.throughput)), ms(p.p50), ms(p.p90), ms(p.p99), ms(p.p999), String(p.errors), String(p.rejected), Number.isFinite(p.spread) ? `${Math.round(p.spread * 100)}%` : '-', ms(p.lateP99), gen !== undefined ? gen.toFixed(0) : '-'];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

export function planTable(plan: CapacityPlan): string {
  return [
    `plan for ${plan.targetRate} req/s at ${plan.slo}:`,
    `  replicas             ${plan.replicas} (each planned at ${Math.round(plan.plannedRatePerReplica)} req/s; ${Math.round(plan.utilization * 100)}% of its measured max at the target)`,
    `  cores per replica    ${plan.coresPerReplica}  (total ${plan.totalCores})`,
    `  memory per replica   ${plan.memoryMbPerReplica !== undefined ? `${plan.memoryMbPerReplica} MB (total ${plan.totalMemoryMb} MB)` : 'not measured'}`,
    '  assumptions:',
    ...plan.assumptions.map((a) => `    - ${a}`),
  ].join('\n');
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface PageInput {
  title: string;
  slo: { label: string; ms: number };
  search: SearchResult;
  plan?: CapacityPlan;
  /** Fixed rates were measured (--rate): no search, so no "highest rate" line. */
  fixedRates?: boolean;
}

/** The curve as an SVG: x offered rate, y latency (log scale: an overloaded point is 100x the rest). */
export function curveSvg(points: readonly PointStats[], slo: { label: string; ms: number }, best?: PointStats): string {
  const W = 640, H = 360, L = 60, R = 20, T = 20, B = 40;
  const finite = points.filter((p) => Number.isFinite(p.p99) && p.p99 > 0);
  const lat = [...finite.flatMap((p) => [p.p50, p.p99]), slo.ms].filter((v) => v > 0);
  const yMin = Math.min(...lat) / 1.5, yMax = Math.max(...lat) * 1.5;
  const xMax = Math.max(1, ...points.map((p) => p.rate)) * 1.05;
  const x = (r: number) => L + (r / xMax) * (W - L - R);
  const y = (v: number) => T + (1 - (Math.log(v) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin))) * (H - T - B);
  const series = (key: 'p50' | 'p99', color: string) => {
    const pts = finite.filter((p) => p[key] > 0);
    const path = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.rate).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
    const dots = pts.map((p) => `<circle class="point ${key}" cx="${x(p.rate).toFixed(1)}" cy="${y(p[key]).toFixed(1)}" r="3.5" fill="${color}" data-rate="${p.rate}" data-ms="${p[key]}"><title>${p.rate} req/s: ${key} ${ms(p[key])} ms</title></circle>`).join('');
    return `<path d="${path}" fill="none" stroke="${color}" stroke-width="1.5"/>${dots}`;
  };
  const ticks = [yMin, Math.sqrt(yMin * yMax), yMax].map((v) => `<text x="${L - 6}" y="${y(v).toFixed(1)}" text-anchor="end" font-size="11">${ms(v)}</text>`).join('');
  const xticks = [0, xMax / 2, xMax].map((v) => `<text x="${x(v).toFixed(1)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${Math.round(v)}</text>`).join('');
  const bestLine = best ? `<line class="best" x1="${x(best.rate).toFixed(1)}" x2="${x(best.rate).toFixed(1)}" y1="${T}" y2="${H - B}" stroke="#2a7" stroke-dasharray="2 3"/>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="latency against offered rate">
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>
<line class="slo" x1="${L}" x2="${W - R}" y1="${y(slo.ms).toFixed(1)}" y2="${y(slo.ms).toFixed(1)}" stroke="#c33" stroke-dasharray="5 4"/>
<text x="${W - R - 4}" y="${(y(slo.ms) - 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#c33">SLO ${esc(slo.label)}</text>
${bestLine}${series('p50', '#36c')}${series('p99', '#e80')}${ticks}${xticks}
<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="12">offered rate (req/s)</text>
<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle" font-size="12">latency (ms, log)</text>
</svg>`;
}

export function htmlPage(p: PageInput): string {
  const s = p.search;
  const rows = s.points
    .map((q) => `<tr><td>${Math.round(q.rate)}</td><td>${Math.round(q.throughput)}</td><td>${ms(q.p50)}</td><td>${ms(q.p90)}</td><td>${ms(q.p99)}</td><td>${ms(q.p999)}</td><td>${q.errors}</td><td>${q.rejected}</td><td>${Number.isFinite(q.spread) ? Math.round(q.spread * 100) + '%' : '-'}</td></tr>`)
    .join('\n');
  const plan = p.plan ? `<h2>Plan</h2><pre>${esc(planTable(p.plan))}</pre>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(p.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd}</style></head>
<body><h1>${esc(p.title)}</h1>
<p>${p.fixedRates ? `Fixed rates against ${esc(p.slo.label)}` : `Highest rate meeting ${esc(p.slo.label)}: <strong>${s.best ? `${Math.round(s.best.rate)} req/s` : 'none of the rates tried'}</strong>${s.knee ? `; knee at ${Math.round(s.knee.rate)} req/s` : ''}`}. <span style="color:#36c">p50</span>, <span style="color:#e80">p99</span>.</p>
${curveSvg(s.points, p.slo, s.best)}
<table><thead><tr><th>rate/s</th><th>ok/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>errors</th><th>429s</th><th>p99 spread</th></tr></thead><tbody>
${rows}
</tbody></table>
${plan}
</body></html>
`;
}
