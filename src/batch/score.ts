/**
 * `fresco batch score` as a library call: score input files with one or more registered models
 * and write the scores with the inputs' key columns and, on every row, the model's name, version
 * and alias. Streams in bounded memory (parts of --part-rows rows, batches of --batch-size),
 * shards deterministically (--shard i/n), resumes (finished parts are kept and skipped), and
 * never leaves output that looks complete when it is not (temporary names, renamed when done).
 */
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { loadProject } from '../features/project.js';
import { quoteIdent, quoteString, writeHdf5FromQuery, type OfflineEngine } from '../offline/index.js';
import { ModelRegistry } from '../registry/registry.js';
import { BatchReader } from './batches.js';
import { openBatchEngine } from './engine.js';
import { loadBatchModels, planInputs, type BatchModel } from './models.js';
import {
  errorFileOf, openPartsDir, partErrorFile, partFile, planOutput, removeStaleTemporaries, shardMarker, temporaryName, writeFileAtomic, type OutputFormat, type OutputLayout,
} from './output.js';
import { ERRORS_TABLE, PartScorer, scoresTable, type OnError } from './part-scorer.js';
import { describeInputs, describePart, expandInputs, parseShard, shardParts, splitParts, type Part, type Shard } from './parts.js';
import { IN_TABLE, PartStager, ROW, type JoinSpec } from './stage.js';
import { InferencePool } from './worker-pool.js';

export interface BatchScoreOptions {
  /** The model registry folder. */
  registry: string;
  /** Model refs: `name`, `name@version`, `name@alias`. */
  models: string[];
  /** Input files or globs (.parquet, .csv, .h5). */
  input: string[];
  /** A .parquet or .h5 file, or a folder (one file per part; required with --shard). */
  output: string;
  /** Part file format in a folder output (default parquet). */
  format?: OutputFormat;
  /** Input columns copied to every output row (default: all of the input file's columns). */
  keys?: string[];
  /** `i/n`, or parsed. Default 0/1. */
  shard?: string | Shard;
  /** Rows per part: the unit of sharding, resuming and memory (default 262144). */
  partRows?: number;
  /** Rows per batch sent to a worker (default 32768). */
  batchSize?: number;
  /** Inference worker threads (default: cores - 1, at least 1, at most 4). */
  workers?: number;
  /** What a bad row does: fail the job (default) or go to the error file. */
  onError?: OnError;
  /** Replace an existing output file, or parts of a different job. */
  overwrite?: boolean;
  /** HDF5 inputs: the group holding the table. */
  inputGroup?: string;
  /** HDF5 output: the group to write (default `scores`). */
  outputGroup?: string;
  /** Join features point-in-time from the offline store onto each input row. */
  join?: { project: string; timestamp: string; features: string[] };
  /** DuckDB threads for reading and writing files (default 1: the cores go to the plan and the model). */
  engineThreads?: number;
  /** DuckDB memory limit (default 1GB): the engine spills past it. */
  memoryLimit?: string;
  onProgress?(progress: BatchProgress): void;
  log?(line: string): void;
}

export interface BatchProgress {
  rowsDone: number;
  rowsTotal: number;
  partsDone: number;
  partsTotal: number;
  elapsedSeconds: number;
}

export interface BatchScoreResult {
  output: string;
  mode: OutputLayout['mode'];
  format: OutputFormat;
  shard: Shard;
  models: { ref: string; name: string; version: number; alias: string | null }[];
  parts: { total: number; inShard: number; scored: number; skipped: number };
  /** Input rows scored by this run (skipped parts not counted). */
  rows: number;
  /** Rows set aside as errors (per model). */
  errors: number;
  errorFile: string | null;
  seconds: number;
  rowsPerSecond: number;
}

const OUTPUT_META = ['model_name', 'model_version', 'model_alias'];

export async function batchScore(options: BatchScoreOptions): Promise<BatchScoreResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const shard = typeof options.shard === 'object' ? options.shard : parseShard(options.shard);
  const partRows = options.partRows ?? 262_144;
  const batchSize = options.batchSize ?? 32_768;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--batch-size must be a positive integer, got ${batchSize}`);
  const onError = options.onError ?? 'fail';
  if (onError !== 'fail' && onError !== 'skip') throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--on-error "${String(onError)}" is invalid: expected fail or skip`);
  const layout = planOutput(options.output, { ...(options.format ? { format: options.format } : {}), shard });

  const registry = ModelRegistry.open(options.registry);
  let models: BatchModel[];
  try {
    models = await loadBatchModels(registry, options.models);
  } finally {
    registry.close();
  }
  const inputs = planInputs(models);
  const join: JoinSpec | undefined = options.join ? { project: loadProject(options.join.project), timestamp: options.join.timestamp, features: options.join.features } : undefined;

  const spill = mkdtempSync(joinPath(tmpdir(), 'fresco-batch-'));
  const engine = await openBatchEngine({ memoryLimit: options.memoryLimit ?? '1GB', threads: options.engineThreads ?? 1, tempDir: spill });
  let pool: InferencePool | undefined;
  try {
    const files = await describeInputs(engine, await expandInputs(engine, options.input), options.inputGroup);
    const parts = splitParts(files, partRows);
    if (!parts.length) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${options.input.join(', ')}: the input files hold no rows`, { location: { file: files[0]?.path ?? options.input[0] ?? '' } });
    const mine = shardParts(parts, shard);
    const stager = new PartStager(engine, layout.partsDir, { ...(options.inputGroup ? { h5Group: options.inputGroup } : {}), ...(join ? { join } : {}) });

    // Check every file before scoring anything: a bad column fails the job at once, cleanly.
    const keysByFile = new Map<number, string[]>();
    for (const f of files) {
      const first = parts.find((p) => p.file === f);
      if (!first) continue;
      const columns = await stager.fileColumns(first);
      const keys = options.keys ?? [...columns.keys()];
      for (const k of keys) {
        if (!columns.has(k)) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${f.path}: no key column "${k}"; columns: ${[...columns.keys()].join(', ')}`, { location: { file: f.path, key: k } });
        const clash = OUTPUT_META.includes(k) || models.some((m) => m.outputs.some((o) => o.column === k));
        if (clash) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${f.path}: key column "${k}" has the name of an output column; choose --keys without it`, { location: { file: f.path, key: k } });
      }
      keysByFile.set(f.index, keys);
      if (!join) new BatchReader(engine, f.path, inputs, columns);
    }

    openPartsDir(
      layout,
      {
        format: 'fresco.batch',
        version: 1,
        models: models.map((m) => ({ ref: m.ref, key: m.key, packageChecksum: m.packageChecksum })),
        inputs: files.map((f) => ({ path: f.path, rows: f.rows })),
        partRows,
        partFormat: layout.partFormat,
        keys: options.keys ?? null,
        join: options.join ?? null,
        onError,
      },
      options.overwrite ?? false,
    );

    const todo = mine.filter((p) => !existsSync(partFile(layout, p)));
    const skipped = mine.length - todo.length;
    const rowsTotal = todo.reduce((n, p) => n + p.end - p.start, 0);
    if (skipped) log(`${skipped} of ${mine.length} part(s) already scored by an earlier run: skipped`);
    log(`scoring ${rowsTotal} row(s) in ${todo.length} part(s) (shard ${shard.index}/${shard.count}) with ${models.map((m) => `${m.ref} (${m.key})`).join(', ')}`);

    let rowsDone = 0;
    let partsDone = 0;
    let errors = 0;
    const report = () =>
      options.onProgress?.({ rowsDone, rowsTotal, partsDone, partsTotal: todo.length, elapsedSeconds: (performance.now() - started) / 1000 });
    if (todo.length) {
      const workers = options.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1));
      pool = await InferencePool.open(models.map((m) => m.pool), { workers });
      const scorer = new PartScorer(engine, models, pool, inputs);
      for (const part of todo) {
        const columns = await stager.stage(part);
        const result = await scorer.score(part, columns, {
          batchSize,
          onError,
          inflight: 2 * pool.size,
          onRows: (n) => {
            rowsDone += n;
            report();
          },
        });
        // Every row scored by a single model: its scores line up with the staged rows one to one.
        const aligned = models.length === 1 && result.scored[0] === result.rows && result.rows === part.end - part.start;
        await writePart(engine, layout, part, models, keysByFile.get(part.file.index)!, result.errors, options.outputGroup ?? 'scores', aligned);
        errors += result.errors;
        await stager.dropPart();
        partsDone++;
        report();
      }
    }

    let errorFile: string | null = null;
    const seconds = (performance.now() - started) / 1000;
    const summary = {
      format: 'fresco.batch.summary',
      version: 1,
      finishedAt: new Date().toISOString(),
      shard,
      models: models.map((m) => ({ ref: m.ref, name: m.name, version: m.version, alias: m.alias })),
      parts: mine.map((p) => ({ id: p.id, file: p.file.path, rows: [p.start, p.end] })),
    };
    if (layout.mode === 'folder') {
      writeFileAtomic(shardMarker(layout, shard), `${JSON.stringify(summary, null, 2)}\n`);
      const errorParts = mine.map((p) => partErrorFile(layout, p)).filter(existsSync);
      errorFile = errorParts.length ? layout.partsDir : null;
    } else {
      errorFile = await mergeFile(engine, layout, mine, options.outputGroup ?? 'scores');
      rmSync(layout.partsDir, { recursive: true, force: true });
    }
    return {
      output: layout.target,
      mode: layout.mode,
      format: layout.format,
      shard,
      models: summary.models,
      parts: { total: parts.length, inShard: mine.length, scored: todo.length, skipped },
      rows: rowsDone,
      errors,
      errorFile,
      seconds,
      rowsPerSecond: seconds > 0 ? rowsDone / seconds : 0,
    };
  } finally {
    await pool?.close();
    engine.close();
    rmSync(spill, { recursive: true, force: true });
  }
}

/**
 * Writes one part's scores (and its error rows) under temporary names, then renames: errors first,
 * data last. `aligned`: one model whose scores hold every staged row in order, so the scores are
 * joined by position, with no hash join and no sort (the costliest steps of the write otherwise).
 */
async function writePart(engine: OfflineEngine, layout: OutputLayout, part: Part, models: BatchModel[], keys: string[], errors: number, group: string, aligned: boolean): Promise<void> {
  const q = quoteIdent;
  const meta = (m: BatchModel) => [
    `${quoteString(m.name)} AS model_name`,
    `CAST(${m.version} AS INTEGER) AS model_version`,
    `${m.alias === null ? 'CAST(NULL AS VARCHAR)' : quoteString(m.alias)} AS model_alias`,
  ];
  const selects = models.map((m, mi) => {
    const cols = [
      `${mi} AS __m`,
      `i.${q(ROW)} AS ${q(ROW)}`,
      ...keys.map((k) => `i.${q(k)}`),
      ...meta(m),
      ...m.outputs.map((o) => `s.${q(o.column)}`),
    ];
    return `SELECT ${cols.join(', ')} FROM ${IN_TABLE} i JOIN ${scoresTable(mi)} s ON i.${q(ROW)} = CAST(s.${q(ROW)} AS BIGINT)`;
  });
  const m0 = models[0]!;
  // Both tables are scanned in insertion order (DuckDB keeps it), which is input row order.
  const query = aligned
    ? `SELECT ${[...keys.map((k) => `i.${q(k)}`), ...meta(m0), ...m0.outputs.map((o) => `s.${q(o.column)}`)].join(', ')} FROM ${IN_TABLE} i POSITIONAL JOIN ${scoresTable(0)} s`
    : `SELECT * EXCLUDE (__m, ${q(ROW)}) FROM (${selects.join(' UNION ALL BY NAME ')}) ORDER BY __m, ${q(ROW)}`;
  const final = partFile(layout, part);
  const errorFinal = partErrorFile(layout, part);
  removeStaleTemporaries(final);
  removeStaleTemporaries(errorFinal);
  rmSync(errorFinal, { force: true });
  const temporaries: string[] = [];
  try {
    if (errors) {
      const tmp = temporaryName(errorFinal);
      temporaries.push(tmp);
      await engine.run(
        `COPY (SELECT ${quoteString(part.file.path)} AS file, CAST(e.${q(ROW)} AS BIGINT) AS row, e.model, e.reason, ${keys.map((k) => `i.${q(k)}`).join(', ')}
               FROM ${ERRORS_TABLE} e JOIN ${IN_TABLE} i ON i.${q(ROW)} = CAST(e.${q(ROW)} AS BIGINT) ORDER BY row, e.model) TO ${quoteString(tmp)} (FORMAT json)`,
      );
      renameSync(tmp, errorFinal);
    }
    const tmp = temporaryName(final);
    temporaries.push(tmp);
    if (layout.partFormat === 'parquet') await engine.run(`COPY (${query}) TO ${quoteString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    else await writeHdf5FromQuery(engine, query, tmp, group);
    renameSync(tmp, final);
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${final}: cannot write scores for ${describePart(part)}: ${(error as Error).message.split('\n')[0]}`, { location: { file: final }, cause: error });
  } finally {
    for (const t of temporaries) rmSync(t, { force: true });
  }
}

/** File mode: merges the parts, in order, into the output file (temporary name, then rename); returns the error file if any. */
async function mergeFile(engine: OfflineEngine, layout: OutputLayout, parts: Part[], group: string): Promise<string | null> {
  const files = parts.map((p) => partFile(layout, p));
  const list = `[${files.map(quoteString).join(', ')}]`;
  const errorParts = parts.map((p) => partErrorFile(layout, p)).filter(existsSync);
  let errorFile: string | null = null;
  const target = layout.target;
  removeStaleTemporaries(target);
  if (errorParts.length) {
    errorFile = errorFileOf(target);
    const tmp = temporaryName(errorFile);
    try {
      await engine.run(`COPY (SELECT * FROM read_json([${errorParts.map(quoteString).join(', ')}], format = 'newline_delimited')) TO ${quoteString(tmp)} (FORMAT json)`);
      renameSync(tmp, errorFile);
    } finally {
      rmSync(tmp, { force: true });
    }
  } else {
    rmSync(errorFileOf(target), { force: true });
  }
  const tmp = temporaryName(target);
  try {
    const query = `SELECT * FROM read_parquet(${list}, union_by_name = true)`;
    if (layout.format === 'parquet') await engine.run(`COPY (${query}) TO ${quoteString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    else await writeHdf5FromQuery(engine, query, tmp, group);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  return errorFile;
}
