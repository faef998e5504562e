/**
 * HDF5 as a lake format (docs/lake-hdf5.md). Layout Fresco reads and writes:
 *
 *   /<table>                 group; attrs fresco_format="fresco.table", fresco_version=1,
 *                            fresco_columns=JSON list of column names in order, rows=<n>
 *   /<table>/<column>        1-D dataset, one per column, all of the same length; attr fresco_type
 *                            (float64 float32 int64 int32 int16 int8 uint8 bool string timestamp)
 *   /<table>/_dict/<column>  string columns: the dictionary (variable-length UTF-8); the column
 *                            itself holds int32 codes into it
 *   /<table>/_nulls/<column> optional uint8 mask, 1 = null, for columns that have nulls
 *
 * Timestamps are int64 microseconds since the Unix epoch, UTC. Files written by other tools are
 * read too: a group of equal-length 1-D numeric or string datasets, types taken from the dtype.
 *
 * Reading streams slices into DuckDB through data chunks, and writing streams query result chunks
 * into resizable chunked datasets, so a whole file is never held in JavaScript memory.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBDataChunk,
  FLOAT,
  INTEGER,
  SMALLINT,
  TIMESTAMP,
  TINYINT,
  UTINYINT,
  VARCHAR,
  type DuckDBType,
} from '@duckdb/node-api';
import h5wasm, { type Dataset, type Group } from 'h5wasm/node';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { FrescoError } from '../errors/index.js';
import type { Engine } from './engine.js';

export type Hdf5ColumnType = 'float64' | 'float32' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool' | 'string' | 'timestamp';

const DUCK_TYPES: Record<Hdf5ColumnType, DuckDBType> = {
  float64: DOUBLE,
  float32: FLOAT,
  int64: BIGINT,
  int32: INTEGER,
  int16: SMALLINT,
  int8: TINYINT,
  uint8: UTINYINT,
  bool: BOOLEAN,
  string: VARCHAR,
  timestamp: TIMESTAMP,
};

/** Rows per HDF5 slice read or written. */
const SLICE_ROWS = 65_536;
/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

let ready: Promise<unknown> | undefined;
export async function h5(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready;
  await ready;
  return h5wasm;
}

function bad(file: string, message: string, column?: string, cause?: unknown): FrescoError {
  return new FrescoError('FRESCO_ERR_DATA_INVALID', `${file}: ${column ? `column "${column}": ` : ''}${message}`, {
    location: { file, ...(column ? { key: column } : {}) },
    ...(cause ? { cause } : {}),
  });
}

export interface Hdf5ColumnInfo {
  name: string;
  type: Hdf5ColumnType;
  /** Dictionary-encoded string column (Fresco layout) rather than a variable-length string dataset. */
  dictionary: boolean;
  nullMask: boolean;
}

export interface Hdf5TableInfo {
  file: string;
  group: string;
  rows: number;
  columns: Hdf5ColumnInfo[];
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5's superblock signature sits at offset 0, 512, 1024, 2048... (after a user block). */
function hasHdf5Signature(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(8);
    for (let offset = 0; offset <= 1 << 20; offset = offset ? offset * 2 : 512) {
      if (readSync(fd, buffer, 0, 8, offset) < 8) return false;
      if (buffer.equals(SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

function openFile(lib: typeof h5wasm, file: string): InstanceType<typeof h5wasm.File> {
  if (!existsSync(file)) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no such file`, { location: { file } });
  // h5wasm does not throw on a file that is not HDF5 (it fails later, obscurely): check first.
  if (!hasHdf5Signature(file)) throw bad(file, 'not a readable HDF5 file (no HDF5 signature)');
  try {
    return new lib.File(file, 'r');
  } catch (error) {
    throw bad(file, `not a readable HDF5 file (${(error as Error).message})`, undefined, error);
  }
}

function typeFromDtype(file: string, name: string, ds: Dataset): Hdf5ColumnType {
  const m = ds.metadata;
  if (m.type === 3) return 'string'; // H5T_STRING
  if (m.type === 1) return m.size === 8 ? 'float64' : m.size === 4 ? 'float32' : badType();
  if (m.type === 0) {
    if (!m.signed) return m.size === 1 ? 'uint8' : badType();
    return ({ 8: 'int64', 4: 'int32', 2: 'int16', 1: 'int8' } as const)[m.size as 8 | 4 | 2 | 1] ?? badType();
  }
  return badType();
  function badType(): never {
    throw bad(file, `unsupported HDF5 datatype ${JSON.stringify(ds.dtype)}; expected numbers or strings`, name);
  }
}

function stringAttr(node: { attrs: Record<string, { value: unknown }> }, name: string): string | undefined {
  const v = node.attrs[name]?.value;
  return typeof v === 'string' ? v : undefined;
}

/** Which group holds the table: the one named, else the only group at the root, else the root. */
function pickGroup(file: string, f: Group, group: string | undefined): { path: string; node: Group } {
  if (group) {
    const node = f.get(group);
    if (!node || node.constructor.name !== 'Group') throw bad(file, `no group "${group}"; groups: ${f.keys().join(', ') || '(none)'}`);
    return { path: group, node: node as Group };
  }
  const groups = f.keys().filter((k) => f.get(k)?.constructor.name === 'Group');
  if (groups.length === 1) return { path: groups[0]!, node: f.get(groups[0]!) as Group };
  if (groups.length > 1) throw bad(file, `holds several tables (${groups.join(', ')}); name one with group:`);
  return { path: '/', node: f };
}

function inspect(file: string, f: InstanceType<typeof h5wasm.File>, group: string | undefined): { info: Hdf5TableInfo; node: Group } {
  const { path, node } = pickGroup(file, f, group);
  const declared = stringAttr(node, 'fresco_columns');
  let names: string[];
  try {
    names = declared ? (JSON.parse(declared) as string[]) : node.keys().filter((k) => node.get(k)?.constructor.name === 'Dataset');
  } catch (error) {
    throw bad(file, `group "${path}": attribute fresco_columns is not a JSON list`, undefined, error);
  }
  if (!names.length) throw bad(file, `group "${path}" holds no column datasets`);
  let rows = -1;
  const columns = names.map((name) => {
    const ds = node.get(name);
    if (!ds || ds.constructor.name !== 'Dataset') throw bad(file, `no dataset for column in group "${path}"`, name);
    const dataset = ds as Dataset;
    const shape = dataset.shape;
    if (!shape || shape.length !== 1) throw bad(file, `must be a 1-D dataset, has shape ${JSON.stringify(shape)}`, name);
    if (rows >= 0 && shape[0] !== rows) throw bad(file, `has ${shape[0]} rows where earlier columns have ${rows}`, name);
    rows = shape[0]!;
    const declaredType = stringAttr(dataset, 'fresco_type') as Hdf5ColumnType | undefined;
    if (declaredType && !(declaredType in DUCK_TYPES)) throw bad(file, `unknown fresco_type "${declaredType}"`, name);
    const dictionary = node.get(`_dict/${name}`)?.constructor.name === 'Dataset';
    const type = declaredType ?? typeFromDtype(file, name, dataset);
    if (type === 'string' && !dictionary && dataset.metadata.type !== 3) throw bad(file, 'declared string but holds neither strings nor dictionary codes', name);
    return { name, type, dictionary, nullMask: node.get(`_nulls/${name}`)?.constructor.name === 'Dataset' };
  });
  return { info: { file, group: path, rows, columns }, node };
}

export async function describeHdf5(file: string, group?: string): Promise<Hdf5TableInfo> {
  const lib = await h5();
  const f = openFile(lib, file);
  try {
    return inspect(file, f, group).info;
  } finally {
    f.close();
  }
}

export function duckTypeName(type: Hdf5ColumnType): string {
  return DUCK_TYPES[type].toString();
}

/**
 * Streams an HDF5 table into a new DuckDB table `table`, slice by slice. Returns the rows loaded.
 */
export async function loadHdf5IntoDuckDb(engine: Engine, file: string, table: string, group?: string): Promise<Hdf5TableInfo> {
  const lib = await h5();
  const f = openFile(lib, file);
  try {
    const { info, node } = inspect(file, f, group);
    const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
    await engine.run(`CREATE OR REPLACE TABLE ${q(table)} (${info.columns.map((c) => `${q(c.name)} ${duckTypeName(c.type)}`).join(', ')})`);
    const appender = await engine.connection.createAppender(table);
    const types = info.columns.map((c) => DUCK_TYPES[c.type]);
    const dictionaries = info.columns.map((c) => (c.dictionary ? ((node.get(`_dict/${c.name}`) as Dataset).value as string[]) : undefined));
    const datasets = info.columns.map((c) => node.get(c.name) as Dataset);
    const masks = info.columns.map((c) => (c.nullMask ? (node.get(`_nulls/${c.name}`) as Dataset) : undefined));
    try {
      for (let start = 0; start < info.rows; start += SLICE_ROWS) {
        const end = Math.min(info.rows, start + SLICE_ROWS);
        const slices = datasets.map((ds, c) => {
          try {
            return ds.slice([[start, end]]) as ArrayLike<unknown>;
          } catch (error) {
            throw bad(file, `cannot read rows ${start}..${end}: ${(error as Error).message}`, info.columns[c]!.name, error);
          }
        });
        const nulls = masks.map((m) => (m ? (m.slice([[start, end]]) as Uint8Array) : undefined));
        for (let at = 0; at < end - start; at += CHUNK_ROWS) {
          const n = Math.min(CHUNK_ROWS, end - start - at);
          const chunk = DuckDBDataChunk.create(types, n);
          info.columns.forEach((column, c) => {
            const vector = chunk.getColumnVector(c) as unknown as { setItem(i: number, v: unknown): void; flush(): void };
            const values = slices[c]!;
            const mask = nulls[c];
            const dict = dictionaries[c];
            for (let i = 0; i < n; i++) {
              const r = at + i;
              if (mask && mask[r]) {
                vector.setItem(i, null);
                continue;
              }
              const v = values[r];
              switch (column.type) {
                case 'timestamp':
                  vector.setItem(i, { micros: typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v))) });
                  break;
                case 'bool':
                  vector.setItem(i, Boolean(v));
                  break;
                case 'int64':
                  vector.setItem(i, typeof v === 'bigint' ? v : BigInt(v as number));
                  break;
                case 'string':
                  vector.setItem(i, dict ? ((v as number) < 0 ? null : (dict[v as number] ?? null)) : v);
                  break;
                default:
                  vector.setItem(i, v);
              }
            }
            vector.flush();
          });
          appender.appendDataChunk(chunk);
        }
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    return info;
  } finally {
    f.close();
  }
}

function h5TypeOf(duckType: string): Hdf5ColumnType | undefined {
  const t = duckType.toUpperCase();
  if (t === 'DOUBLE' || t.startsWith('DECIMAL') || t === 'HUGEINT' || t === 'UBIGINT') return 'float64';
  if (t === 'FLOAT') return 'float32';
  if (t === 'BIGINT' || t === 'UINTEGER') return 'int64';
  if (t === 'INTEGER' || t === 'USMALLINT') return 'int32';
  if (t === 'SMALLINT' || t === 'UTINYINT') return 'int16';
  if (t === 'TINYINT') return 'int8';
  if (t === 'BOOLEAN') return 'bool';
  if (t === 'VARCHAR') return 'string';
  if (t === 'DATE' || t.startsWith('TIMESTAMP')) return 'timestamp';
  return undefined;
}

const ARRAYS = {
  float64: Float64Array,
  float32: Float32Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
  string: Int32Array,
  timestamp: BigInt64Array,
} as const;

/** Storage dtype per column type (string columns store int32 dictionary codes). */
const DTYPES: Record<Hdf5ColumnType, string> = {
  float64: '<d',
  float32: '<f',
  int64: '<q',
  int32: '<i',
  int16: '<h',
  int8: '|b',
  uint8: '|B',
  bool: '|B',
  string: '<i',
  timestamp: '<q',
};

/**
 * Runs `query` and streams its result into `group` of a new HDF5 file `file` (which must not be
 * the final name: callers write to a temporary name and rename). Returns rows written.
 */
export async function writeHdf5FromQuery(engine: Engine, query: string, file: string, group: string): Promise<{ rows: number; columns: { name: string; type: Hdf5ColumnType }[] }> {
  const schema = await engine.describe(`(${query})`);
  const columns = [...schema].map(([name, duckType]) => {
    const type = h5TypeOf(duckType);
    if (!type) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `column "${name}" has type ${duckType}, which the HDF5 lake cannot store`, { location: { file, key: name } });
    return { name, type, duckType };
  });
  const lib = await h5();
  const f = new lib.File(file, 'w');
  try {
    const g = f.create_group(group, true);
    g.create_attribute('fresco_format', 'fresco.table');
    g.create_attribute('fresco_version', 1);
    g.create_attribute('fresco_columns', JSON.stringify(columns.map((c) => c.name)));
    const datasets = columns.map((c) => {
      const ds = g.create_dataset({ name: c.name, data: new ARRAYS[c.type](0), shape: [0], maxshape: [null], chunks: [SLICE_ROWS], dtype: DTYPES[c.type] });
      ds.create_attribute('fresco_type', c.type);
      if (c.type === 'timestamp') ds.create_attribute('unit', 'us');
      return ds;
    });
    const dicts = columns.map(() => new Map<string, number>());
    const nullSets: (Dataset | undefined)[] = columns.map(() => undefined);
    const buffers = columns.map((c) => new ARRAYS[c.type](SLICE_ROWS));
    const maskBuffers = columns.map(() => new Uint8Array(SLICE_ROWS));
    const hasNull = columns.map(() => false);
    let filled = 0;
    let written = 0;
    const flush = () => {
      if (!filled) return;
      columns.forEach((c, j) => {
        datasets[j]!.resize([written + filled]);
        datasets[j]!.write_slice([[written, written + filled]], buffers[j]!.subarray(0, filled));
        if (hasNull[j]) {
          if (!nullSets[j]) {
            const nulls = (g.get('_nulls') as Group | null) ?? g.create_group('_nulls');
            nullSets[j] = nulls.create_dataset({ name: c.name, data: new Uint8Array(0), shape: [0], maxshape: [null], chunks: [SLICE_ROWS], dtype: '|B' });
          }
          nullSets[j]!.resize([written + filled]);
          nullSets[j]!.write_slice([[written, written + filled]], maskBuffers[j]!.subarray(0, filled));
        } else if (nullSets[j]) {
          nullSets[j]!.resize([written + filled]);
        }
        maskBuffers[j]!.fill(0);
        hasNull[j] = false;
      });
      written += filled;
      filled = 0;
    };
    const result = await engine.connection.stream(query);
    for await (const chunk of result) {
      const n = chunk.rowCount;
      let offset = 0;
      while (offset < n) {
        const take = Math.min(n - offset, SLICE_ROWS - filled);
        columns.forEach((c, j) => {
          const vector = chunk.getColumnVector(j);
          const buffer = buffers[j]! as unknown as { [i: number]: number | bigint };
          for (let i = 0; i < take; i++) {
            const v = vector.getItem(offset + i) as unknown;
            const at = filled + i;
            if (v === null) {
              hasNull[j] = true;
              maskBuffers[j]![at] = 1;
              buffer[at] = c.type === 'int64' || c.type === 'timestamp' ? 0n : c.type === 'string' ? -1 : c.type.startsWith('float') ? NaN : 0;
              continue;
            }
            switch (c.type) {
              case 'timestamp':
                buffer[at] = c.duckType === 'DATE' ? BigInt((v as { days: number }).days) * 86_400_000_000n : (v as { micros: bigint }).micros;
                break;
              case 'string': {
                const dict = dicts[j]!;
                let code = dict.get(v as string);
                if (code === undefined) dict.set(v as string, (code = dict.size));
                buffer[at] = code;
                break;
              }
              case 'bool':
                buffer[at] = v ? 1 : 0;
                break;
              case 'int64':
                buffer[at] = typeof v === 'bigint' ? v : BigInt(v as number);
                break;
              default:
                buffer[at] = typeof v === 'bigint' ? Number(v) : typeof v === 'object' ? Number(String(v)) : (v as number);
            }
          }
        });
        filled += take;
        offset += take;
        if (filled === SLICE_ROWS) flush();
      }
    }
    flush();
    const dictGroup = columns.some((c) => c.type === 'string') ? g.create_group('_dict') : undefined;
    columns.forEach((c, j) => {
      if (c.type !== 'string') return;
      const values = [...dicts[j]!.keys()];
      // h5wasm cannot write an empty variable-length string dataset; one placeholder entry is never referenced.
      dictGroup!.create_dataset({ name: c.name, data: values.length ? values : [''] });
    });
    g.create_attribute('rows', written);
    return { rows: written, columns: columns.map(({ name, type }) => ({ name, type })) };
  } finally {
    f.close();
  }
}
