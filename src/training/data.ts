/**
 * The training data: the point-in-time dataset (built by the offline store, or an existing one
 * with its manifest), its columns, the label, and the split. Every check that can fail on the
 * data (label missing or of the wrong type, one class, an empty split) runs here, before any
 * training starts, as FRESCO_ERR_DATA_INVALID naming the file and the column.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { buildDataset, type DatasetManifest } from '../offline/dataset-builder.js';
import { type ColumnTable, readColumns } from '../offline/read-columns.js';
import type { Column } from '../plan/types.js';
import type { FeatureSchema, FieldType } from '../features/schema.js';
import { loadProject } from '../features/project.js';
import { featureSchemaFromDefinitions } from '../features/feature-schema-from-definitions.js';
import { seededRandom } from '../util/seeded-random.js';
import type { TrainConfig } from './config.js';

export interface ResolvedDataset {
  file: string;
  manifest: DatasetManifest;
  /** True when this run built it. */
  built: boolean;
}

const dataError = (message: string, file?: string, key?: string) =>
  new FrescoError('FRESCO_ERR_DATA_INVALID', message, { location: { ...(file ? { file } : {}), ...(key ? { key } : {}) } });

export function readDatasetManifest(file: string): DatasetManifest {
  const path = `${file}.manifest.json`;
  if (!existsSync(path)) throw dataError(`${file}: no dataset manifest (${path}); build the dataset with the offline store (fresco dataset build) so its lineage is known`, file);
  return JSON.parse(readFileSync(path, 'utf8')) as DatasetManifest;
}

/** Builds the config's dataset point-in-time (or takes the named, already built one). */
export async function resolveDataset(config: TrainConfig, log: (line: string) => void, outOverride?: string): Promise<ResolvedDataset> {
  const d = config.dataset;
  if ('file' in d) {
    const file = resolve(config.baseDir, d.file);
    if (!existsSync(file)) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no such dataset`, { location: { file: config.file, key: 'dataset.file' } });
    return { file, manifest: readDatasetManifest(file), built: false };
  }
  const out = outOverride ?? resolve(config.projectDir, d.out ?? join('.fresco', 'training', `${config.name}.parquet`));
  mkdirSync(dirname(out), { recursive: true });
  const result = await buildDataset({ project: config.projectDir, labels: resolve(config.baseDir, d.labels), timestamp: d.timestamp, features: d.features, out, log });
  return { file: result.out, manifest: result.manifest, built: true };
}

const DSL_TYPE: [RegExp, FieldType['type']][] = [
  [/^(TIMESTAMP.*|DATE)$/i, 'timestamp'],
  [/^BOOL(EAN)?$/i, 'bool'],
  [/^(VARCHAR|STRING|TEXT)$/i, 'string'],
  [/^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|INT32|INT64)$/i, 'int'],
];

/**
 * The DSL schema of a dataset: the project's feature tables (at the versions the dataset was built
 * from) and, as request fields, the label file's own columns except the label itself (a spec that
 * reads the label would leak it).
 */
export function datasetSchema(projectDir: string, manifest: DatasetManifest, label: string): FeatureSchema {
  const featureColumns = new Set(manifest.features.map((f) => f.column));
  const request: FeatureSchema['request'] = {};
  for (const c of manifest.output.columns) {
    if (featureColumns.has(c.name) || c.name === label) continue;
    request[c.name] = { type: DSL_TYPE.find(([re]) => re.test(c.type))?.[1] ?? 'float', nullable: true };
  }
  return featureSchemaFromDefinitions(loadProject(projectDir).definitions, manifest.versions, request);
}

export async function readTrainingColumns(file: string, columns: string[], manifest: DatasetManifest, label: string): Promise<ColumnTable> {
  if (!manifest.output.columns.some((c) => c.name === label)) {
    throw dataError(`${file}: the label column "${label}" is not in the dataset; columns: ${manifest.output.columns.map((c) => c.name).join(', ')}`, file, label);
  }
  return readColumns(file, { columns: [...new Set(columns)] });
}

function numericValues(table: ColumnTable, name: string, file: string, what: string): Float64Array {
  const i = table.names.indexOf(name);
  const column = table.columns[i];
  if (!column) throw dataError(`${file}: no ${what} column "${name}"`, file, name);
  if (table.types[i] !== 'num') throw dataError(`${file}: the ${what} column "${name}" is a string; it must be numeric or boolean`, file, name);
  const out = new Float64Array(table.rows);
  const c = column as Exclude<Column, { kind: 'dict' | 'utf8' }>;
  for (let r = 0; r < table.rows; r++) {
    const valid = c.validity === undefined || ((c.validity[r >> 3] as number) >> (r & 7)) & 1;
    out[r] = valid ? Number(c.values[r]) : NaN;
  }
  return out;
}

/** The label as numbers; binary labels must be 0/1 (or booleans) and never missing. */
export function labelValues(table: ColumnTable, label: string, task: TrainConfig['task'], file: string): Float64Array {
  const y = numericValues(table, label, file, 'label');
  let missing = 0;
  let bad: number | undefined;
  for (const v of y) {
    if (Number.isNaN(v)) missing++;
    else if (task === 'binary' && v !== 0 && v !== 1) bad ??= v;
  }
  if (missing) throw dataError(`${file}: the label column "${label}" is missing in ${missing} of ${y.length} rows; drop those rows from the label file`, file, label);
  if (bad !== undefined) throw dataError(`${file}: the label column "${label}" has the value ${bad}; a binary label must be 0/1 or a boolean`, file, label);
  return y;
}

export interface Split {
  train: Int32Array;
  valid: Int32Array;
  test: Int32Array;
  /** How the rows were split, for the report and the registry. */
  description: string;
  /** Time split: the first test time and the first validation time (epoch ms). */
  testFrom?: number;
  validFrom?: number;
}

/** Train on the past, validate on the recent past, test on the future (or a seeded shuffle). */
export function splitRows(table: ColumnTable, config: TrainConfig, timeColumn: string, file: string): Split {
  const n = table.rows;
  const s = config.split;
  if (n === 0) throw dataError(`${file}: the dataset has no rows`, file);
  if (s.by === 'random') {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const random = seededRandom(config.seed);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    const nTest = Math.round(n * (s.test_fraction ?? 0.2));
    const nValid = Math.round((n - nTest) * s.validation_fraction);
    const split = { train: order.slice(0, n - nTest - nValid).sort(), valid: order.slice(n - nTest - nValid, n - nTest).sort(), test: order.slice(n - nTest).sort(), description: `random (seed ${config.seed})` };
    checkSplit(split, file);
    return split;
  }
  const time = numericValues(table, timeColumn, file, 'time');
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => (time[a] as number) - (time[b] as number) || a - b);
  if (Number.isNaN(time[order[n - 1] as number] as number)) throw dataError(`${file}: the time column "${timeColumn}" has missing values`, file, timeColumn);
  // Cut points fall between distinct times: rows with equal times are never split apart.
  const firstAtOrAfter = (t: number, hi: number) => {
    let lo = 0;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((time[order[mid] as number] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const testFrom = s.test_from !== undefined ? Date.parse(s.test_from) : (time[order[Math.min(n - 1, Math.floor(n * (1 - (s.test_fraction ?? 0.2))))] as number] as number);
  const testStart = firstAtOrAfter(testFrom, n);
  const validFrom = time[order[Math.min(testStart, Math.floor(testStart * (1 - s.validation_fraction)))] as number] as number;
  const validStart = testStart === 0 ? 0 : firstAtOrAfter(validFrom, testStart);
  const sorted = (a: Int32Array) => a.slice().sort();
  const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : String(t));
  const split: Split = {
    train: sorted(order.slice(0, validStart)),
    valid: sorted(order.slice(validStart, testStart)),
    test: sorted(order.slice(testStart)),
    description: `time on "${timeColumn}": train before ${iso(validFrom)}, validate until ${iso(testFrom)}, test from ${iso(testFrom)}`,
    testFrom,
    validFrom,
  };
  checkSplit(split, file);
  return split;
}

function checkSplit(split: Split, file: string): void {
  for (const part of ['train', 'valid', 'test'] as const) {
    if (split[part].length === 0) {
      const name = part === 'valid' ? 'validation' : part;
      throw dataError(`${file}: the ${name} split is empty (${split.description}); adjust split.test_fraction, split.test_from or split.validation_fraction`, file, 'split');
    }
  }
}

/** Rows `index` of every column (for fitting the spec on the training rows only). */
export function takeRows(table: ColumnTable, index: Int32Array): ColumnTable {
  const n = index.length;
  const bits = (validity: Uint8Array | undefined) => {
    if (!validity) return undefined;
    const out = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      const r = index[i] as number;
      if (((validity[r >> 3] as number) >> (r & 7)) & 1) out[i >> 3] = (out[i >> 3] as number) | (1 << (i & 7));
    }
    return out;
  };
  const columns = table.columns.map((c): Column => {
    switch (c.kind) {
      case 'dict':
        return { kind: 'dict', codes: Int32Array.from(index, (r) => c.codes[r] as number), dictionary: c.dictionary };
      case 'utf8': {
        const offsets = new Int32Array(n + 1);
        for (let i = 0; i < n; i++) offsets[i + 1] = (offsets[i] as number) + ((c.offsets[(index[i] as number) + 1] as number) - (c.offsets[index[i] as number] as number));
        const data = new Uint8Array(offsets[n] as number);
        for (let i = 0; i < n; i++) data.set(c.data.subarray(c.offsets[index[i] as number], c.offsets[(index[i] as number) + 1]), offsets[i]);
        const validity = bits(c.validity);
        return { kind: 'utf8', offsets, data, ...(validity ? { validity } : {}) };
      }
      default: {
        const src = c.values;
        const values = new (src.constructor as new (n: number) => typeof src)(n);
        for (let i = 0; i < n; i++) values[i] = src[index[i] as number] as never;
        const validity = bits(c.validity);
        return { kind: c.kind, values, ...(validity ? { validity } : {}) } as Column;
      }
    }
  });
  return { names: table.names, types: table.types, columns, rows: n };
}

/** Rows `index` of a row-major matrix with `cols` columns. */
export function takeMatrixRows(matrix: Float32Array, cols: number, index: Int32Array): Float32Array {
  const out = new Float32Array(index.length * cols);
  for (let i = 0; i < index.length; i++) out.set(matrix.subarray((index[i] as number) * cols, ((index[i] as number) + 1) * cols), i * cols);
  return out;
}

export function takeValues(values: Float64Array, index: Int32Array): Float64Array {
  return Float64Array.from(index, (r) => values[r] as number);
}
