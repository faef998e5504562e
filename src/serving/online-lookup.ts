/**
 * The serving `FeatureLookup` over an `OnlineStore` (embedded LMDB or Redis): a dataframe model's
 * `<table>.<feature>` plan inputs are read from the store's table `<table>`, feature `<feature>`,
 * for the entity keys each request row carries (`keys[<join key>]` for every join key of the
 * table). One store read per table per request, whatever the number of rows.
 *
 * Values follow the plan's conventions (docs/plan-format.md): numbers, booleans, timestamps as ms
 * since the epoch, strings. A missing entity and an expired row (TTL, measured from now) give
 * null features: the plan's fill/coalesce decides what a null means, exactly as offline, where
 * the point-in-time join leaves the same nulls. A row without a join key, or with a key that is
 * not a string or integer, fails alone (FRESCO_ERR_INPUT_INVALID naming the key).
 *
 * The embedded store's typed-array read (`readMatrixSync`) is used when the store has it: no
 * per-row objects between the native call and the plan. Otherwise the object API (`read`).
 * The caller owns the store (opens and closes it); this class only reads.
 */
import { FrescoError } from '../errors/index.js';
import type { OnlineMatrix } from '../online/embedded-store.js';
import type { OnlineReadOptions, OnlineStore } from '../online/online-store.js';
import { encodeEntityKey, type KeyValue, type OnlineValue, type TableSchema } from '../online/row-codec.js';
import type { FeatureLookup, LookupRow } from './feature-lookup.js';
import type { Scalar } from './protocol/messages.js';

/** The embedded store's fast path, when present (checked by shape, not class). */
interface MatrixReader {
  readMatrixSync(table: string, keys: readonly string[], options?: OnlineReadOptions): OnlineMatrix;
}

function hasMatrixRead(store: OnlineStore): store is OnlineStore & MatrixReader {
  return typeof (store as Partial<MatrixReader>).readMatrixSync === 'function';
}

/** One table's share of a plan's features: `names[i]` (`table.feature`) is the store's `features[i]`. */
interface TableRequest {
  table: string;
  names: string[];
  features: string[];
}

export interface OnlineLookupOptions {
  /** The time TTLs are measured from, ms since the epoch (default: now, read once per request). */
  now?: () => number;
}

const MATRIX_PRESENT = 1;
const KIND_BOOL = 1;
const KIND_STRING = 3;

export class OnlineFeatureLookup implements FeatureLookup {
  readonly #schemas = new Map<string, TableSchema>();
  /** Per plan feature list (the preparer passes the same array every request): grouped by table. */
  readonly #groups = new WeakMap<readonly string[], TableRequest[]>();
  readonly #now: () => number;

  constructor(readonly store: OnlineStore, options: OnlineLookupOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async getFeatures(features: readonly string[], keys: readonly Record<string, Scalar>[]): Promise<LookupRow[]> {
    const rows: LookupRow[] = keys.map(() => new Map<string, Scalar>());
    const asOf = this.#now();
    for (const group of this.#group(features)) {
      await this.#readTable(group, keys, rows, asOf);
    }
    return rows;
  }

  #group(features: readonly string[]): TableRequest[] {
    let groups = this.#groups.get(features);
    if (groups) return groups;
    const byTable = new Map<string, TableRequest>();
    for (const name of features) {
      const dot = name.indexOf('.');
      if (dot <= 0 || dot === name.length - 1) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `"${name}" is not a <table>.<feature> name`, { location: { key: name } });
      const table = name.slice(0, dot);
      const g = byTable.get(table) ?? { table, names: [], features: [] };
      g.names.push(name);
      g.features.push(name.slice(dot + 1));
      byTable.set(table, g);
    }
    groups = [...byTable.values()];
    this.#groups.set(features, groups);
    return groups;
  }

  async #schema(table: string, fresh = false): Promise<TableSchema> {
    const cached = fresh ? undefined : this.#schemas.get(table);
    if (cached) return cached;
    const schema = await this.store.schema(table);
    if (!schema) {
      this.#schemas.delete(table);
      throw new FrescoError('FRESCO_ERR_NOT_FOUND', `the online store has no table "${table}" (a model reads its features); run \`fresco materialize\``, { location: { key: table } });
    }
    this.#schemas.set(table, schema);
    return schema;
  }

  /** Fills `rows` with one table's features; rows already failed are left alone. */
  async #readTable(group: TableRequest, keys: readonly Record<string, Scalar>[], rows: LookupRow[], asOf: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const schema = await this.#schema(group.table, attempt > 0);
      // Rows whose keys make an entity key; the others fail alone.
      const at: number[] = [];
      const entity: KeyValue[][] = [];
      for (let r = 0; r < keys.length; r++) {
        if (rows[r] instanceof FrescoError) continue;
        const key = entityKey(schema, group.names[0]!, keys[r]!);
        if (key instanceof FrescoError) rows[r] = key;
        else {
          at.push(r);
          entity.push(key);
        }
      }
      if (!at.length) return;
      // After a reload, only the features asked for must exist.
      const strict = attempt === 0;
      const done = hasMatrixRead(this.store) ? this.#fromMatrix(this.store, schema, group, entity, at, rows, asOf, strict) : await this.#fromObjects(schema, group, entity, at, rows, asOf, strict);
      // A table redeclared since its schema was cached (other features, maybe other join keys): reload it and read again.
      if (done) return;
      if (attempt > 0) throw notMaterialized(group.table, group.features.find((f) => !schema.features.some((s) => s.name === f)) ?? group.features[0]!);
    }
  }

  #fromMatrix(store: MatrixReader, schema: TableSchema, group: TableRequest, entity: KeyValue[][], at: number[], rows: LookupRow[], asOf: number, strict: boolean): boolean {
    const stored = entity.map((k) => encodeEntityKey(schema, k));
    const m = store.readMatrixSync(group.table, stored, { asOf });
    const index = featureIndex(m.features, group.features);
    if (!index || (strict && !sameFeatures(m.features, schema))) return false;
    // Position of each string feature among the row's strings (key-major, one per string feature).
    let nStr = 0;
    const strAt = Array.from(m.kinds, (k) => (k === KIND_STRING ? nStr++ : -1));
    for (let k = 0; k < at.length; k++) {
      const out = rows[at[k]!] as Map<string, Scalar>;
      const present = m.status[k] === MATRIX_PRESENT;
      const base = k * m.nFeatures;
      for (let i = 0; i < index.length; i++) {
        const f = index[i]!;
        const kind = m.kinds[f]!;
        let v: Scalar = null;
        if (present) {
          if (kind === KIND_STRING) v = m.strings[k * nStr + strAt[f]!] ?? null;
          else if (m.valid[base + f] === 1) v = kind === KIND_BOOL ? m.values[base + f] !== 0 : m.values[base + f]!;
        }
        out.set(group.names[i]!, v);
      }
    }
    return true;
  }

  async #fromObjects(schema: TableSchema, group: TableRequest, entity: KeyValue[][], at: number[], rows: LookupRow[], asOf: number, strict: boolean): Promise<boolean> {
    const read = await this.store.read(group.table, entity, { asOf });
    const index = featureIndex(read.features, group.features);
    if (!index || (strict && !sameFeatures(read.features, schema))) return false;
    read.rows.forEach((r, k) => {
      const out = rows[at[k]!] as Map<string, Scalar>;
      // An expired row's values are already null in the object API; check anyway (TTL -> null).
      const present = r.status === 'present';
      for (let i = 0; i < index.length; i++) out.set(group.names[i]!, present ? scalar(r.values[index[i]!] ?? null) : null);
    });
    return true;
  }
}

/** The table's join-key values from a row's keys, or the row's error. */
function entityKey(schema: TableSchema, feature: string, keys: Record<string, Scalar>): KeyValue[] | FrescoError {
  const out: KeyValue[] = [];
  for (const k of schema.joinKeys) {
    const v = Object.hasOwn(keys, k) ? keys[k] : undefined;
    if (v === undefined || v === null) return new FrescoError('FRESCO_ERR_INPUT_INVALID', `missing entity key "${k}" (needed for ${feature})`, { location: { key: k } });
    if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) {
      if (typeof v === 'string' && v.includes('\x1f')) return new FrescoError('FRESCO_ERR_INPUT_INVALID', `entity key "${k}" contains the reserved character U+001F`, { location: { key: k } });
      out.push(v);
      continue;
    }
    return new FrescoError('FRESCO_ERR_INPUT_INVALID', `entity key "${k}" must be a string or an integer, got ${JSON.stringify(v)}`, { location: { key: k } });
  }
  return out;
}

/** Where each wanted feature is among the store's, or undefined when one is missing. */
function featureIndex(have: readonly string[], want: readonly string[]): number[] | undefined {
  const index = want.map((f) => have.indexOf(f));
  return index.includes(-1) ? undefined : index;
}

/** The read's features are the cached schema's (else the table was redeclared: reload). */
function sameFeatures(features: readonly string[], schema: TableSchema): boolean {
  return features.length === schema.features.length && features.every((f, i) => schema.features[i]!.name === f);
}

function notMaterialized(table: string, feature: string): FrescoError {
  return new FrescoError('FRESCO_ERR_NOT_FOUND', `the online store's "${table}" has no feature "${feature}"; run \`fresco materialize --tables ${table}\``, { location: { key: `${table}.${feature}` } });
}

/** A store value as the plan reads it: timestamps in ms, int64 as numbers. */
function scalar(v: OnlineValue): Scalar {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v);
  return v;
}
