/**
 * Pushing to a static source (no timestamp: its tables hold one row per entity) replaces each
 * pushed entity's row instead of adding a second one, which every later `dataset build` and
 * `materialize` would refuse ("has 2 rows for user_id=...").
 *
 *  - CSV: rewritten text for text: the records of replaced entities are left out, every other
 *    line is copied byte for byte (the user's formatting stays), the new rows are appended.
 *  - Parquet: rewritten by DuckDB, the old rows of pushed entities filtered out.
 *  - A glob source is refused: replacing a row in one file of many cannot be made atomic.
 *
 * Before the file may be renamed into place, DuckDB reads it back: same columns and types, the
 * expected row count, exactly one row per pushed entity. Anything else refuses the push and the
 * lake is left as it was.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { FrescoError } from '../errors/index.js';
import type { FeatureTable, Source } from '../features/definitions.js';
import type { Engine } from '../offline/engine.js';
import { csvHeader, scanCsv } from './push-input.js';
import { parseValue, rawColumn, type CheckedRows, type PushColumn, type PushValue } from './push-validate.js';

/** Per static table fed by the source, the indexes (in `columns`) of its key columns; empty when none. */
export function staticKeySets(source: Source, tables: FeatureTable[], columns: PushColumn[]): number[][] {
  return tables
    .filter((t) => t.kind === 'static')
    .map((t) => t.joinKeys.map((k) => columns.findIndex((c) => c.name === rawColumn(source, t.keyMap[k]!))));
}

const keyOf = (row: readonly PushValue[], keys: number[]) => keys.map((i) => String(row[i])).join('\u0001');

/** The rows to write: a row is left out when a later pushed row has the same key for some static table (the latest wins, as online). */
export function latestPerEntity(rows: PushValue[][], keySets: number[][]): PushValue[][] {
  const seen = keySets.map(() => new Set<string>());
  const kept: PushValue[][] = [];
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i]!;
    const keys = keySets.map((k) => keyOf(row, k));
    if (keys.some((k, s) => seen[s]!.has(k))) continue;
    keys.forEach((k, s) => seen[s]!.add(k));
    kept.push(row);
  }
  return kept.reverse();
}

export function refuseGlob(source: Source): FrescoError {
  return new FrescoError(
    'FRESCO_ERR_INVALID_ARGUMENT',
    `source "${source.name}" is static (no timestamp: one row per entity) and reads several files (${source.path}); a push replaces an entity's row, which cannot be done atomically across files: give the source a single file, or push with --online-only`,
    { location: { file: source.resolvedPath, key: source.name } },
  );
}

/**
 * Writes `tmp`: the CSV at `path` without the records of the pushed entities, then `lines` (the
 * new rows, as CSV). Returns how many old records it kept.
 */
export function rewriteCsv(path: string, tmp: string, columns: PushColumn[], keySets: number[][], rows: PushValue[][], lines: string): number {
  const text = readFileSync(path, 'utf8');
  const pushed = keySets.map((keys) => new Set(rows.map((r) => keyOf(r, keys))));
  const chunks: string[] = [];
  let header: string[] | undefined;
  let pos = 0;
  let kept = 0;
  for (const record of scanCsv(text, path)) {
    if (!header) {
      header = csvHeader(record, path).map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h));
      if (header.join('\u0001') !== columns.map((c) => c.name).join('\u0001')) {
        throw new FrescoError(
          'FRESCO_ERR_DATA_INVALID',
          `${path}: cannot replace rows in it: its first line (${header.join(', ')}) is not the comma-separated header of its columns as read (${columns.map((c) => c.name).join(', ')}); nothing was pushed`,
          { location: { file: path, line: record.line } },
        );
      }
      chunks.push(text.slice(pos, record.end));
      pos = record.end;
      continue;
    }
    const matches = keySets.some((keys, s) => {
      const values: PushValue[] = new Array<PushValue>(columns.length).fill(null);
      for (const i of keys) {
        const v = record.cells.length === columns.length ? parseValue(record.cells[i] ?? null, columns[i]!, true) : null;
        if (v === null || typeof v === 'object') return false;
        values[i] = v;
      }
      return pushed[s]!.has(keyOf(values, keys));
    });
    // Blank lines before a record are kept either way; the record itself only when not replaced.
    chunks.push(text.slice(pos, matches ? record.start : record.end));
    pos = record.end;
    if (!matches) kept++;
  }
  chunks.push(text.slice(pos));
  let body = chunks.join('');
  if (!header) body = `${columns.map((c) => c.name).join(',')}\n`;
  else if (body !== '' && !body.endsWith('\n')) body += '\n';
  writeFileSync(tmp, `${body}${lines}`);
  return kept;
}

/**
 * The Parquet rewrite: the old file's rows whose key (for some static table) is not among the
 * pushed rows, then the pushed rows (`added`, a query with the file's columns and types).
 */
export function upsertQuery(path: string, added: string, columns: PushColumn[], keySets: number[][]): string {
  const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
  const same = keySets.map((keys) => `(${keys.map((i) => `__a.${q(columns[i]!.name)} = __t.${q(columns[i]!.name)}`).join(' AND ')})`).join(' OR ');
  return `SELECT * FROM read_parquet('${path.replaceAll("'", "''")}') AS __t WHERE NOT EXISTS (SELECT 1 FROM (${added}) AS __a WHERE ${same}) UNION ALL ${added}`;
}

/** Reads the rewritten file back; refuses it unless it has the source's columns, `expectedRows` rows and one row per pushed entity. */
export async function verifyRewrite(engine: Engine, args: { final: string; scan: string; added: string; columns: PushColumn[]; keySets: number[][]; expectedRows?: number; pushedRows: number }): Promise<void> {
  const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
  const refuse = (why: string) =>
    new FrescoError('FRESCO_ERR_DATA_INVALID', `${args.final}: the rewritten file would ${why}; nothing was pushed and the file is unchanged`, { location: { file: args.final } });
  const described = await engine.describe(args.scan);
  const want = args.columns.map((c) => `${c.name} ${c.sqlType}`).join(', ');
  const got = [...described].map(([n, t]) => `${n} ${t}`).join(', ');
  if (got !== want) throw refuse(`read back with other columns or types (${got}, not ${want}), so its rows are not plain CSV this rewrite understands`);
  const [count] = await engine.rows(`SELECT count(*) AS n FROM ${args.scan}`);
  if (args.expectedRows !== undefined && Number(count!.n) !== args.expectedRows) throw refuse(`hold ${String(count!.n)} rows instead of ${args.expectedRows}`);
  for (const keys of args.keySets) {
    const same = keys.map((i) => `__a.${q(args.columns[i]!.name)} = __t.${q(args.columns[i]!.name)}`).join(' AND ');
    const [m] = await engine.rows(`SELECT count(*) AS n FROM ${args.scan} AS __t WHERE EXISTS (SELECT 1 FROM (${args.added}) AS __a WHERE ${same})`);
    if (Number(m!.n) !== args.pushedRows) throw refuse(`hold ${String(m!.n)} rows for the ${args.pushedRows} pushed entities (keys ${keys.map((i) => args.columns[i]!.name).join(', ')}), not one each`);
  }
}
