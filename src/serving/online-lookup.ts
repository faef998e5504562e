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
import type { Project } from '../features/project.js';
import { FEATURES_EXPIRED, FEATURES_MISSING, type FeatureBlock, type FeatureLookup, type LookupTable } from './feature-lookup.js';
import type { Scalar } from './protocol/messages.js';

/** The embedded store's fast path, when present (checked by shape, not class). */
interface MatrixReader {
  readMatrixSync(table: string, keys: readonly string[], options?: OnlineReadOptions): OnlineMatrix;
}

function hasMatrixRead(store: OnlineStore): store is OnlineStore & MatrixReader {
  return typeof (store as Partial<MatrixReader>).readMatrixSync === 'function';
}

/** One table's share of a plan's features: `names[i]` (`table.feature`) is the store's `features[i]`, the block's feature `positions[i]`. */
interface TableRequest {
  table: string;
  names: string[];
  features: string[];
  positions: number[];
  /** The last matrix layout seen (the store's feature list, by identity) and what was derived from it.
   *  Present from creation (undefined until the first read), so every group has one shape: a group
   *  of a newly loaded version does not deoptimize the lookup's optimized code. */
  layout: { features: readonly string[]; schema: TableSchema; index: number[] | undefined; same: boolean; strAt: Int32Array; nStr: number } | undefined;
}

export interface OnlineLookupOptions {
  /** The time TTLs are measured from, ms since the epoch (default: now, read once per request). */
  now?: () => number;
  /**
   * Per table, join key -> the request key carrying it: the project's `join_key_map`, so that a
   * request row names its keys as a label row does offline (`origin`, `destination` for two
   * tables keyed by `airport`). A table not listed reads each join key under its own name.
   */
  keyNames?: Record<string, Record<string, string>>;
}

/** Request key names from a project's definitions (`join_key_map`), for `OnlineLookupOptions.keyNames`. */
export function requestKeyNames(project: Project): Record<string, Record<string, string>> {
  return Object.fromEntries([...project.definitions.tables.values()].map((t) => [t.name, { ...t.joinKeyMap }]));
}

const MATRIX_PRESENT = 1;
const MATRIX_EXPIRED = 2;
const KIND_BOOL = 1;
const KIND_STRING = 3;

export class OnlineFeatureLookup implements FeatureLookup {
  readonly #schemas = new Map<string, TableSchema>();
  /** Per plan feature list (the preparer passes the same array every request): grouped by table. */
  readonly #groups = new WeakMap<readonly string[], TableRequest[]>();
  readonly #now: () => number;
  readonly #keyNames: Record<string, Record<string, string>>;

  constructor(readonly store: OnlineStore, options: OnlineLookupOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#keyNames = options.keyNames ?? {};
  }

  /**
   * Synchronous over the embedded store once its tables' schemas are cached (no promise, no
   * microtask turn per table); otherwise, and for Redis, a promise.
   */
  prepare(features: readonly string[]): void {
    this.#group(features);
  }

  /**
   * Each table's request keys: its join keys (from the store's schema, which this also caches
   * for the first request) under their request names. A table not materialized yet names the
   * keys its join_key_map gives, if any.
   */
  async describe(features: readonly string[]): Promise<LookupTable[]> {
    const out: LookupTable[] = [];
    for (const group of this.#group(features)) {
      const names = this.#keyNames[group.table] ?? {};
      let joinKeys: string[];
      try {
        joinKeys = (await this.#schema(group.table)).joinKeys;
      } catch {
        joinKeys = Object.keys(names);
      }
      out.push({ table: group.table, keys: joinKeys.map((k) => names[k] ?? k) });
    }
    return out;
  }

  getFeatures(features: readonly string[], keys: readonly Record<string, Scalar>[], out: FeatureBlock): Promise<void> | void {
    const asOf = this.#now();
    const groups = this.#group(features);
    let g = 0;
    if (hasMatrixRead(this.store)) {
      for (; g < groups.length; g++) {
        const group = groups[g]!;
        const schema = this.#schemas.get(group.table);
        if (!schema) break;
        if (!this.#fromMatrix(this.store, schema, group, keys, out, asOf, true)) {
          // Redeclared since cached: the asynchronous path reloads the schema and reads again.
          this.#schemas.delete(group.table);
          break;
        }
      }
      if (g === groups.length) return;
    }
    return this.#readTables(groups.slice(g), keys, out, asOf);
  }

  async #readTables(groups: TableRequest[], keys: readonly Record<string, Scalar>[], out: FeatureBlock, asOf: number): Promise<void> {
    for (const group of groups) await this.#readTable(group, keys, out, asOf);
  }

  #group(features: readonly string[]): TableRequest[] {
    let groups = this.#groups.get(features);
    if (groups) return groups;
    const byTable = new Map<string, TableRequest>();
    features.forEach((name, position) => {
      const dot = name.indexOf('.');
      if (dot <= 0 || dot === name.length - 1) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `"${name}" is not a <table>.<feature> name`, { location: { key: name } });
      const table = name.slice(0, dot);
      const g = byTable.get(table) ?? { table, names: [], features: [], positions: [], layout: undefined };
      g.names.push(name);
      g.features.push(name.slice(dot + 1));
      g.positions.push(position);
      byTable.set(table, g);
    });
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

  /** Writes one table's features into `out`; rows already failed are left alone. */
  async #readTable(group: TableRequest, keys: readonly Record<string, Scalar>[], out: FeatureBlock, asOf: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const schema = await this.#schema(group.table, attempt > 0);
      // After a reload, only the features asked for must exist.
      const strict = attempt === 0;
      const done = hasMatrixRead(this.store) ? this.#fromMatrix(this.store, schema, group, keys, out, asOf, strict) : await this.#fromObjects(schema, group, keys, out, asOf, strict);
      // A table redeclared since its schema was cached (other features, maybe other join keys): reload it and read again.
      if (done) return;
      if (attempt > 0) throw notMaterialized(group.table, group.features.find((f) => !schema.features.some((s) => s.name === f)) ?? group.features[0]!);
    }
  }

  /** The rows whose keys make an entity key (row indices and keys); the others fail alone. */
  #entities(schema: TableSchema, group: TableRequest, keys: readonly Record<string, Scalar>[], out: FeatureBlock): { at: number[]; entity: KeyValue[][] } {
    const at: number[] = [];
    const entity: KeyValue[][] = [];
    for (let r = 0; r < keys.length; r++) {
      if (out.failed(r)) continue;
      const key = entityKey(schema, group.names[0]!, keys[r]!, this.#keyNames[group.table]);
      if (key instanceof FrescoError) out.fail(r, key);
      else {
        at.push(r);
        entity.push(key);
      }
    }
    return { at, entity };
  }

  #fromMatrix(store: MatrixReader, schema: TableSchema, group: TableRequest, keys: readonly Record<string, Scalar>[], out: FeatureBlock, asOf: number, strict: boolean): boolean {
    const { at, entity } = this.#entities(schema, group, keys, out);
    if (!at.length) return true;
    const stored = entity.map((k) => encodeEntityKey(schema, k));
    const m = store.readMatrixSync(group.table, stored, { asOf });
    // Derived from the store's layout once per layout (the store hands out the same arrays until the table changes).
    let layout = group.layout;
    if (!layout || layout.features !== m.features || layout.schema !== schema) {
      // Position of each string feature among the row's strings (key-major, one per string feature).
      let nStr = 0;
      const strAt = Int32Array.from(m.kinds, (k) => (k === KIND_STRING ? nStr++ : -1));
      layout = { features: m.features, schema, index: featureIndex(m.features, group.features), same: sameFeatures(m.features, schema), strAt, nStr };
      group.layout = layout;
    }
    const index = layout.index;
    if (!index || (strict && !layout.same)) return false;
    const nStr = layout.nStr;
    const positions = group.positions;
    for (let k = 0; k < at.length; k++) {
      const r = at[k]!;
      if (m.status[k] !== MATRIX_PRESENT) {
        // Missing or expired: the cells stay null, and the row's status says which.
        out.mark(r, positions[0]!, m.status[k] === MATRIX_EXPIRED ? FEATURES_EXPIRED : FEATURES_MISSING);
        continue;
      }
      const base = k * m.nFeatures;
      for (let i = 0; i < index.length; i++) {
        const f = index[i]!;
        const kind = m.kinds[f]!;
        if (kind === KIND_STRING) {
          const v = m.strings[k * nStr + layout.strAt[f]!];
          if (v !== null && v !== undefined) out.setString(r, positions[i]!, v);
        } else if (m.valid[base + f] === 1) {
          if (kind === KIND_BOOL) out.setBool(r, positions[i]!, m.values[base + f] !== 0);
          else out.setNumber(r, positions[i]!, m.values[base + f]!);
        }
      }
    }
    return true;
  }

  async #fromObjects(schema: TableSchema, group: TableRequest, keys: readonly Record<string, Scalar>[], out: FeatureBlock, asOf: number, strict: boolean): Promise<boolean> {
    const { at, entity } = this.#entities(schema, group, keys, out);
    if (!at.length) return true;
    const read = await this.store.read(group.table, entity, { asOf });
    const index = featureIndex(read.features, group.features);
    if (!index || (strict && !sameFeatures(read.features, schema))) return false;
    read.rows.forEach((row, k) => {
      // An expired row's values are already null in the object API; check anyway (TTL -> null).
      if (row.status !== 'present') {
        out.mark(at[k]!, group.positions[0]!, row.status === 'expired' ? FEATURES_EXPIRED : FEATURES_MISSING);
        return;
      }
      for (let i = 0; i < index.length; i++) {
        const v = scalar(row.values[index[i]!] ?? null);
        if (v !== null) out.set(at[k]!, group.positions[i]!, v);
      }
    });
    return true;
  }
}

/** The table's join-key values from a row's keys, or the row's error. */
function entityKey(schema: TableSchema, feature: string, keys: Record<string, Scalar>, names: Record<string, string> = {}): KeyValue[] | FrescoError {
  const out: KeyValue[] = [];
  for (const joinKey of schema.joinKeys) {
    const k = names[joinKey] ?? joinKey;
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
