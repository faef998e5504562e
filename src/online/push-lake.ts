/**
 * Appends pushed rows to a source's files in the lake, so the offline store sees them.
 *
 *  - A glob source (`data/flights/*.parquet`): a new file next to the others, named
 *    `fresco-push-<UTC time>-<random>` put where the glob's `*` is (`data/flights/fresco-push-....parquet`),
 *    in the source's format, with the columns and types of the existing files.
 *  - A single-file source (`data/flights.parquet`): the file is rewritten with the rows added
 *    (CSV: copied and appended to; Parquet: rewritten by DuckDB), which costs a full copy per
 *    push; use a glob for sources pushed to often.
 *  - A static source (no timestamp): pushed entities replace their rows (push-upsert.ts).
 * Either way the file is written under a temporary name and renamed by commit(), atomically.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, copyFileSync, fstatSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { FrescoError } from '../errors/index.js';
import type { FeatureTable, Source } from '../features/definitions.js';
import { openEngine } from '../offline/engine.js';
import { commitFiles, isGlob, temporaryPath } from '../offline/files.js';
import { fileFormat } from '../offline/sources.js';
import { removeLeftoverScratchDirs, removeLeftoverTemporaries, removeLeftoverTemporariesOf, scratchDir } from '../util/leftovers.js';
import { latestPerEntity, refuseGlob, rewriteCsv, staticKeySets, upsertQuery, verifyRewrite } from './push-upsert.js';
import type { CheckedRows, PushColumn, PushValue } from './push-validate.js';

export interface LakeAppend {
  /** The file that commit() puts in place. */
  final: string;
  /** Renames the prepared file into place; returns `final`. */
  commit(): string;
  discard(): void;
}

const timeText = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/(\.000)?Z$/, '');

/** A value as the file's readers would write it, so a CSV still reads back with its column types. */
function text(v: PushValue, c: PushColumn): string | null {
  if (v === null) return null;
  if (c.kind === 'time') return c.sqlType === 'DATE' ? timeText(v as number).slice(0, 10) : timeText(v as number);
  // `4.0`, not `4`: a float column of whole numbers would otherwise read back as integers.
  if (c.kind === 'float' && typeof v === 'number' && Number.isInteger(v)) return v.toFixed(1);
  return String(v);
}

function csvCell(s: string | null): string {
  if (s === null) return '';
  return /[",\r\n]/.test(s) || s === '' ? `"${s.replaceAll('"', '""')}"` : s;
}

function endsWithNewline(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

function globRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Where a new file goes so the source's glob picks it up. */
export function pushFileFor(glob: string, stamp: string): string {
  const parts = glob.split(sep);
  const name = parts.pop()!;
  // `dir/**/*.parquet`: `**` matches no folder, so the file goes in `dir`.
  while (parts.length > 0 && parts[parts.length - 1] === '**') parts.pop();
  const dir = parts.join(sep);
  if (isGlob(dir) || !isGlob(name) || !name.includes('*')) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `source path "${glob}": push can only add a file where the file name has a \`*\` and the folder has none (e.g. data/flights/*.parquet)`, { location: { file: glob } });
  }
  const file = name.replace('*', stamp).replaceAll('*', '').replace(/\?/g, '0');
  if (!globRegex(name).test(file)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `source path "${glob}": no file name for pushed rows matches "${name}"`, { location: { file: glob } });
  return join(dir, file);
}

const PUSH_PREFIX = 'fresco-push-';
const SCRATCH_PREFIX = 'push-';

/**
 * Prepares the lake write of a push under a temporary name. `tables` are those the source feeds:
 * when some are static, pushed entities replace their rows (push-upsert.ts) instead of adding rows.
 */
export async function prepareLakeAppend(source: Source, checked: CheckedRows, tmpDir: string, tables: FeatureTable[] = []): Promise<LakeAppend> {
  const path = source.resolvedPath;
  const format = fileFormat(path);
  if (format === 'h5') throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `source "${source.name}" is HDF5 (${path}); push can append to Parquet and CSV sources only`, { location: { file: path } });
  const cols = checked.columns;
  const keySets = staticKeySets(source, tables, cols);
  if (keySets.length && isGlob(path)) throw refuseGlob(source);
  const rows = keySets.length ? latestPerEntity(checked.rows, keySets) : checked.rows;
  const stamp = `${PUSH_PREFIX}${new Date().toISOString().replace(/[-:]/g, '').replace('.', '')}-${randomBytes(3).toString('hex')}`;
  const final = isGlob(path) ? pushFileFor(path, stamp) : path;
  // A push killed with SIGKILL cannot remove its temporaries: remove those of dead pushes first
  // (a live writer's are left alone: util/leftovers.ts).
  if (isGlob(path)) removeLeftoverTemporaries(dirname(final), (name) => name.startsWith(PUSH_PREFIX));
  else removeLeftoverTemporariesOf(final);
  removeLeftoverScratchDirs(tmpDir, SCRATCH_PREFIX);
  const tmp = temporaryPath(final);
  const scratch = scratchDir(tmpDir, SCRATCH_PREFIX);
  const lines = () => rows.map((r) => `${r.map((v, i) => csvCell(text(v, cols[i]!))).join(',')}\n`).join('');
  const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
  const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
  try {
    if (format === 'csv' && !keySets.length) {
      if (isGlob(path)) writeFileSync(tmp, `${cols.map((c) => csvCell(c.name)).join(',')}\n${lines()}`);
      else {
        copyFileSync(path, tmp);
        appendFileSync(tmp, `${endsWithNewline(tmp) ? '' : '\n'}${lines()}`);
      }
    } else {
      // The pushed rows as a query with the file's columns and types (for Parquet and for checks).
      const json = join(scratch, 'rows.jsonl');
      writeFileSync(json, rows.map((r) => JSON.stringify(Object.fromEntries(r.map((v, i) => [cols[i]!.name, text(v, cols[i]!)])))).join('\n') + '\n');
      const select = cols.map((c) => `CAST(${c.kind === 'time' ? `CAST(${q(c.name)} AS TIMESTAMP)` : q(c.name)} AS ${c.sqlType}) AS ${q(c.name)}`).join(', ');
      const added = `SELECT ${select} FROM read_json(${lit(json)}, format = 'newline_delimited', columns = {${cols.map((c) => `${lit(c.name)}: 'VARCHAR'`).join(', ')}})`;
      const engine = await openEngine({ threads: 2 });
      try {
        if (format === 'csv') {
          const kept = rewriteCsv(path, tmp, cols, keySets, rows, lines());
          await verifyRewrite(engine, { final, scan: `read_csv(${lit(tmp)}, header = true)`, added, columns: cols, keySets, expectedRows: kept + rows.length, pushedRows: rows.length });
        } else {
          const all = keySets.length ? upsertQuery(path, added, cols, keySets) : isGlob(path) ? added : `SELECT * FROM read_parquet(${lit(path)}) UNION ALL ${added}`;
          try {
            await engine.run(`COPY (${all}) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
          } catch (error) {
            throw new FrescoError('FRESCO_ERR_DATA_INVALID', `cannot append to ${basename(final)} in ${dirname(final)}: ${(error as Error).message.split('\n')[0]}`, { location: { file: final }, cause: error });
          }
          if (keySets.length) await verifyRewrite(engine, { final, scan: `read_parquet(${lit(tmp)})`, added, columns: cols, keySets, pushedRows: rows.length });
        }
      } finally {
        engine.close();
      }
    }
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return {
    final,
    commit: () => {
      commitFiles([{ tmp, final }]);
      return final;
    },
    discard: () => rmSync(tmp, { force: true }),
  };
}
