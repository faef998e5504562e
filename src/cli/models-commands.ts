/**
 * `fresco models ...`: register, list, show, alias, diff, export and archive model versions.
 * Thin: every command opens the registry, calls the library (src/registry) and prints.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FrescoError } from '../errors/index.js';
import type { ModelRegistry, ModelVersion, RegisterOptions } from '../registry/index.js';
import { renderDiff } from './models-diff-output.js';
import { type Io, printData, table } from './output.js';
import type { RegistryOptions } from './registry-dir.js';

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no such ${what} file`, { location: { file } });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: not valid JSON: ${(error as Error).message}`, { location: { file } });
  }
}

function readMetrics(file: string): Record<string, number> {
  const value = readJsonFile(file, 'metrics');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: metrics must be a JSON object of named numbers, like {"auc": 0.91}`, { location: { file } });
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: metric "${key}" must be a finite number, got ${JSON.stringify(v)}`, { location: { file, key } });
  }
  return value as Record<string, number>;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * Read commands (create false) never create a registry: a missing one reads as empty. The
 * registry (SQLite, the package code) and the project configuration are imported here, when a
 * command runs, so that `fresco --help` loads neither.
 */
async function withRegistry<T>(options: RegistryOptions, fn: (registry: ModelRegistry) => T | Promise<T>, create = false): Promise<T> {
  const [{ ModelRegistry }, { registryDir }] = await Promise.all([import('../registry/index.js'), import('./registry-dir.js')]);
  const registry = ModelRegistry.open(registryDir(options), { create });
  try {
    return await fn(registry);
  } finally {
    registry.close();
  }
}

/** A version number argument (`3`), checked by the registry's own rule. */
async function versionArgument(text: string): Promise<number> {
  const { parseVersion } = await import('../registry/ref.js');
  return parseVersion(text);
}

const fmtMetrics = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k}=${Number(v.toPrecision(6))}`).join(' ') || '-';
const show = (value: unknown) => (value === null || value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value));

function describeVersion(v: ModelVersion, reportPath: string | undefined): string {
  const lines = [
    `${v.name}@${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}${v.archivedAt ? ` [archived ${v.archivedAt} by ${v.archivedBy}]` : ''}`,
    `  created:   ${v.createdAt} by ${v.createdBy}`,
    `  package:   ${v.packageChecksum} (${v.backend}, ${v.inputKind} input, ${v.files.length} files)`,
    ...(v.description ? [`  about:     ${v.description}`] : []),
    `  inputs:    ${v.manifest.signature.inputs.map((t) => `${t.name} ${t.dtype}[${t.shape.map((d) => d ?? '?').join(', ')}]`).join('; ')}`,
    `  outputs:   ${v.manifest.signature.outputs.map((t) => `${t.name} ${t.dtype}[${t.shape.map((d) => d ?? '?').join(', ')}]`).join('; ')}`,
    `  plan:      ${v.planHash ?? '-'}`,
    `  features:  ${show(v.manifest.feature_versions)}`,
    `  metrics:   ${fmtMetrics(v.metrics)}`,
    `  tags:      ${v.tags.join(', ') || '-'}`,
    `  config:    ${show(v.trainingConfig)}`,
    `  datasets:  ${show(v.datasets)}`,
    `  code hash: ${v.codeHash ?? '-'}`,
    `  report:    ${reportPath ?? '-'}`,
    ...(v.environment ? [`  python:    ${v.environment.python}, environment ${v.environment.key}: ${v.environment.lock.trim().split('\n').join(', ')}`] : []),
  ];
  return lines.join('\n');
}

export function registerModelsCommands(program: Command, io: Io): void {
  const json = () => program.opts<{ json?: boolean }>().json ?? false;
  const models = program.command('models').description('the model registry: register, list, show, alias, diff, export (docs/registry.md)');
  const withLocation = (cmd: Command) =>
    cmd.option('--registry <dir>', 'registry folder (default: <project>/.fresco/registry)').option('--project <dir>', 'project folder (default: the current folder)');

  withLocation(models.command('register <source>'))
    .description('register a package folder or .tgz archive as the next version of its model')
    .option('--name <name>', "register under this name instead of the manifest's")
    .option('--metrics <file>', 'a JSON file of named numbers, like {"auc": 0.91}')
    .option('--alias <alias>', 'point this alias at the new version (repeatable)', collect)
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .option('--description <text>', "a description (default: the manifest's)")
    .option('--config <file>', 'the training configuration, a JSON file')
    .option('--report <file>', 'an HTML report to store with the version')
    .action(async (source: string, o: RegistryOptions & { name?: string; metrics?: string; alias?: string[]; tag?: string[]; description?: string; config?: string; report?: string }) => {
      const options: RegisterOptions = {};
      if (o.name !== undefined) options.name = o.name;
      if (o.metrics !== undefined) options.metrics = readMetrics(o.metrics);
      if (o.alias) options.aliases = o.alias;
      if (o.tag) options.tags = o.tag;
      if (o.description !== undefined) options.description = o.description;
      if (o.config !== undefined) options.trainingConfig = readJsonFile(o.config, 'training configuration');
      if (o.report !== undefined) {
        try {
          options.reportHtml = readFileSync(o.report, 'utf8');
        } catch {
          throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${o.report}: no such report file`, { location: { file: o.report } });
        }
      }
      const v = await withRegistry(o, (r) => r.register(source, options), true);
      printData(io, json(), v, () => `registered ${v.name}@${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}: ${v.packageChecksum}`);
    });

  withLocation(models.command('list'))
    .description('list the models in the registry')
    .action(async (o: RegistryOptions) => {
      const rows = await withRegistry(o, (r) => r.list());
      printData(io, json(), rows, () =>
        rows.length === 0
          ? 'the registry is empty'
          : table(
              ['model', 'versions', 'latest', 'created', 'aliases'],
              rows.map((m) => [m.name, m.versions, m.latestVersion, m.latestCreatedAt, Object.entries(m.aliases).map(([a, v]) => `${a}->${v}`).join(' ') || '-']),
            ),
      );
    });

  withLocation(models.command('show <ref>'))
    .description('show a version: name, name@version, name@latest or name@alias')
    .action(async (ref: string, o: RegistryOptions) => {
      const { v, history, report } = await withRegistry(o, (r) => {
        const v = r.resolve(ref);
        return { v, history: r.aliasHistory(v.name), report: v.reportChecksum ? join(r.dir, 'objects', v.reportChecksum.slice(7, 9), v.reportChecksum.slice(7)) : undefined };
      });
      printData(io, json(), { ...v, reportPath: report ?? null, aliasHistory: history }, () => describeVersion(v, report));
    });

  withLocation(models.command('alias <name> <version> <alias>'))
    .description('point an alias at a version (moves it atomically; the move is kept in the alias history)')
    .action(async (name: string, version: string, alias: string, o: RegistryOptions) => {
      const move = await withRegistry(o, async (r) => r.setAlias(name, await versionArgument(version), alias));
      printData(io, json(), move, () => `${name}@${alias}: ${move.fromVersion ?? '(new)'} -> ${move.toVersion}`);
    });

  withLocation(models.command('diff <name> <v1> <v2>'))
    .description('compare two versions: metrics with deltas, changed parameters, features and lineage')
    .option('--full', 'also print every recorded value that differs, in full')
    .option('--all', 'with --full, the values that do not differ too')
    .action(async (name: string, v1: string, v2: string, o: RegistryOptions & { full?: boolean; all?: boolean }) => {
      const diff = await withRegistry(o, async (r) => r.diff(name, await versionArgument(v1), await versionArgument(v2)));
      const full = o.full || o.all;
      printData(io, json(), full ? diff : { name: diff.name, a: diff.a, b: diff.b, ...diff.summary }, () => renderDiff(diff, { full: Boolean(full), all: Boolean(o.all) }));
    });

  withLocation(models.command('export <ref> <file>'))
    .description('write a version as a single-file package archive (.tgz)')
    .action(async (ref: string, file: string, o: RegistryOptions) => {
      const out = await withRegistry(o, (r) => r.export(ref, resolve(file)));
      printData(io, json(), out, () => `exported ${out.name}@${out.version} to ${out.file} (${out.packageChecksum})`);
    });

  withLocation(models.command('image <ref>'))
    .description('write a Docker build context for one image that serves and batch-scores a version (docs/deploy.md)')
    .requiredOption('--out <dir>', 'the context folder to write (empty or absent)')
    .option('--base-image <image>', 'the Fresco image to build FROM (default: fresco:<this version>, as docs/deploy.md tags it)')
    .action(async (ref: string, o: RegistryOptions & { out: string; baseImage?: string }) => {
      const { writeImageContext } = await import('../models/image-context.js');
      const context = await withRegistry(o, async (r) => {
        const v = r.resolve(ref);
        const pkg = await r.materialize(ref);
        return writeImageContext({ name: v.name, version: v.version, packageChecksum: v.packageChecksum }, pkg, o.out, o.baseImage);
      });
      printData(io, json(), context, () => `wrote ${context.dir}: Dockerfile (FROM ${context.baseImage}${context.systemPackages.length ? `, apt: ${context.systemPackages.join(' ')}` : ''}), ${context.files.length - 2} package files; in the image the model is ${context.ref}\nbuild: docker build -t IMAGE ${context.dir}`);
    });

  models
    .command('try <dir>')
    .description('run a package folder once, without a server or a registry (docs/python-models.md)')
    .requiredOption('--input <file>', 'JSON: tensors by input name ({"x": [[1, 2]]}) or a list of rows for dataframe packages')
    .action(async (dir: string, o: { input: string }) => {
      const { tryPackage } = await import('../python/try.js');
      const result = await tryPackage(resolve(dir), o.input);
      printData(io, json(), result, () => Object.entries(result.outputs).map(([name, t]) => `${name} [${t.shape.join(', ')}]: ${JSON.stringify(t.data)}`).join('\n'));
    });

  withLocation(models.command('archive <name> <version>'))
    .description('archive a version: readable by number, no longer the latest, cannot take aliases')
    .action(async (name: string, version: string, o: RegistryOptions) => {
      const v = await withRegistry(o, async (r) => r.archive(name, await versionArgument(version)));
      printData(io, json(), v, () => `archived ${v.name}@${v.version}`);
    });
}
