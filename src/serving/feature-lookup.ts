/**
 * How a `dataframe` model's features are found for a request's entity keys: the online store
 * (online-lookup.ts) implements this interface, and InMemoryFeatureLookup serves development and
 * benchmarks.
 *
 * Plan input names (docs/serving.md): `request.<field>` or a plain name without a dot is a
 * request field; `<table>.<feature>` is a feature looked up by entity keys.
 *
 * Columnar: a lookup writes the values into a FeatureBlock (typed arrays, rows x features), not
 * one Map per row. The serving path hands the block its own input matrix, so looked-up values
 * land where the plan reads them, with no object per row or per value in between.
 */
import { FrescoError } from '../errors/index.js';
import type { Scalar } from './protocol/messages.js';

/** What a block's cell holds (`FeatureBlock.tags`). */
export const TAG_NULL = 0;
export const TAG_NUMBER = 1;
export const TAG_BOOL = 2;
export const TAG_STRING = 3;

/**
 * What the lookup found for a row's entity in a table (`FeatureBlock.states`), Feast's statuses:
 * present, missing (no row for the entity: NOT_FOUND) and expired (a row older than the table's
 * TTL: OUTSIDE_MAX_AGE). Missing and expired rows give null features.
 */
export const FEATURES_PRESENT = 0;
export const FEATURES_MISSING = 1;
export const FEATURES_EXPIRED = 2;

/**
 * The values of `width` features for `rows` rows. Cell (r, i) lives at `r * stride + column[i]`
 * of `values` (the number: booleans 0/1, timestamps ms since the epoch, NaN for null and for a
 * string) and `tags` (TAG_*), and a string at the same index of `strings`. Every cell starts null.
 * A row can fail instead (`fail`): a missing or malformed entity key.
 */
export class FeatureBlock {
  readonly values: Float64Array;
  readonly tags: Uint8Array;
  /** Only the cells tagged TAG_STRING are set (allocated on the first string). */
  strings: (string | null)[] | undefined;
  errors: (FrescoError | undefined)[] | undefined;
  /**
   * Per row and table (`rows x tableCount`, row-major): FEATURES_* of the row's entity in that
   * table. Undefined while every entity was present: allocated by the first `mark`, so the
   * common answer costs nothing.
   */
  states: Uint8Array | undefined;
  readonly stride: number;
  readonly column: Int32Array;
  /** Feature i's table (its index among the block's tables). */
  readonly tableOf: Int32Array;
  readonly tableCount: number;

  /**
   * `column` maps feature i to its column (default: i, stride = width), to share a wider matrix.
   * `tables` groups the features by table for `states` (default: each feature its own).
   */
  constructor(readonly rows: number, readonly width: number, shared?: { values: Float64Array; tags: Uint8Array; stride: number; column: Int32Array }, tables?: { of: Int32Array; count: number }) {
    this.tableOf = tables?.of ?? Int32Array.from({ length: width }, (_, i) => i);
    this.tableCount = tables?.count ?? width;
    if (shared) {
      this.values = shared.values;
      this.tags = shared.tags;
      this.stride = shared.stride;
      this.column = shared.column;
    } else {
      this.values = new Float64Array(rows * width).fill(NaN);
      this.tags = new Uint8Array(rows * width);
      this.stride = width;
      this.column = Int32Array.from({ length: width }, (_, i) => i);
    }
  }

  setNumber(row: number, feature: number, value: number): void {
    const at = row * this.stride + (this.column[feature] as number);
    this.values[at] = value;
    this.tags[at] = TAG_NUMBER;
  }

  setBool(row: number, feature: number, value: boolean): void {
    const at = row * this.stride + (this.column[feature] as number);
    this.values[at] = value ? 1 : 0;
    this.tags[at] = TAG_BOOL;
  }

  setString(row: number, feature: number, value: string): void {
    const at = row * this.stride + (this.column[feature] as number);
    this.values[at] = NaN;
    this.tags[at] = TAG_STRING;
    (this.strings ??= [])[at] = value;
  }

  setNull(row: number, feature: number): void {
    const at = row * this.stride + (this.column[feature] as number);
    this.values[at] = NaN;
    this.tags[at] = TAG_NULL;
  }

  set(row: number, feature: number, value: Scalar): void {
    if (typeof value === 'number') this.setNumber(row, feature, value);
    else if (typeof value === 'string') this.setString(row, feature, value);
    else if (typeof value === 'boolean') this.setBool(row, feature, value);
    else this.setNull(row, feature);
  }

  /** The value of cell (row, feature) as a plain scalar. */
  get(row: number, feature: number): Scalar {
    const at = row * this.stride + (this.column[feature] as number);
    switch (this.tags[at]) {
      case TAG_NUMBER:
        return this.values[at] as number;
      case TAG_BOOL:
        return this.values[at] !== 0;
      case TAG_STRING:
        return this.strings?.[at] ?? null;
      default:
        return null;
    }
  }

  /** Fails one row (the first failure of a row is kept). */
  fail(row: number, error: FrescoError): void {
    const errors = (this.errors ??= new Array<FrescoError | undefined>(this.rows).fill(undefined));
    errors[row] ??= error;
  }

  failed(row: number): boolean {
    return this.errors?.[row] !== undefined;
  }

  /** Records that the table of `feature` had no current row for `row`'s entity (FEATURES_MISSING or FEATURES_EXPIRED). */
  mark(row: number, feature: number, state: number): void {
    const states = (this.states ??= new Uint8Array(this.rows * this.tableCount));
    states[row * this.tableCount + (this.tableOf[feature] as number)] = state;
  }

  /** FEATURES_* of `feature`'s table for `row`. */
  state(row: number, feature: number): number {
    return this.states?.[row * this.tableCount + (this.tableOf[feature] as number)] ?? FEATURES_PRESENT;
  }

  /** Row by row, as feature name -> value maps (or the row's error): for tests and debugging, not the serving path. */
  toRows(features: readonly string[]): LookupRow[] {
    return Array.from({ length: this.rows }, (_, r) => this.errors?.[r] ?? new Map(features.map((f, i) => [f, this.get(r, i)])));
  }
}

/** One row's result as a map: feature name -> value, or the row's error. */
export type LookupRow = Map<string, Scalar> | FrescoError;

/** A looked-up table and the request keys that name its entity (`origin` for a table whose join key `airport` is mapped to it). */
export interface LookupTable {
  table: string;
  keys: string[];
}

export interface FeatureLookup {
  /**
   * Writes the values of `features` (`table.feature` names) for each row's entity keys into
   * `out` (rows = keys.length, feature i = features[i]; every cell starts null). A feature the
   * store does not have for that entity stays null; a missing entity key fails that row
   * (`out.fail`, FRESCO_ERR_INPUT_INVALID naming the key). The serving path passes the same
   * `features` array every time (it may be used as a cache key).
   */
  getFeatures(features: readonly string[], keys: readonly Record<string, Scalar>[], out: FeatureBlock): Promise<void> | void;
  /**
   * Optional: does, when a model version loads, the per-`features` work that getFeatures would
   * otherwise do on its first call (with a request waiting, on a path the server has optimized
   * for the versions it serves already).
   */
  prepare?(features: readonly string[]): void;
  /**
   * Optional: the tables `features` are read from and the request keys each needs, for the
   * model's metadata (what a client sends: dataframe-contract.ts). Called when a version loads.
   */
  describe?(features: readonly string[]): Promise<LookupTable[]> | LookupTable[];
}

/** The distinct tables of `table.feature` names, in order of first use, and each feature's table index. */
export function featureTables(features: readonly string[]): { names: string[]; of: Int32Array; count: number } {
  const names: string[] = [];
  const of = Int32Array.from(features, (f) => {
    const table = f.slice(0, Math.max(0, f.indexOf('.')));
    let i = names.indexOf(table);
    if (i < 0) i = names.push(table) - 1;
    return i;
  });
  return { names, of, count: names.length };
}

/** Runs a lookup into a fresh block and returns its rows as maps (tests, tools). */
export async function lookupRows(lookup: FeatureLookup, features: readonly string[], keys: readonly Record<string, Scalar>[]): Promise<LookupRow[]> {
  return (await lookupBlock(lookup, features, keys)).toRows(features);
}

/** Runs a lookup into a fresh block, its states per table (tests, tools). */
export async function lookupBlock(lookup: FeatureLookup, features: readonly string[], keys: readonly Record<string, Scalar>[]): Promise<FeatureBlock> {
  const block = new FeatureBlock(keys.length, features.length, undefined, featureTables(features));
  await lookup.getFeatures(features, keys, block);
  return block;
}

interface MemoryTable {
  key: string;
  /** Feature name -> its position in each entity's row. */
  index: Map<string, number>;
  rows: Map<string, Scalar[]>;
}

/** Features by table: each table is keyed by one entity key (`airport`) and holds rows of features. */
export class InMemoryFeatureLookup implements FeatureLookup {
  readonly #tables = new Map<string, MemoryTable>();
  /** Per feature list (the serving path passes the same array every request): its table and position. */
  readonly #plans = new WeakMap<readonly string[], { name: string; table: string; feature: string; of: MemoryTable | undefined; at: number | undefined }[]>();

  /** Adds (or replaces) a feature table keyed by entity key `key`. */
  setTable(table: string, key: string, rows: Iterable<[Scalar, Record<string, Scalar>]>): void {
    const index = new Map<string, number>();
    const entries: [string, Record<string, Scalar>][] = [];
    for (const [entity, features] of rows) {
      entries.push([String(entity), features]);
      for (const f of Object.keys(features)) if (!index.has(f)) index.set(f, index.size);
    }
    const map = new Map<string, Scalar[]>();
    for (const [entity, features] of entries) {
      const values = new Array<Scalar>(index.size).fill(null);
      for (const [f, v] of Object.entries(features)) values[index.get(f) as number] = v ?? null;
      map.set(entity, values);
    }
    this.#tables.set(table, { key, index, rows: map });
  }

  describe(features: readonly string[]): LookupTable[] {
    return featureTables(features).names.map((table) => ({ table, keys: this.#tables.has(table) ? [this.#tables.get(table)!.key] : [] }));
  }

  getFeatures(features: readonly string[], keys: readonly Record<string, Scalar>[], out: FeatureBlock): void {
    let split = this.#plans.get(features);
    if (!split) {
      split = features.map((f) => {
        const dot = f.indexOf('.');
        return { name: f, table: f.slice(0, dot), feature: f.slice(dot + 1), of: undefined as MemoryTable | undefined, at: undefined as number | undefined };
      });
      this.#plans.set(features, split);
    }
    for (let r = 0; r < keys.length; r++) {
      const rowKeys = keys[r] as Record<string, Scalar>;
      // Consecutive features of one table share the entity's row.
      let table: MemoryTable | undefined;
      let tableName = '';
      let values: Scalar[] | undefined;
      for (let i = 0; i < split.length; i++) {
        const s = split[i]!;
        if (s.table !== tableName || !table) {
          tableName = s.table;
          table = this.#tables.get(s.table);
          if (!table) {
            out.fail(r, new FrescoError('FRESCO_ERR_INPUT_INVALID', `feature table "${s.table}" is not in the online store`));
            break;
          }
          const entity = rowKeys[table.key];
          if (entity === undefined || entity === null) {
            out.fail(r, new FrescoError('FRESCO_ERR_INPUT_INVALID', `missing entity key "${table.key}" (needed for ${s.name})`, { location: { key: table.key } }));
            break;
          }
          values = table.rows.get(typeof entity === 'string' ? entity : String(entity));
          if (values === undefined) out.mark(r, i, FEATURES_MISSING);
        }
        // The feature's position, cached for the table object (setTable replaces it).
        if (s.of !== table) {
          s.of = table;
          s.at = table.index.get(s.feature);
        }
        const at = s.at;
        const v = values === undefined || at === undefined ? null : (values[at] as Scalar);
        if (v !== null) out.set(r, i, v);
      }
    }
  }
}
