/** `fresco init` and `fresco apply`: create a project, validate and version its definitions. */
import type { Command } from 'commander';
import type { describeDefinition } from '../features/catalog.js';
import type { PlannedChange } from '../features/plan.js';
import { registerDatasetCommands } from './dataset-commands.js';
import { registerLakeCommands } from './lake-commands.js';
import { type Io, printData, table } from './output.js';
import { registerQualityCommands } from './quality-commands.js';

const json = (program: Command) => program.opts<{ json?: boolean }>().json ?? false;

export function registerProjectCommands(program: Command, io: Io): void {
  program
    .command('init <dir>')
    .description('create a Fresco project: fresco.yaml, features/ and data/')
    .option('--name <name>', 'project name (default: the folder name)')
    .option('--example <template>', 'start from a working example project with data: flights')
    .action(async (dir: string, options: { name?: string; example?: string }) => {
      if (options.example !== undefined) {
        const { initFromTemplate } = await import('../templates/index.js');
        const { config, files } = await initFromTemplate(dir, options.example, options.name);
        printData(io, json(program), { project: config.name, root: config.root, configFile: config.configFile, example: options.example, files }, () =>
          `created project "${config.name}" in ${config.root} from the ${options.example} example (${files.length} files)\n  next: ${config.root === process.cwd() ? '' : `\`cd ${dir}\`, `}read README.md, then run \`fresco apply\``,
        );
        return;
      }
      // Each action imports the feature-store code it runs (zod, yaml, SQLite): not for `--help`.
      const { initProject } = await import('../features/project.js');
      const config = initProject(dir, options.name);
      printData(io, json(program), { project: config.name, root: config.root, configFile: config.configFile }, () =>
        `created project "${config.name}" in ${config.root}\n  next: write definitions in ${config.featuresDir}/*.yaml, then \`fresco apply --project ${dir}\``,
      );
    });

  program
    .command('apply')
    .description('validate every definition and record a new version of each one that changed')
    .option('--project <dir>', 'project folder', '.')
    .option('--dry-run', 'only show what apply would record (new, changed and removed definitions); write nothing')
    .action(async (options: { project: string; dryRun?: boolean }) => {
      if (options.dryRun) {
        const { planApply } = await import('../features/plan.js');
        const plan = planApply(options.project);
        printData(io, json(program), { project: plan.project.config.name, dryRun: true, changes: plan.changes }, () => renderPlan(plan.project.config.name, plan.changes));
        return;
      }
      const { applyProject } = await import('../features/project.js');
      const { project, applied } = applyProject(options.project);
      const changed = applied.filter((a) => a.change !== 'unchanged').length;
      printData(io, json(program), { project: project.config.name, definitions: applied }, () =>
        [
          `${project.config.name}: ${applied.length} definition(s), ${changed} new or changed`,
          table(['kind', 'name', 'version', 'change'], applied.map((a) => [a.kind, a.name, a.label, a.change])),
        ].join('\n'),
      );
    });
}

function renderPlan(project: string, changes: PlannedChange[]): string {
  const count = (c: PlannedChange['change']) => changes.filter((x) => x.change === c).length;
  const pending = changes.filter((c) => c.change !== 'unchanged');
  const lines = [`${project}: apply would record ${count('new')} new and ${count('changed')} changed definition(s); ${count('unchanged')} unchanged (dry run: nothing written)`];
  if (pending.length) {
    lines.push(table(['change', 'kind', 'name', 'from', 'to'], pending.map((c) => [c.change, c.kind, c.name, c.from ?? '-', c.to ?? '-'])));
    for (const c of pending.filter((x) => x.details.length)) lines.push(`${c.kind} ${c.name}:`, ...c.details.map((d) => `  ${d}`));
    if (count('removed')) lines.push('removed: no longer defined; apply keeps their recorded versions and records nothing for them');
  }
  return lines.join('\n');
}

/** `fresco features list|describe`: the definitions, their versions and whether they are applied. */
export function registerDefinitionCommands(program: Command, io: Io): void {
  const features = program.commands.find((c) => c.name() === 'features') ?? program.command('features').description('feature definitions (list, describe) and online reads (get)');
  features
    .command('list')
    .description('list entities, sources, feature tables and feature services with their versions (read-only)')
    .option('--project <dir>', 'project folder', '.')
    .option('--kind <kind>', 'only this kind: entity, source, feature_table or feature_service')
    .action(async (o: { project: string; kind?: string }) => {
      const { listDefinitions } = await import('../features/catalog.js');
      const list = listDefinitions(o.project, o.kind);
      printData(io, json(program), list, () =>
        list.definitions.length === 0
          ? `${list.project}: no definitions`
          : table(
              ['kind', 'name', 'version', 'status', 'what', 'where'],
              list.definitions.map((d) => [d.kind, d.name, d.version, d.status === 'changed' ? `changed (applied ${d.appliedVersion})` : d.status, d.summary, `${d.file}${d.line ? `:${d.line}` : ''}`]),
            ),
      );
    });
  features
    .command('describe <name>')
    .description('show a definition: its parts, what uses it, its version and history (read-only)')
    .option('--project <dir>', 'project folder', '.')
    .option('--kind <kind>', 'when a source and a table share the name: entity, source, feature_table or feature_service')
    .action(async (name: string, o: { project: string; kind?: string }) => {
      const { describeDefinition } = await import('../features/catalog.js');
      const d = describeDefinition(o.project, name, o.kind);
      printData(io, json(program), d, () => d.definitions.map(renderDescription).join('\n\n'));
    });
}

function renderDescription(d: ReturnType<typeof describeDefinition>['definitions'][number]): string {
  const value = (v: unknown): string =>
    v === null || v === undefined
      ? '-'
      : Array.isArray(v)
        ? v.map(value).join(', ') || '-'
        : typeof v === 'object'
          ? Object.entries(v).map(([k, x]) => `${k}: ${value(x)}`).join(', ') || '-'
          : String(v);
  const label = (key: string) => `${key}:`.padEnd(18);
  const lines = [
    `${d.kind} ${d.name}  ${d.version} (${d.status === 'changed' ? `changed since ${d.appliedVersion}: run \`fresco apply\`` : d.status === 'new' ? 'not applied yet' : 'applied'})`,
    `  ${label('defined at')}${d.file}${d.line ? `:${d.line}` : ''}`,
    ...(d.description ? [`  ${label('about')}${d.description}`] : []),
  ];
  for (const [key, v] of Object.entries(d.details)) {
    if (key === 'features' && Array.isArray(v) && v.some((f) => typeof f === 'object')) {
      lines.push('  features:');
      lines.push(
        ...table(
          ['name', 'type', 'column', 'aggregation'],
          (v as { name: string; type: string; column: string; function?: string; window?: string }[]).map((f) => [f.name, f.type, f.column, f.function ? `${f.function} over ${f.window}` : '-']),
        )
          .split('\n')
          .map((l) => `    ${l}`),
      );
    } else {
      lines.push(`  ${label(key)}${value(v)}`);
    }
  }
  lines.push(`  ${label('used by')}${d.usedBy.join(', ') || '-'}`);
  if (d.changes.length) lines.push('  changes since the applied version:', ...d.changes.map((c) => `    ${c}`));
  lines.push(`  ${label('history')}${d.history.map((h) => `${h.version} (${h.appliedAt})`).join(', ') || 'never applied'}`);
  return lines.join('\n');
}

/** Every feature-store command (project, dataset, lake, quality): the one call main.ts makes. */
export function registerFeatureStoreCommands(program: Command, io: Io): void {
  registerProjectCommands(program, io);
  registerDefinitionCommands(program, io);
  registerDatasetCommands(program, io);
  registerLakeCommands(program, io);
  registerQualityCommands(program, io);
}
