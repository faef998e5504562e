/** `fresco lake import`: converts CSV or Parquet (or HDF5) files into the HDF5 lake layout. */
import { existsSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { removeLeftoverTemporariesOf } from '../util/leftovers.js';
import { openEngine } from './engine.js';
import { commitFiles, discard, temporaryPath } from './files.js';
import { writeHdf5FromQuery, type Hdf5ColumnType } from './hdf5-lake.js';
import { registerFile } from './sources.js';
import { DuckDbDialect } from './sql-dialect.js';

export interface LakeImportResult {
  input: string;
  out: string;
  group: string;
  rows: number;
  columns: { name: string; type: Hdf5ColumnType }[];
  ms: number;
}

export async function importToHdf5(input: string, out: string, options: { group?: string; inputGroup?: string } = {}): Promise<LakeImportResult> {
  const started = performance.now();
  const target = resolve(out);
  if (!['.h5', '.hdf5'].includes(extname(target).toLowerCase())) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${out}: the lake file must end in .h5`, { location: { file: out } });
  }
  if (existsSync(target) && statSync(target).isDirectory()) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${out} is a folder`, { location: { file: out } });
  const group = options.group ?? basename(input).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_]/g, '_');
  const dialect = new DuckDbDialect();
  // An import killed with SIGKILL leaves its temporary beside the target: the next import of it
  // removes those of dead processes (util/leftovers.ts).
  removeLeftoverTemporariesOf(target);
  const engine = await openEngine();
  const tmp = temporaryPath(target);
  try {
    const relation = await registerFile(engine, dialect, { name: '__fresco_import', path: resolve(input), what: 'import', ...(options.inputGroup ? { group: options.inputGroup } : {}) });
    const written = await writeHdf5FromQuery(engine, `SELECT * FROM ${dialect.ident(relation.name)}`, tmp, group);
    commitFiles([{ tmp, final: target }]);
    return { input, out: target, group, rows: written.rows, columns: written.columns, ms: performance.now() - started };
  } finally {
    discard([tmp]);
    engine.close();
  }
}
