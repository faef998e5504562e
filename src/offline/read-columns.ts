/**
 * Reads a Parquet or CSV file into plan input columns through DuckDB: numbers as Float64 (null as
 * NaN), timestamps and dates as epoch milliseconds, booleans as 0/1, strings dictionary-encoded.
 * The offline store builds on DuckDB too; this is the small piece the plan commands need.
 */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { FrescoError } from '../errors/index.js';
import type { Column, SlotType } from '../plan/types.js';
import { copyDoubles, copyInt32s } from './duckdb-vectors.js';

export interface ColumnTable {
  names: string[];
  /** The plan slot type each column fits: 'num' or 'str'. */
  types: SlotType[];
  columns: Column[];
  rows: number;
}

export interface ReadOptions {
  /** Columns to read, in this order (default: all). */
  columns?: string[];
  /** Read at most this many rows. */
  limit?: number;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const TEMPORAL = /^(DATE|TIMESTAMP.*)$/;

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function scanSql(path: string): string {
  switch (extname(path).toLowerCase()) {
    case '.parquet':
      return `read_parquet(${quoteString(path)})`;
    case '.csv':
      return `read_csv(${quoteString(path)}, header = true)`;
    default:
      throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${path}: unsupported file type "${extname(path)}"; expected .parquet or .csv`, {
        location: { file: path },
      });
  }
}

async function describe(connection: DuckDBConnection, source: string, file: string): Promise<Map<string, string>> {
  try {
    const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    return new Map(reader.getRowObjectsJS().map((row) => [String(row.column_name), String(row.column_type)]));
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: cannot read it: ${(error as Error).message}`, { location: { file }, cause: error });
  }
}

export async function readColumns(file: string, options: ReadOptions = {}): Promise<ColumnTable> {
  const path = resolve(file);
  if (!existsSync(path)) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no such file`, { location: { file } });
  const source = scanSql(path);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const schema = await describe(connection, source, file);
    const names = options.columns ?? [...schema.keys()];
    const types: SlotType[] = [];
    const selects = names.map((name) => {
      const type = schema.get(name);
      if (type === undefined) {
        throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no column "${name}"; columns: ${[...schema.keys()].join(', ')}`, {
          location: { file, key: name },
        });
      }
      const id = quoteIdent(name);
      if (type === 'VARCHAR') {
        types.push('str');
        return id;
      }
      types.push('num');
      if (NUMERIC.test(type) || type === 'BOOLEAN') return `CAST(${id} AS DOUBLE)`;
      if (TEMPORAL.test(type)) return `CAST(epoch_ms(CAST(${id} AS TIMESTAMP)) AS DOUBLE)`;
      throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: column "${name}" has type ${type}, which plans cannot read`, {
        location: { file, key: name },
      });
    });
    const limit = options.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(options.limit))}`;
    const aliased = selects.map((expr, c) => `${expr} AS c${c}`);
    return { names, types, ...(await collect(connection, `SELECT ${aliased.join(', ')} FROM ${source}${limit}`, types)) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Materializes the selection once (file order kept by rowid), lets DuckDB dictionary-encode each
 * string column (an ENUM of its distinct values in order of first appearance, the order the
 * dictionary had when values were coded one by one), then streams the result and copies each
 * chunk's vectors into typed arrays in bulk: no value is boxed or decoded one by one.
 */
async function collect(connection: DuckDBConnection, select: string, types: SlotType[]): Promise<{ columns: Column[]; rows: number }> {
  const table = '__read_columns';
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${select}`);
  try {
    const rows = Number((await connection.runAndReadAll(`SELECT count(*) AS n FROM ${table}`)).getRowObjectsJS()[0]!.n);
    const dictionaries: string[][] = [];
    const exprs: string[] = [];
    for (const [c, type] of types.entries()) {
      const id = `c${c}`;
      if (type === 'num') {
        exprs.push(id);
        continue;
      }
      const firstSeen = `SELECT v FROM (SELECT ${id} AS v, min(rowid) AS first FROM ${table} WHERE ${id} IS NOT NULL GROUP BY ${id}) ORDER BY first`;
      const dictionary = (await connection.runAndReadAll(firstSeen)).getRowObjectsJS().map((r) => String(r.v));
      dictionaries[c] = dictionary;
      if (!dictionary.length) {
        exprs.push('CAST(NULL AS INTEGER)');
        continue;
      }
      const enumType = `__read_columns_enum_${c}`;
      await connection.run(`CREATE OR REPLACE TYPE ${enumType} AS ENUM (${firstSeen})`);
      exprs.push(`CAST(enum_code(CAST(${id} AS ${enumType})) AS INTEGER)`);
    }
    const columns: Column[] = types.map((type, c) =>
      type === 'num' ? { kind: 'f64', values: new Float64Array(rows) } : { kind: 'dict', codes: new Int32Array(rows), dictionary: dictionaries[c]! },
    );
    const result = await connection.stream(`SELECT ${exprs.join(', ')} FROM ${table}`); // insertion (file) order
    let at = 0;
    for await (const chunk of result) {
      const count = chunk.rowCount;
      if (at + count > rows) throw new Error(`read ${at + count} rows of a table of ${rows}`);
      columns.forEach((column, c) => {
        if (column.kind === 'f64') copyDoubles(chunk, c, column.values, at);
        else if (column.kind === 'dict') copyInt32s(chunk, c, column.codes, at);
      });
      at += count;
    }
    return { columns, rows };
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${table}`);
  }
}
