/** `fresco quality list|show`: the data-quality reports kept by every pipeline run. */
import type { Command } from 'commander';
import { loadProjectConfig } from '../config/project-config.js';
import { FrescoError } from '../errors/index.js';
import { StateStore } from '../features/state-store.js';
import { describeFailure, readReport } from '../offline/quality/report.js';
import { type Io, printData, table } from './output.js';

const fmt = (v: unknown) => (typeof v === 'number' ? String(Number(v.toPrecision(4))) : v === undefined ? '' : String(v));

export function registerQualityCommands(program: Command, io: Io): void {
  const quality = program.command('quality').description('data-quality reports of pipeline runs');
  const json = () => program.opts<{ json?: boolean }>().json ?? false;
  quality
    .command('list')
    .description('list quality reports, newest first')
    .option('--project <dir>', 'project folder', '.')
    .option('--limit <n>', 'at most this many', '20')
    .action((options: { project: string; limit: string }) => {
      const config = loadProjectConfig(options.project);
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
    .action((id: string, options: { project: string }) => {
      const config = loadProjectConfig(options.project);
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
            table(['column', 'type', 'null %', 'distinct', 'min', 'max', 'mean', 'stddev'], t.columns.map((c) => [c.name, c.type, (c.nullRate * 100).toFixed(2), c.distinct, fmt(c.min), fmt(c.max), fmt(c.mean), fmt(c.stddev)])),
          ]),
        ].join('\n'),
      );
    });
}
