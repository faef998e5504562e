/**
 * `fresco batch score`: offline scoring of Parquet, CSV and HDF5 files with registered models
 * (docs/batch.md). Thin: parses options, calls batchScore (src/batch), prints the summary.
 */
import type { Command } from 'commander';
import type { BatchScoreResult, OnError } from '../batch/index.js';
import { formatDuration, progressPrinter } from '../batch/progress.js';
import { FrescoError } from '../errors/index.js';
import { type Io, printData } from './output.js';

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${name} must be a positive integer, got "${value}"`);
    return n;
  };
}

interface ScoreOptions {
  input: string[];
  output: string;
  models?: string[];
  registry?: string;
  project?: string;
  keys?: string[];
  shard?: string;
  partRows?: number;
  batchSize?: number;
  workers?: number;
  onError: string;
  format?: string;
  overwrite?: boolean;
  features?: string[];
  timestamp?: string;
  inputGroup?: string;
  outputGroup?: string;
  memoryLimit?: string;
  progress: boolean;
}

function human(r: BatchScoreResult): string {
  const models = r.models.map((m) => `${m.ref} (${m.name}@${m.version}${m.alias ? `, alias ${m.alias}` : ''})`).join(', ');
  return [
    `scored ${r.rows} row(s) with ${models} in ${formatDuration(r.seconds)} (${Math.round(r.rowsPerSecond)} rows/s)`,
    `  output: ${r.output} (${r.mode === 'file' ? `${r.format} file` : `folder of ${r.format} parts`})`,
    `  parts: ${r.parts.scored} scored, ${r.parts.skipped} already done, ${r.parts.inShard} in shard ${r.shard.index}/${r.shard.count} of ${r.parts.total}`,
    r.errors ? `  ${r.errors} row(s) could not be scored: ${r.errorFile}` : '  no bad rows',
  ].join('\n');
}

export function registerBatchCommands(program: Command, io: Io): void {
  const batch = program.command('batch').description('offline batch scoring with the same package, plan and runtime as serving (docs/batch.md)');
  batch
    .command('score [ref]')
    .description('score files (.parquet, .csv, .h5) with a registered model (name, name@version or name@alias) and write Parquet or HDF5')
    .requiredOption('--input <glob>', 'input file or glob; repeat or comma-separate for several', list)
    .requiredOption('--output <path>', 'a .parquet or .h5 file, or a folder (one file per part; needed with --shard)')
    .option('--models <refs>', 'score with several models at once (a@production,a@staging); every row names its model', list)
    .option('--registry <dir>', 'model registry folder (default <project>/.fresco/registry)')
    .option('--project <dir>', 'project folder (default: the current folder)')
    .option('--keys <columns>', 'input columns copied to every output row (default: all input columns)', list)
    .option('--shard <i/n>', 'score only shard i of n (deterministic split of the input into parts)')
    .option('--part-rows <n>', 'rows per part: the unit of sharding, resuming and memory', positiveInt('--part-rows'), 262_144)
    .option('--batch-size <n>', 'rows per model run', positiveInt('--batch-size'), 32_768)
    .option('--workers <n>', 'inference worker threads (default: cores - 1)', positiveInt('--workers'))
    .option('--on-error <mode>', 'a row that cannot be scored: fail the job, or skip it into an error file', 'fail')
    .option('--format <format>', 'part format of a folder output: parquet or h5')
    .option('--overwrite', 'replace an existing output file, or parts of a different job')
    .option('--features <refs>', 'with --timestamp: join these features (table.feature, table.*, or a service; default: the plan\'s table.feature inputs the input lacks)', list)
    .option('--timestamp <column>', 'join features point-in-time from the offline store, as of this input column')
    .option('--input-group <group>', 'HDF5 inputs: the group holding the table')
    .option('--output-group <group>', 'HDF5 output: the group to write (default scores)')
    .option('--memory-limit <size>', 'offline engine memory limit; it spills to disk past it', '1GB')
    .option('--no-progress', 'do not draw the progress bar')
    .action(async (ref: string | undefined, o: ScoreOptions) => {
      const json = program.opts<{ json?: boolean }>().json ?? false;
      const models = [...(ref ? [ref] : []), ...(o.models ?? [])];
      if (!models.length) throw new FrescoError('FRESCO_ERR_USAGE', 'name a model to score with: `fresco batch score <ref> ...` or --models a@production,a@staging');
      if (o.onError !== 'fail' && o.onError !== 'skip') throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--on-error "${o.onError}" is invalid: expected fail or skip`);
      if (o.features !== undefined && o.timestamp === undefined) {
        throw new FrescoError('FRESCO_ERR_USAGE', '--features needs --timestamp: the features are joined as of each row\'s timestamp');
      }
      // Loaded here, not at the top: scoring pulls in DuckDB and ONNX Runtime, `--help` must not.
      const [{ batchScore }, { registryDir }] = await Promise.all([import('../batch/score.js'), import('./registry-dir.js')]);
      const tty = process.stderr.isTTY === true && !json;
      const progress = o.progress ? progressPrinter((text) => (tty ? process.stderr.write(text) : io.err(text.replace(/\n$/, ''))), tty) : undefined;
      const result = await batchScore({
        registry: registryDir({ ...(o.registry ? { registry: o.registry } : {}), ...(o.project ? { project: o.project } : {}) }),
        models,
        input: o.input,
        output: o.output,
        ...(o.format ? { format: o.format as 'parquet' | 'h5' } : {}),
        ...(o.keys ? { keys: o.keys } : {}),
        ...(o.shard ? { shard: o.shard } : {}),
        ...(o.partRows ? { partRows: o.partRows } : {}),
        ...(o.batchSize ? { batchSize: o.batchSize } : {}),
        ...(o.workers ? { workers: o.workers } : {}),
        onError: o.onError as OnError,
        overwrite: o.overwrite ?? false,
        ...(o.timestamp ? { join: { project: o.project ?? process.cwd(), timestamp: o.timestamp, ...(o.features ? { features: o.features } : {}) } } : {}),
        ...(o.inputGroup ? { inputGroup: o.inputGroup } : {}),
        ...(o.outputGroup ? { outputGroup: o.outputGroup } : {}),
        ...(o.memoryLimit ? { memoryLimit: o.memoryLimit } : {}),
        ...(progress ? { onProgress: (p) => progress.update(p) } : {}),
        log: (line) => {
          if (!json) io.err(line);
        },
      });
      progress?.end();
      printData(io, json, result, () => human(result));
    });
}
