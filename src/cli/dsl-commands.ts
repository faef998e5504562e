/**
 * `fresco dsl check|explain <spec>`: type-check a feature spec, print its output columns and
 * types, or print the compiled plan (fitted on a dataset with --fit, frozen to a file with --out).
 * The schema comes from --schema (a FeatureSchema as JSON), --project (the feature store's
 * definitions), or both (the project's tables, plus the file's request fields).
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FrescoError } from '../errors/index.js';
import { removeLeftoverTemporariesOf, temporarySibling } from '../util/leftovers.js';
import type { FeatureSchema } from '../features/schema.js';
import { type Io, printData, table } from './output.js';

interface SchemaOptions {
  schema?: string;
  project?: string;
}

// The compiler and the project loader are imported when a command runs, not at the top, so
// that `fresco --help` loads neither (nor what they load: the native addon, zod, yaml).
const dslModule = () => import('../dsl/index.js');

async function loadSchema(options: SchemaOptions): Promise<FeatureSchema> {
  if (!options.schema && !options.project) {
    throw new FrescoError('FRESCO_ERR_USAGE', 'the spec needs a schema: pass --schema <file.json> and/or --project <dir>');
  }
  const [{ readFeatureSchema }, { featureSchemaFromDefinitions, loadProject }] = await Promise.all([import('../dsl/schema-file.js'), import('../features/index.js')]);
  const fromFile = options.schema ? readFeatureSchema(options.schema) : undefined;
  if (!options.project) return fromFile as FeatureSchema;
  const fromProject = featureSchemaFromDefinitions(loadProject(options.project).definitions);
  return {
    tables: { ...fromProject.tables, ...fromFile?.tables },
    request: { ...fromProject.request, ...fromFile?.request },
    ...(fromFile?.versions || fromProject.versions ? { versions: { ...fromProject.versions, ...fromFile?.versions } } : {}),
  };
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--limit must be a positive integer, got "${value}"`);
  return n;
}

export function registerDslCommands(program: Command, io: Io): void {
  const dsl = program.command('dsl').description('type-check and compile feature specs (docs/dsl.md)');
  const json = () => program.opts<{ json?: boolean }>().json ?? false;

  dsl
    .command('check <spec>')
    .description('type-check a feature spec and print each output column with its type')
    .option('--schema <file>', 'a FeatureSchema as JSON: { "tables": {...}, "request": {...} }')
    .option('--project <dir>', 'a Fresco project whose feature definitions give the tables')
    .action(async (file: string, options: SchemaOptions) => {
      const { compileSpecFile, showType } = await dslModule();
      const spec = compileSpecFile(file, await loadSchema(options));
      // One set, not a search of the fitted functions per output line: specs run to 100,000 lines.
      const vocab = new Set(spec.fitSites.filter((s) => s.function === 'vocab_one_hot').map((s) => s.output));
      const rows = spec.outputs.flatMap((o) =>
        (o.columns ?? [vocab.has(o.name) ? `${o.name}__*` : o.name]).map((column) => ({
          column,
          output: o.name,
          type: showType(o),
          nullable: o.nullable,
          fitted: o.fitted,
          line: o.line,
        })),
      );
      printData(io, json(), { spec: file, outputs: spec.outputs, columns: rows, fitted: spec.fitSites }, () =>
        [
          `${file}: ok, ${spec.outputs.length} output(s)${spec.needsFit ? `, ${spec.fitSites.length} fitted function(s) to fit on a training set` : ''}`,
          table(
            ['line', 'column', 'type', 'fitted'],
            rows.map((r) => [r.line, r.column, r.type, r.fitted ? 'yes' : '']),
          ),
          ...(rows.some((r) => r.column.endsWith('__*')) ? ['(name__* : one column per learned category, plus name__other)'] : []),
        ].join('\n'),
      );
    });

  dsl
    .command('explain <spec>')
    .description('print the compiled plan; with --fit, fit it on a dataset and print the frozen plan with its hash')
    .option('--schema <file>', 'a FeatureSchema as JSON: { "tables": {...}, "request": {...} }')
    .option('--project <dir>', 'a Fresco project whose feature definitions give the tables')
    .option('--fit <dataset>', 'a training dataset (.parquet or .csv) to fit the fitted functions on')
    .option('--limit <rows>', 'fit on at most this many rows of the dataset', parseCount)
    .option('--out <file>', 'write the frozen plan (JSON, with its content hash) here')
    .action(async (file: string, options: SchemaOptions & { fit?: string; limit?: number; out?: string }) => {
      const { compileSpecFile, explainPlan, fitSpec, readPlanColumns, serializeFrozenPlan } = await dslModule();
      const spec = compileSpecFile(file, await loadSchema(options));
      if (!options.fit) {
        if (options.out && spec.needsFit) {
          throw new FrescoError('FRESCO_ERR_DSL_UNFITTED', `${file}: has ${spec.fitSites.length} fitted function(s); pass --fit <dataset> to freeze it`);
        }
        if (!spec.needsFit) {
          const frozen = spec.freeze();
          if (options.out) writeAtomically(options.out, serializeFrozenPlan(frozen));
          printData(io, json(), frozen, () => explainPlan(frozen));
          return;
        }
        const plan = spec.draft();
        printData(io, json(), { plan, pending: spec.fitSites }, () => explainPlan({ plan, pending: spec.fitSites }));
        return;
      }
      const data = await readPlanColumns(options.fit, spec.draft(), options.limit === undefined ? {} : { limit: options.limit });
      const frozen = fitSpec(spec, data);
      if (options.out) writeAtomically(options.out, serializeFrozenPlan(frozen));
      printData(io, json(), frozen, () => explainPlan(frozen) + (options.out ? `\n\nwritten to ${options.out}` : ''));
    });
}

/**
 * Write to a temporary name and rename, so a crash never leaves half a plan behind; the
 * temporaries of killed writers of the same file are removed first (util/leftovers.ts).
 */
function writeAtomically(file: string, text: string): void {
  removeLeftoverTemporariesOf(file);
  const tmp = temporarySibling(file);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
