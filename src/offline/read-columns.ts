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
    const result = await connection.stream(`SELECT ${selects.join(', ')} FROM ${source}${limit}`);
    return { names, types, ...(await collect(result, types)) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function collect(result: AsyncIterable<import('@duckdb/node-api').DuckDBDataChunk>, types: SlotType[]): Promise<{ columns: Column[]; rows: number }> {
  const numbers: number[][] = types.map(() => []);
  const strings = types.map(() => ({ codes: [] as number[], index: new Map<string, number>(), dictionary: [] as string[] }));
  let rows = 0;
  for await (const chunk of result) {
    const count = chunk.rowCount;
    types.forEach((type, c) => {
      const vector = chunk.getColumnVector(c);
      if (type === 'num') {
        const target = numbers[c] as number[];
        for (let i = 0; i < count; i++) {
          const v = vector.getItem(i);
          target.push(v === null ? NaN : (v as number));
        }
      } else {
        const s = strings[c]!;
        for (let i = 0; i < count; i++) {
          const v = vector.getItem(i) as string | null;
          if (v === null) {
            s.codes.push(-1);
            continue;
          }
          let code = s.index.get(v);
          if (code === undefined) {
            code = s.dictionary.length;
            s.index.set(v, code);
            s.dictionary.push(v);
          }
          s.codes.push(code);
        }
      }
    });
    rows += count;
  }
  const columns: Column[] = types.map((type, c) =>
    type === 'num'
      ? { kind: 'f64', values: Float64Array.from(numbers[c] as number[]) }
      : { kind: 'dict', codes: Int32Array.from(strings[c]!.codes), dictionary: strings[c]!.dictionary },
  );
  return { columns, rows };
}
