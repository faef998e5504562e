/**
 * Writing a batch job's output: each part as it is scored (under a temporary name, renamed when
 * complete), and in file mode the final file. Every output row holds the input's key columns, the
 * model's name, version and alias, and its outputs.
 *
 * Folder mode: the part files are the output, so each holds full rows. File mode: a part holds
 * only the row numbers and the outputs (what a rerun needs to resume), and the final file is
 * written once, by reading the input's key columns again beside the parts' scores: the key
 * columns (most of the bytes) are encoded once, not once into the parts and again into the file.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { FrescoError } from '../errors/index.js';
import { quoteIdent, quoteString, writeHdf5FromQuery, type OfflineEngine } from '../offline/index.js';
import type { BatchModel } from './models.js';
import { errorFileOf, partErrorFile, partFile, removeStaleTemporaries, temporaryName, type OutputLayout } from './output.js';
import { errorsTable, scoresTable } from './part-scorer.js';
import { describePart, type InputFile, type Part } from './parts.js';
import { inTable, ROW } from './stage.js';

const q = quoteIdent;

/** The model columns of every output row: constants per model. */
function modelColumns(m: BatchModel): string[] {
  return [
    `${quoteString(m.name)} AS model_name`,
    `CAST(${m.version} AS INTEGER) AS model_version`,
    `${m.alias === null ? 'CAST(NULL AS VARCHAR)' : quoteString(m.alias)} AS model_alias`,
  ];
}

/** The model columns chosen by the model index `__m` of a multi-model row. */
function modelColumnsByIndex(models: BatchModel[], m: string): string[] {
  const pick = (value: (x: BatchModel) => string, as: string) => `CASE ${m} ${models.map((x, i) => `WHEN ${i} THEN ${value(x)}`).join(' ')} END AS ${as}`;
  return [
    pick((x) => quoteString(x.name), 'model_name'),
    pick((x) => `CAST(${x.version} AS INTEGER)`, 'model_version'),
    pick((x) => (x.alias === null ? 'CAST(NULL AS VARCHAR)' : quoteString(x.alias)), 'model_alias'),
  ];
}

export interface WritePartArgs {
  layout: OutputLayout;
  part: Part;
  slot: number;
  models: BatchModel[];
  keys: string[];
  /** Error rows set aside in this part. */
  errors: number;
  /** HDF5 part files: the group. */
  group: string;
  /** One model whose scores hold every staged row in order: joined by position, no hash join, no sort. */
  aligned: boolean;
}

/**
 * Writes one part's scores (and its error rows) under temporary names, then renames: errors first,
 * data last. Then drops the slot's tables.
 */
export async function writePart(engine: OfflineEngine, args: WritePartArgs): Promise<void> {
  const { layout, part, slot, models, keys, errors } = args;
  const input = inTable(slot);
  let query: string;
  if (layout.mode === 'file') {
    // Row numbers and outputs; scores were appended in input order, per model.
    const selects = models.map((m, mi) => `SELECT ${[...(models.length > 1 ? [`${mi} AS __m`] : []), `CAST(${q(ROW)} AS BIGINT) AS ${q(ROW)}`, ...m.outputs.map((o) => q(o.column))].join(', ')} FROM ${scoresTable(mi, slot)}`);
    query = models.length > 1 ? `SELECT * FROM (${selects.join(' UNION ALL BY NAME ')}) ORDER BY __m, ${q(ROW)}` : selects[0]!;
  } else if (args.aligned) {
    // Both tables are scanned in insertion order (DuckDB keeps it), which is input row order.
    const m0 = models[0]!;
    query = `SELECT ${[...keys.map((k) => `i.${q(k)}`), ...modelColumns(m0), ...m0.outputs.map((o) => `s.${q(o.column)}`)].join(', ')} FROM ${input} i POSITIONAL JOIN ${scoresTable(0, slot)} s`;
  } else {
    const selects = models.map((m, mi) => {
      const cols = [`${mi} AS __m`, `i.${q(ROW)} AS ${q(ROW)}`, ...keys.map((k) => `i.${q(k)}`), ...modelColumns(m), ...m.outputs.map((o) => `s.${q(o.column)}`)];
      return `SELECT ${cols.join(', ')} FROM ${input} i JOIN ${scoresTable(mi, slot)} s ON i.${q(ROW)} = CAST(s.${q(ROW)} AS BIGINT)`;
    });
    query = `SELECT * EXCLUDE (__m, ${q(ROW)}) FROM (${selects.join(' UNION ALL BY NAME ')}) ORDER BY __m, ${q(ROW)}`;
  }
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
               FROM ${errorsTable(slot)} e JOIN ${input} i ON i.${q(ROW)} = CAST(e.${q(ROW)} AS BIGINT) ORDER BY row, e.model) TO ${quoteString(tmp)} (FORMAT json)`,
      );
      renameSync(tmp, errorFinal);
    }
    const tmp = temporaryName(final);
    temporaries.push(tmp);
    if (layout.partFormat === 'parquet') await engine.run(`COPY (${query}) TO ${quoteString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    else await writeHdf5FromQuery(engine, query, tmp, args.group);
    renameSync(tmp, final);
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${final}: cannot write scores for ${describePart(part)}: ${(error as Error).message.split('\n')[0]}`, { location: { file: final }, cause: error });
  } finally {
    for (const t of temporaries) rmSync(t, { force: true });
  }
  // The slot's tables are done with: free their memory before the slot is staged again.
  for (const table of [input, errorsTable(slot), ...models.map((_, mi) => scoresTable(mi, slot))]) await engine.run(`DROP TABLE IF EXISTS ${table}`);
}

export interface MergeArgs {
  layout: OutputLayout;
  /** Every part of the job, in order (a file output has one shard). */
  parts: Part[];
  models: BatchModel[];
  keysByFile: Map<number, string[]>;
  /** The whole input file with `__row`. */
  fileScan(file: InputFile): Promise<string>;
  partRows: number;
  /** HDF5 output: the group. */
  group: string;
}

/**
 * File mode: writes the output file from the input's key columns and the parts' scores, in input
 * order (per part, model by model, as a folder's parts hold them), under a temporary name, then
 * renames; merges the parts' error files likewise. Returns the error file, if any.
 */
export async function mergeFile(engine: OfflineEngine, args: MergeArgs): Promise<string | null> {
  const { layout, parts, models } = args;
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

  const files = [...new Map(parts.map((p) => [p.file.index, p.file])).values()];
  const scoresOf = (f: InputFile) => `read_parquet([${parts.filter((p) => p.file === f).map((p) => quoteString(partFile(layout, p))).join(', ')}])`;
  let query: string;
  const onlyFile = files.length === 1 ? files[0]! : undefined;
  const m0 = models[0]!;
  if (onlyFile && models.length === 1 && Number((await engine.rows(`SELECT count(*) AS n FROM ${scoresOf(onlyFile)}`))[0]!.n) === onlyFile.rows) {
    // One model scored every row: the scores line up with the input's rows by position.
    const keys = args.keysByFile.get(onlyFile.index)!;
    query = `SELECT ${[...keys.map((k) => `i.${q(k)}`), ...modelColumns(m0), ...m0.outputs.map((o) => `s.${q(o.column)}`)].join(', ')} FROM ${await args.fileScan(onlyFile)} i POSITIONAL JOIN ${scoresOf(onlyFile)} s`;
  } else {
    // Rows set aside, several models or several files: join on the row number and sort as the parts are ordered.
    const selects: string[] = [];
    for (const f of files) {
      const keys = args.keysByFile.get(f.index)!;
      const m = models.length > 1 ? 's.__m' : '0';
      const outputs = [...new Set(models.flatMap((x) => x.outputs.map((o) => o.column)))];
      selects.push(
        `SELECT ${[`${f.index} AS __f`, `${m} AS __m`, `i.${q(ROW)} AS ${q(ROW)}`, ...keys.map((k) => `i.${q(k)}`), ...(models.length > 1 ? modelColumnsByIndex(models, 's.__m') : modelColumns(m0)), ...outputs.map((o) => `s.${q(o)}`)].join(', ')}
         FROM ${await args.fileScan(f)} i JOIN ${scoresOf(f)} s ON i.${q(ROW)} = s.${q(ROW)}`,
      );
    }
    query = `SELECT * EXCLUDE (__f, __m, ${q(ROW)}) FROM (${selects.join(' UNION ALL BY NAME ')}) ORDER BY __f, ${q(ROW)} // ${args.partRows}, __m, ${q(ROW)}`;
  }
  const tmp = temporaryName(target);
  try {
    if (layout.format === 'parquet') await engine.run(`COPY (${query}) TO ${quoteString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    else await writeHdf5FromQuery(engine, query, tmp, args.group);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  return errorFile;
}
