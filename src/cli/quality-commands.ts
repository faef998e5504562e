/** `fresco quality list|show`: the data-quality reports kept by every pipeline run. */
import type { Command } from 'commander';
import { FrescoError } from '../errors/index.js';
import type { ColumnProfile } from '../offline/quality/profile.js';
import type * as Report from '../offline/quality/report.js';
import { type Io, printData, table } from './output.js';

/** Cells and details stay short: long strings (values, min/max of a string column) are cut. */
const cut = (s: string, n = 20) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const fmt = (v: unknown) => (typeof v === 'number' ? String(Number(v.toPrecision(4))) : v === undefined ? '' : cut(String(v)));
/** Top values shown per string column (report.json keeps 10). */
const SHOWN_TOP_VALUES = 3;

const nullsCell = (c: ColumnProfile) => (c.nulls ? `${c.nulls} (${Number((c.nullRate * 100).toPrecision(3))}%)` : '0');

/**
 * One short line per column with more to say than the table: NaN and infinity counts, a string
 * column's most frequent values, a time column's span and largest gap.
 */
function columnDetails(c: ColumnProfile, { nonFiniteCounts, readableSeconds }: typeof Report): string[] {
  const out: string[] = [];
  const nonFinite = nonFiniteCounts(c, true);
  if (nonFinite.length) out.push(`  ${c.name}: ${nonFinite.join(', ')} (not in min/max/mean)`);
  if (c.topValues?.length) {
    const top = c.topValues.slice(0, SHOWN_TOP_VALUES).map((t) => `${cut(t.value)} (${t.count})`);
    out.push(`  ${c.name}: top ${top.join(', ')}${c.topValues.length > SHOWN_TOP_VALUES ? ', …' : ''}`);
  }
  if (c.spanSeconds !== undefined) {
    const gap = c.gaps?.[0];
    out.push(`  ${c.name}: span ${readableSeconds(c.spanSeconds)}${gap ? `, largest gap ${readableSeconds(gap.seconds)} (${gap.from} → ${gap.to})` : ''}`);
  }
  return out;
}

/** The project's configuration and state store, imported when a command runs (not for `--help`). */
async function openState(project: string) {
  const [{ loadProjectConfig }, { StateStore }] = await Promise.all([import('../config/project-config.js'), import('../features/state-store.js')]);
  return { config: loadProjectConfig(project), StateStore };
}

export function registerQualityCommands(program: Command, io: Io): void {
  const quality = program.command('quality').description('data-quality reports of pipeline runs');
  const json = () => program.opts<{ json?: boolean }>().json ?? false;
  quality
    .command('list')
    .description('list quality reports, newest first')
    .option('--project <dir>', 'project folder', '.')
    .option('--limit <n>', 'at most this many', '20')
    .action(async (options: { project: string; limit: string }) => {
      const { config, StateStore } = await openState(options.project);
      const store = new StateStore(config.stateFile);
      try {
        const runs = store.qualityRuns(Math.max(1, Number(options.limit) || 20));
        printData(io, json(), runs, () => (runs.length ? table(['id', 'kind', 'status', 'started', 'summary'], runs.map((r) => [r.id, r.kind, r.status, r.startedAt, r.summary])) : 'no quality reports yet'));
      } finally {
        store.close();
      }
    });
  quality
    .command('show <id>')
    .description('print one report (an id or a unique prefix of one): checks and column profiles')
    .option('--project <dir>', 'project folder', '.')
    .action(async (id: string, options: { project: string }) => {
      const { config, StateStore } = await openState(options.project);
      const reportModule = await import('../offline/quality/report.js');
      const { describeFailure, readReport } = reportModule;
      const store = new StateStore(config.stateFile);
      let file: string;
      try {
        const run = store.qualityRun(id);
        if (!run) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `no quality report "${id}"; see \`fresco quality list\``, { location: { key: id } });
        file = run.report;
      } finally {
        store.close();
      }
      const report = readReport(file);
      printData(io, json(), report, () =>
        [
          `report ${report.id} (${report.kind}, ${report.subject}): ${report.status}`,
          `html: ${file.replace(/report\.json$/, 'report.html')}`,
          '',
          report.checks.length ? table(['result', 'table', 'column', 'check', 'expected', 'observed'], report.checks.map((c) => [c.passed ? 'pass' : c.severity === 'error' ? 'FAIL' : 'warn', c.table, c.column ?? '', c.check, c.expected, c.observed])) : 'no expectations declared',
          ...report.checks.filter((c) => !c.passed).map((c) => `failed: ${describeFailure(c)}`),
          ...report.tables.flatMap((t) => [
            '',
            `${t.name}: ${t.rows} rows${t.freshness ? `, newest ${t.freshness.newest}` : ''}`,
            table(['column', 'type', 'nulls', 'distinct', 'min', 'max', 'mean', 'stddev'], t.columns.map((c) => [c.name, c.type, nullsCell(c), c.distinct, fmt(c.min), fmt(c.max), fmt(c.mean), fmt(c.stddev)])),
            ...t.columns.flatMap((c) => columnDetails(c, reportModule)),
          ]),
        ].join('\n'),
      );
    });
}
