/**
 * Quality reports: kept as `<quality dir>/<run id>/report.json` plus `report.html` (a standalone
 * page with a histogram per numeric column, top values per string column, span and gaps per
 * timestamp column, NaN and infinity counts per float column), and listed in the project's state
 * database.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrescoError } from '../../errors/index.js';
import { StateStore } from '../../features/state-store.js';
import { removeLeftoverTemporaries } from '../../util/leftovers.js';
import { commitFiles, temporaryPath } from '../files.js';
import type { CheckResult } from './checks.js';
import type { ColumnProfile, TableProfile } from './profile.js';

export interface QualityReport {
  format: 'fresco.quality';
  version: 1;
  id: string;
  /** What ran: `dataset`, `materialize`, `ingest`... */
  kind: string;
  /** What it produced or read, in a few words (the output file...). */
  subject: string;
  startedAt: string;
  finishedAt: string;
  status: 'passed' | 'warned' | 'failed';
  tables: TableProfile[];
  checks: CheckResult[];
}

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

export function reportStatus(checks: CheckResult[]): QualityReport['status'] {
  if (checks.some((c) => !c.passed && c.severity === 'error')) return 'failed';
  return checks.some((c) => !c.passed) ? 'warned' : 'passed';
}

export function summarize(report: Pick<QualityReport, 'status' | 'tables' | 'checks'>): string {
  const failed = report.checks.filter((c) => !c.passed);
  const rows = report.tables.map((t) => `${t.name} ${t.rows}`).join(', ');
  return `${report.status}: ${report.checks.length} check(s), ${failed.length} failed; rows: ${rows}`;
}

export function describeFailure(c: CheckResult): string {
  return `${c.table}${c.column ? ` column ${c.column}` : ''}: ${c.check} expected ${c.expected}, observed ${c.observed}`;
}

/** Writes report.json and report.html (atomically) and records the run. Returns the folder. */
export function saveReport(qualityDir: string, stateFile: string, report: QualityReport): { dir: string; json: string; html: string } {
  const dir = join(qualityDir, report.id);
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  const tmpJson = temporaryPath(json);
  const tmpHtml = temporaryPath(html);
  writeFileSync(tmpJson, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(tmpHtml, renderHtml(report));
  commitFiles([{ tmp: tmpHtml, final: html }, { tmp: tmpJson, final: json }]);
  const store = new StateStore(stateFile);
  try {
    store.recordQualityRun(
      { id: report.id, kind: report.kind, startedAt: report.startedAt, status: report.status, report: json, summary: `${report.subject}: ${summarize(report)}` },
      Object.fromEntries(report.tables.map((t) => [t.name, t.rows])),
    );
  } finally {
    store.close();
  }
  return { dir, json, html };
}

/**
 * Removes the report temporaries that killed runs left in their run folders (a live run's are
 * left alone: util/leftovers.ts), and the run folder when nothing else is in it: it was the killed
 * run's own. Commands that write a report call this when they start.
 */
export function removeLeftoverReports(qualityDir: string): void {
  if (!existsSync(qualityDir)) return;
  for (const entry of readdirSync(qualityDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(qualityDir, entry.name);
    if (!removeLeftoverTemporaries(dir, (name) => name === 'report.json' || name === 'report.html').length) continue;
    try {
      rmdirSync(dir); // only if empty
    } catch {
      // Not empty (the run had committed a file), or a concurrent sweep removed it first.
    }
  }
}

/**
 * Ends a pipeline run's quality step: builds the report, keeps it (saveReport), logs its summary,
 * and fails the run with FRESCO_ERR_QUALITY_FAILED, naming each failed check and what was not
 * done (`notDone`, e.g. "no dataset written"), when a check of severity error failed.
 */
export function finishQualityRun(run: {
  qualityDir: string;
  stateFile: string;
  kind: string;
  subject: string;
  startedAt: Date;
  tables: TableProfile[];
  checks: CheckResult[];
  notDone: string;
  log: (line: string) => void;
}): { report: QualityReport; saved: { dir: string; json: string; html: string } } {
  const report: QualityReport = {
    format: 'fresco.quality',
    version: 1,
    id: newRunId(run.startedAt),
    kind: run.kind,
    subject: run.subject,
    startedAt: run.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    status: reportStatus(run.checks),
    tables: run.tables,
    checks: run.checks,
  };
  const saved = saveReport(run.qualityDir, run.stateFile, report);
  run.log(`quality ${report.status}: ${summarize(report)} (${saved.html})`);
  if (report.status === 'failed') {
    const failures = run.checks.filter((c) => !c.passed && c.severity === 'error');
    throw new FrescoError('FRESCO_ERR_QUALITY_FAILED', `data-quality checks failed, ${run.notDone}:\n  ${failures.map(describeFailure).join('\n  ')}\n  report: ${saved.html}`, {
      location: { file: saved.json, key: failures[0]!.column ?? failures[0]!.table },
    });
  }
  return { report, saved };
}

export function readReport(file: string): QualityReport {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as QualityReport;
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: cannot read the quality report: ${(error as Error).message}`, { location: { file }, cause: error });
  }
}

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(5)).toString() : v === undefined ? '' : esc(v));

const count = (n: number) => n.toLocaleString('en-US');

/** Seconds as the largest whole unit that fits: `3 d 4 h`, `12 min`, `45 s`. */
export function readableSeconds(seconds: number): string {
  const units: [string, number][] = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];
  const parts: string[] = [];
  let left = Math.round(seconds);
  for (const [unit, size] of units) {
    if (left >= size && parts.length < 2) {
      parts.push(`${Math.floor(left / size)} ${unit}`);
      left %= size;
    } else if (parts.length) break;
  }
  return parts.length ? parts.join(' ') : `${Number(seconds.toPrecision(3))} s`;
}

/**
 * A float column's NaN and infinity counts, those above zero: `['3 NaN', '2 +∞', '1 −∞']`
 * (`+inf`, `-inf` in plain text).
 */
export function nonFiniteCounts(c: ColumnProfile, plain = false): string[] {
  const parts: [number | undefined, string][] = [[c.nan, 'NaN'], [c.posInfinite, plain ? '+inf' : '+∞'], [c.negInfinite, plain ? '-inf' : '−∞']];
  return parts.filter(([n]) => n).map(([n, label]) => `${count(n!)} ${label}`);
}

const short = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}…` : s);

/** A histogram of the finite values; nulls, NaN and infinities are said apart, never drawn into a bin. */
function histogramSvg(c: ColumnProfile): string {
  if (!c.histogram) return '';
  const { counts, edges } = c.histogram;
  const peak = Math.max(1, ...counts);
  const w = 200;
  const h = 48;
  const bw = w / counts.length;
  const bars = counts
    .map((n, i) => {
      const bh = (n / peak) * h;
      return `<rect x="${(i * bw).toFixed(1)}" y="${(h - bh).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${bh.toFixed(1)}"><title>[${fmt(edges[i])}, ${fmt(edges[i + 1])}): ${n}</title></rect>`;
    })
    .join('');
  const apart = [...(c.histogram.nulls ? [`${count(c.histogram.nulls)} null`] : []), ...nonFiniteCounts(c)];
  const nulls = apart.length ? `<div class="nulls">+ ${apart.join(', ')} (not in the bins)</div>` : '';
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="histogram of ${esc(c.name)}">${bars}</svg>${nulls}`;
}

/** What a column's values look like: its histogram, top values and lengths, or time span and gaps. */
function distribution(c: ColumnProfile): string {
  if (c.histogram) return histogramSvg(c);
  const parts: string[] = [];
  if (c.lengths) parts.push(`length ${c.lengths.min}–${c.lengths.max} (mean ${fmt(c.lengths.mean)})`);
  if (c.topValues?.length) {
    parts.push(`<table class="top"><tr><th>top value</th><th>rows</th></tr>${c.topValues.map((t) => `<tr><td><code>${esc(short(t.value))}</code></td><td>${count(t.count)}</td></tr>`).join('')}</table>`);
  }
  if (c.spanSeconds !== undefined) parts.push(`span ${readableSeconds(c.spanSeconds)}`);
  if (c.gaps?.length) {
    parts.push(`<table class="gaps"><tr><th>largest gaps</th><th></th></tr>${c.gaps.map((g) => `<tr><td>${esc(g.from)} → ${esc(g.to)}</td><td>${readableSeconds(g.seconds)}</td></tr>`).join('')}</table>`);
  }
  return parts.join('<br>');
}

export function renderHtml(report: QualityReport): string {
  const checks = report.checks
    .map((c) => `<tr class="${c.passed ? 'ok' : c.severity}"><td>${c.passed ? 'pass' : c.severity === 'error' ? 'FAIL' : 'warn'}</td><td>${esc(c.table)}</td><td>${esc(c.column ?? '')}</td><td>${c.check}</td><td>${esc(c.expected)}</td><td>${esc(c.observed)}</td></tr>`)
    .join('\n');
  const tables = report.tables
    .map(
      (t) => `<h2>${esc(t.name)} <small>${t.rows.toLocaleString('en-US')} rows${t.file ? ` · ${esc(t.file)}` : ''}${t.freshness ? ` · newest ${esc(t.freshness.newest)}` : ''}</small></h2>
<table><tr><th>column</th><th>type</th><th>nulls</th><th>distinct≈</th><th>min</th><th>max</th><th>mean</th><th>stddev</th><th>p50</th><th>distribution</th></tr>
${t.columns
  .map(
    (c) =>
      `<tr><td>${esc(c.name)}</td><td>${esc(c.type)}</td><td>${count(c.nulls)} (${(c.nullRate * 100).toFixed(2)}%)${nonFiniteCounts(c).length ? `<div class="nulls">${nonFiniteCounts(c).join(', ')}</div>` : ''}</td><td>${count(c.distinct)}</td><td>${fmt(c.min)}</td><td>${fmt(c.max)}</td><td>${fmt(c.mean)}</td><td>${fmt(c.stddev)}</td><td>${fmt(c.quantiles?.p50)}</td><td>${distribution(c)}</td></tr>`,
  )
  .join('\n')}
</table>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fresco quality report ${esc(report.id)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:2em}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:middle}
tr.error td{background:#fdd}tr.warn td{background:#ffd}svg rect{fill:#4a7ab8}small{color:#666;font-weight:normal}.status-failed{color:#b00}.status-passed{color:#070}.status-warned{color:#a60}
.nulls{color:#666;font-size:12px}table.top td,table.top th,table.gaps td,table.gaps th{border:0;padding:0 8px 0 0;font-size:12px}</style></head>
<body><h1>Quality report <code>${esc(report.id)}</code></h1>
<p>${esc(report.kind)} · ${esc(report.subject)} · started ${esc(report.startedAt)} · status <b class="status-${report.status}">${report.status}</b></p>
<h2>Checks</h2><table><tr><th></th><th>table</th><th>column</th><th>check</th><th>expected</th><th>observed</th></tr>
${checks || '<tr><td colspan="6">no expectations declared</td></tr>'}
</table>
${tables}
</body></html>
`;
}
