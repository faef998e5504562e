/**
 * The columns a pushed row may have, and the check of every row against them before anything is
 * written. A source's columns are those of its files in the lake (their DuckDB types); a source
 * with no file yet gets them from the feature tables that read it. Keys, the timestamp and the
 * created timestamp are required and may not be null; other columns may be left out (null).
 */
import { FrescoError } from '../errors/index.js';
import type { FeatureTable, Source } from '../features/definitions.js';
import { SQL_TYPES } from '../offline/sources.js';
import type { PushRecord } from './push-input.js';

export type PushColumnKind = 'int' | 'float' | 'bool' | 'time' | 'string';

export interface PushColumn {
  /** Name in the source's files (before field_mapping). */
  name: string;
  /** DuckDB type the lake files hold. */
  sqlType: string;
  kind: PushColumnKind;
  /** Why it may not be missing or null (a key, the timestamp), or undefined. */
  required?: string;
}

/** A checked value: int as number (bigint past 2^53), float, boolean, time as ms, string; or null. */
export type PushValue = number | bigint | boolean | string | null;

export interface CheckedRows {
  columns: PushColumn[];
  /** One array per row, values in `columns` order. */
  rows: PushValue[][];
}

export function kindOfSqlType(t: string): PushColumnKind {
  const u = t.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|INT\d*)$/.test(u)) return 'int';
  if (/^(FLOAT|DOUBLE|REAL|DECIMAL.*|FLOAT\d*)$/.test(u)) return 'float';
  if (u === 'BOOLEAN') return 'bool';
  if (u.startsWith('TIMESTAMP') || u === 'DATE') return 'time';
  return 'string';
}

/** Source column name (in the files) of a name the tables use after field_mapping. */
export function rawColumn(source: Source, mapped: string): string {
  for (const [from, to] of Object.entries(source.fieldMapping)) if (to === mapped) return from;
  return mapped;
}

/** Required columns of a source for these tables: keys, timestamp, created timestamp. */
function requiredColumns(source: Source, tables: FeatureTable[]): Map<string, string> {
  const req = new Map<string, string>();
  for (const t of tables) for (const k of t.joinKeys) req.set(rawColumn(source, t.keyMap[k]!), `join key "${k}" of table "${t.name}"`);
  if (source.timestamp) req.set(rawColumn(source, source.timestamp), `timestamp of source "${source.name}"`);
  if (source.createdTimestamp) req.set(rawColumn(source, source.createdTimestamp), `created timestamp of source "${source.name}"`);
  return req;
}

/** Columns from the lake's files (`described`: name -> DuckDB type) or, without files, from the tables. */
export function pushColumns(source: Source, tables: FeatureTable[], described: Map<string, string> | undefined): PushColumn[] {
  const req = requiredColumns(source, tables);
  let typed: [string, string][];
  if (described) {
    typed = [...described];
  } else {
    const m = new Map<string, string>();
    for (const [c] of req) m.set(c, 'VARCHAR');
    if (source.timestamp) m.set(rawColumn(source, source.timestamp), 'TIMESTAMP');
    if (source.createdTimestamp) m.set(rawColumn(source, source.createdTimestamp), 'TIMESTAMP');
    for (const t of tables) for (const f of t.features) if (f.column !== '*') m.set(rawColumn(source, f.column), t.kind === 'windowed' ? 'DOUBLE' : SQL_TYPES[f.type]);
    typed = [...m];
  }
  const cols = typed.map(([name, sqlType]) => ({ name, sqlType, kind: kindOfSqlType(sqlType), ...(req.has(name) ? { required: req.get(name)! } : {}) }));
  for (const [c, why] of req) {
    if (!cols.some((x) => x.name === c)) {
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `source "${source.name}": its files have no column "${c}" (${why})`, { location: { file: source.path, key: c } });
    }
  }
  return cols;
}

const TIME = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?)?\s*(Z|[+-]\d\d:?\d\d)?$/i;

/** ms since the epoch of an ISO-like time (no zone = UTC, as the offline store reads it), or NaN. */
export function parseTimeText(s: string): number {
  const m = TIME.exec(s.trim());
  if (!m) return NaN;
  const zone = m[8] ? (m[8].toUpperCase() === 'Z' ? 'Z' : m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]) : 'Z';
  const ms = m[7] ? m[7].slice(0, 4).padEnd(4, '0') : '';
  return Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${ms}${zone}`);
}

/** Parses one value for a column; returns an error text instead of throwing. */
export function parseValue(v: unknown, col: PushColumn, text: boolean): PushValue | { error: string } {
  if (v === null || v === undefined || (text && v === '')) return null;
  const got = typeof v === 'string' ? `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"` : JSON.stringify(v) ?? String(v);
  switch (col.kind) {
    case 'int': {
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (typeof v === 'bigint') return v;
      if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) {
        const b = BigInt(v.trim());
        return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
      }
      return { error: `expected an integer (${col.sqlType}), got ${got}` };
    }
    case 'float': {
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      return { error: `expected a number (${col.sqlType}), got ${got}` };
    }
    case 'bool': {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' && /^(true|false|1|0)$/i.test(v.trim())) return /^(true|1)$/i.test(v.trim());
      return { error: `expected true or false, got ${got}` };
    }
    case 'time': {
      const ms = typeof v === 'string' ? parseTimeText(v) : typeof v === 'number' && !text && Number.isFinite(v) ? v : NaN;
      if (!Number.isNaN(ms)) return ms;
      return { error: `expected a time (ISO 8601, e.g. 2024-01-01T12:00:00Z${text ? '' : ', or ms since the epoch'}), got ${got}` };
    }
    default:
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
      return { error: `expected text, got ${got}` };
  }
}

function where(name: string, r: PushRecord): string {
  return `${name}: row ${r.row}${r.line !== undefined ? ` (line ${r.line})` : ''}`;
}

/** Checks every record; the first bad one throws FRESCO_ERR_DATA_INVALID naming row, line and column. */
export function checkRows(records: readonly PushRecord[], columns: PushColumn[], inputName: string, sourceName: string): CheckedRows {
  const index = new Map(columns.map((c, i) => [c.name, i]));
  const rows: PushValue[][] = new Array(records.length);
  const fail = (r: PushRecord, column: string, why: string): never => {
    throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${where(inputName, r)}, column "${column}": ${why}; nothing was pushed`, {
      location: { file: inputName, ...(r.line !== undefined ? { line: r.line } : {}), key: column },
    });
  };
  for (let k = 0; k < records.length; k++) {
    const r = records[k]!;
    const out: PushValue[] = new Array(columns.length).fill(null);
    for (const name of Object.keys(r.fields)) {
      const at = index.get(name);
      if (at === undefined) fail(r, name, `source "${sourceName}" has no such column (its columns: ${columns.map((c) => c.name).join(', ')})`);
      const v = parseValue(r.fields[name], columns[at!]!, r.text);
      if (v !== null && typeof v === 'object') fail(r, name, v.error);
      out[at!] = v as PushValue;
    }
    for (const [i, c] of columns.entries()) if (c.required && out[i] === null) fail(r, c.name, `missing or null, but it is the ${c.required}`);
    rows[k] = out;
  }
  return { columns, rows };
}
