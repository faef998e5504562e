/**
 * `fresco batch score` as a library call: score input files with one or more registered models
 * and write the scores with the inputs' key columns and, on every row, the model's name, version
 * and alias. Streams in bounded memory (parts of --part-rows rows, batches of --batch-size),
 * shards deterministically (--shard i/n), resumes (finished parts are kept and skipped), and
 * never leaves output that looks complete when it is not (temporary names, renamed when done).
 */
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { loadProject } from '../features/project.js';
import { removeLeftoverReports } from '../offline/quality/report.js';
import { ModelRegistry } from '../registry/registry.js';
import { removeLeftoverScratchDirs, scratchDir } from '../util/leftovers.js';
import { BatchReader } from './batches.js';
import { openBatchEngine } from './engine.js';
import { datasetColumnName } from '../dsl/dataset.js';
import { loadBatchModels, planFeatureRefs, planInputs, type BatchModel } from './models.js';
import { openPartsDir, partErrorFile, partFile, planOutput, shardMarker, writeFileAtomic, type OutputFormat, type OutputLayout } from './output.js';
import { PartScorer, type OnError } from './part-scorer.js';
import { describeInputs, expandInputs, parseShard, shardParts, splitParts, type Shard } from './parts.js';
import { PartStager, SLOTS, type JoinSpec } from './stage.js';
import { InferencePool } from './worker-pool.js';
import { mergeFile, writePart } from './write.js';

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
  /**
   * Join features point-in-time from the offline store onto each input row, as of its `timestamp`.
   * `features` defaults to what the models' plans read: their `table.feature` inputs that the
   * input file does not already hold (a prediction set may carry some or all of them).
   */
  join?: { project: string; timestamp: string; features?: string[] };
  /**
   * DuckDB threads for reading, joining and writing while the models score (default 1: the other
   * cores go to the plan and the model). Before the first part is staged (the feature join's
   * preparation included) and for the final merge, nothing else runs: those use every core.
   */
  engineThreads?: number;
  /** Where the job's scratch (spill) folder goes (default: the OS temp folder). */
  tempDir?: string;
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
  /** Where the time went (milliseconds, summed over parts): staging (read + join), scoring (plan + model), writing parts, the final merge. */
  timingsMs: { stage: number; score: number; write: number; merge: number };
}

const OUTPUT_META = ['model_name', 'model_version', 'model_alias'];
const SCRATCH_PREFIX = 'fresco-batch-scratch-';

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
  let join: JoinSpec | undefined = options.join ? { project: loadProject(options.join.project), timestamp: options.join.timestamp, features: options.join.features ?? [] } : undefined;

  // The engine's spill folder, named after this process: a job killed with SIGKILL cannot remove
  // its own, so each job first removes those of dead jobs.
  const scratchParent = options.tempDir ?? tmpdir();
  removeLeftoverScratchDirs(scratchParent, SCRATCH_PREFIX);
  if (join) removeLeftoverReports(join.project.config.qualityDir); // a join writes a quality report
  const spill = scratchDir(scratchParent, SCRATCH_PREFIX);
  const busyThreads = options.engineThreads ?? 1;
  const idleThreads = options.engineThreads ?? availableParallelism();
  const engine = await openBatchEngine({ memoryLimit: options.memoryLimit ?? '1GB', threads: idleThreads, tempDir: spill });
  const setThreads = (n: number) => engine.run(`SET threads = ${n}`);
  let pool: InferencePool | undefined;
  try {
    const files = await describeInputs(engine, await expandInputs(engine, options.input), options.inputGroup);
    const parts = splitParts(files, partRows);
    if (!parts.length) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${options.input.join(', ')}: the input files hold no rows`, { location: { file: files[0]?.path ?? options.input[0] ?? '' } });
    const mine = shardParts(parts, shard);
    const stager = new PartStager(engine, { ...(options.inputGroup ? { h5Group: options.inputGroup } : {}) });

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
      if (join && !options.join?.features && f === files[0]) {
        join.features = planFeatureRefs(inputs).filter((ref) => !columns.has(datasetColumnName(ref)));
        log(join.features.length ? `joining ${join.features.length} feature(s) the plans read: ${join.features.join(', ')}` : 'the input holds every feature the plans read: no join');
        if (!join.features.length) join = undefined;
      }
      if (!join) new BatchReader(engine, f.path, inputs, columns);
    }
    if (join) {
      // The sources' freshness is measured from the newest entity row, as a training set's is from its newest label.
      const referenceTime = await stager.newestTimestamp(files, join.timestamp).catch(() => undefined);
      join.quality = { subject: resolve(options.output), referenceTime, log };
    }
    stager.join = join;

    openPartsDir(
      layout,
      {
        format: 'fresco.batch',
        // 2: a file output's parts hold row numbers and outputs only (the keys are added once, by the merge).
        version: 2,
        models: models.map((m) => ({ ref: m.ref, key: m.key, packageChecksum: m.packageChecksum })),
        inputs: files.map((f) => ({ path: f.path, rows: f.rows })),
        partRows,
        partFormat: layout.partFormat,
        keys: options.keys ?? null,
        join: join ? { project: options.join!.project, timestamp: join.timestamp, features: join.features } : null,
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
    const timingsMs = { stage: 0, score: 0, write: 0, merge: 0 };
    let errors = 0;
    const report = () =>
      options.onProgress?.({ rowsDone, rowsTotal, partsDone, partsTotal: todo.length, elapsedSeconds: (performance.now() - started) / 1000 });
    const timed = async <T>(phase: keyof typeof timingsMs, work: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await work();
      } finally {
        timingsMs[phase] += performance.now() - t;
      }
    };
    if (todo.length) {
      const workers = options.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1));
      pool = await InferencePool.open(models.map((m) => m.pool), { workers, batchRows: batchSize });
      const scorer = new PartScorer(engine, models, pool, inputs);
      // Parts are pipelined over three connections: while part k is read into the plan and the
      // model, part k-1 is written and then part k+1 staged (read, joined). Slots k mod 2 keep
      // their tables apart; at most two parts are held at once.
      const stage = (k: number) => timed('stage', () => stager.stage(todo[k]!, k % SLOTS));
      let staging: Promise<Map<string, string>> | undefined = stage(0);
      let writing: Promise<void> = Promise.resolve();
      try {
        for (const [k, part] of todo.entries()) {
          const columns = await staging!;
          // From here on the engine shares the cores with the plan and the model.
          if (k === 0 && idleThreads !== busyThreads) await setThreads(busyThreads);
          // Slot (k+1) mod 2 is part k-1's: staged once that part is written (soon: writes are short).
          const written = writing;
          staging = k + 1 < todo.length ? written.then(() => stage(k + 1)) : undefined;
          staging?.catch(() => {}); // awaited in turn (or settled below); not an unhandled rejection meanwhile
          const result = await timed('score', () =>
            scorer.score(part, k % SLOTS, columns, {
              batchSize,
              onError,
              inflight: 2 * pool!.size,
              onRows: (n) => {
                rowsDone += n;
                report();
              },
            }),
          );
          // Every row scored by a single model: its scores line up with the staged rows one to one.
          const aligned = models.length === 1 && result.scored[0] === result.rows && result.rows === part.end - part.start;
          const keys = keysByFile.get(part.file.index)!;
          // One write at a time, in part order; the next part's scoring goes on meanwhile.
          await writing;
          writing = timed('write', () => writePart(engine.writing, { layout, part, slot: k % SLOTS, models, keys, errors: result.errors, group: options.outputGroup ?? 'scores', aligned })).then(() => {
            errors += result.errors;
            partsDone++;
            report();
          });
          writing.catch(() => {});
        }
        await writing;
      } finally {
        // On failure, let the other connections' statements end before the engine closes.
        await Promise.allSettled([staging, writing]);
      }
    }

    let errorFile: string | null = null;
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
      const t = performance.now();
      if (idleThreads !== busyThreads) await setThreads(idleThreads);
      errorFile = await mergeFile(engine, { layout, parts: mine, models, keysByFile, fileScan: (f) => stager.fileScan(f), partRows, group: options.outputGroup ?? 'scores' });
      rmSync(layout.partsDir, { recursive: true, force: true });
      timingsMs.merge += performance.now() - t;
    }
    // End to end: the merge into a single output file counts.
    const seconds = (performance.now() - started) / 1000;
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
      timingsMs: Object.fromEntries(Object.entries(timingsMs).map(([k, v]) => [k, Math.round(v)])) as BatchScoreResult['timingsMs'],
    };
  } finally {
    await pool?.close();
    engine.close();
    rmSync(spill, { recursive: true, force: true });
  }
}
