/**
 * Registers lake files in the engine as relations: sources (with their field mapping), label
 * files and entity files. HDF5 files are streamed into engine tables; Parquet and CSV are scanned
 * in place. Also checks that the columns a pipeline needs exist with usable types, naming the
 * file and the column when they do not.
 */
import { extname } from 'node:path';
import { FrescoError } from '../errors/index.js';
import type { FeatureType } from '../features/definition-schema.js';
import type { Source } from '../features/definitions.js';
import type { Engine } from './engine.js';
import { expandFiles } from './files.js';
import { loadHdf5IntoDuckDb } from './hdf5-lake.js';
import type { SqlDialect } from './sql-dialect.js';

export interface Relation {
  /** Engine relation name (a view or table). */
  name: string;
  /** What it was read from (for messages and manifests). */
  path: string;
  files: string[];
  /** column -> DuckDB type. */
  columns: Map<string, string>;
  /**
   * CSV columns of times with a UTC offset (`2024-01-01T12:00:00+02:00`), kept as their text
   * (VARCHAR) when asked with `keepZonedText`: a TIMESTAMPTZ holds the instant but not the offset.
   */
  zonedText?: string[];
}

export function fileFormat(path: string): 'parquet' | 'csv' | 'h5' {
  const ext = extname(path.replace(/[*?]+$/, '')).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.csv') return 'csv';
  if (ext === '.h5' || ext === '.hdf5') return 'h5';
  throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${path}: unsupported file type "${ext}"; expected .parquet, .csv or .h5`, { location: { file: path } });
}

/** Reads `path` (file or glob) as relation `name`. `rename` maps file columns to new names. */
export async function registerFile(
  engine: Engine,
  dialect: SqlDialect,
  args: { name: string; path: string; what: string; group?: string; rename?: Record<string, string>; keepZonedText?: boolean },
): Promise<Relation> {
  const format = fileFormat(args.path);
  const files = await expandFiles(engine, args.path, args.what);
  const q = (s: string) => dialect.ident(s);
  let scan: string;
  if (format === 'h5') {
    const parts: string[] = [];
    for (const [i, file] of files.entries()) {
      const table = `${args.name}__h5_${i}`;
      await loadHdf5IntoDuckDb(engine, file, table, args.group);
      parts.push(`SELECT * FROM ${q(table)}`);
    }
    scan = `(${parts.join(' UNION ALL BY NAME ')})`;
  } else {
    scan = dialect.scanFile(args.path, format);
  }
  let columns: Map<string, string>;
  try {
    columns = await engine.describe(scan);
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${args.path}: cannot read it (${args.what}): ${(error as Error).message.split('\n')[0]}`, {
      location: { file: args.path },
      cause: error,
    });
  }
  // Label columns come back unchanged: a CSV's zoned times are read as text, not as UTC instants.
  const zonedText = format === 'csv' && args.keepZonedText ? [...columns].filter(([, t]) => t === 'TIMESTAMP WITH TIME ZONE').map(([c]) => c) : [];
  if (zonedText.length) {
    scan = dialect.scanFile(args.path, 'csv', zonedText);
    columns = await engine.describe(scan);
  }
  const rename = Object.entries(args.rename ?? {});
  for (const [from] of rename) {
    if (!columns.has(from)) throw missingColumn(args.path, from, columns, `field_mapping of ${args.what}`);
  }
  const select = rename.length ? `* RENAME (${rename.map(([from, to]) => `${q(from)} AS ${q(to)}`).join(', ')})` : '*';
  await engine.run(`CREATE OR REPLACE VIEW ${q(args.name)} AS SELECT ${select} FROM ${scan}`);
  return { name: args.name, path: args.path, files, columns: await engine.describe(q(args.name)), ...(zonedText.length ? { zonedText } : {}) };
}

export function registerSource(engine: Engine, dialect: SqlDialect, source: Source, name: string): Promise<Relation> {
  return registerFile(engine, dialect, {
    name,
    path: source.resolvedPath,
    what: `source "${source.name}"`,
    ...(source.group ? { group: source.group } : {}),
    rename: source.fieldMapping,
  });
}

export function missingColumn(file: string, column: string, columns: Map<string, string>, role: string): FrescoError {
  return new FrescoError('FRESCO_ERR_DATA_INVALID', `${file}: no column "${column}" (${role}); columns: ${[...columns.keys()].join(', ')}`, {
    location: { file, key: column },
  });
}

const TEMPORAL = /^(DATE|TIMESTAMP.*)$/;
const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*)$/;

export type ColumnKind = 'temporal' | 'numeric' | 'string' | 'bool' | 'key';

export function columnKind(duckType: string): ColumnKind | 'other' {
  if (TEMPORAL.test(duckType)) return 'temporal';
  if (NUMERIC.test(duckType)) return 'numeric';
  if (duckType === 'VARCHAR') return 'string';
  if (duckType === 'BOOLEAN') return 'bool';
  return 'other';
}

/** Requires `column` in `relation` with a type that fits `want`. */
export function requireColumn(relation: Pick<Relation, 'path' | 'columns'>, column: string, want: ColumnKind, role: string): string {
  const type = relation.columns.get(column);
  if (type === undefined) throw missingColumn(relation.path, column, relation.columns, role);
  const kind = columnKind(type);
  const ok =
    want === 'key' ? kind === 'numeric' || kind === 'string' : want === 'numeric' ? kind === 'numeric' || kind === 'bool' : kind === want;
  if (!ok) {
    const expected = { temporal: 'a DATE or TIMESTAMP', numeric: 'a number', string: 'a string', bool: 'a boolean', key: 'a string or integer' }[want];
    throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${relation.path}: column "${column}" (${role}) has type ${type}; expected ${expected}`, {
      location: { file: relation.path, key: column },
    });
  }
  return type;
}

/** The column kind a feature of type `type` may be read from. */
export function kindForFeature(type: FeatureType): ColumnKind {
  if (type === 'string') return 'string';
  if (type === 'timestamp') return 'temporal';
  if (type === 'bool') return 'bool';
  return 'numeric';
}

export const SQL_TYPES: Record<FeatureType, string> = {
  float32: 'FLOAT',
  float64: 'DOUBLE',
  int32: 'INTEGER',
  int64: 'BIGINT',
  bool: 'BOOLEAN',
  string: 'VARCHAR',
  timestamp: 'TIMESTAMP',
};
