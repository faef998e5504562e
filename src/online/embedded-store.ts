/**
 * The embedded online store (the default): LMDB under the project's `online.path`, written and
 * read by the native core (native/core/src/online). One native call turns a batch of entity keys
 * into feature values (a keys x features Float64Array plus strings); this module only shapes the
 * result. Safe with many reader threads and processes and one writer (LMDB's model): each write
 * batch is one transaction.
 */
import { resolve } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { openNativeOnlineStore, type NativeOnlineStore } from '../native.js';
import type { OnlineReadResult, OnlineReadRow, OnlineRow, OnlineStatus, OnlineStore, OnlineReadOptions, WriteStats } from './online-store.js';
import { asOfMs } from './online-store.js';
import { ByteWriter, decodeMeta, encodeEntityKey, encodeMeta, schemaHash, writeRow, type KeyValue, type OnlineValue, type TableSchema } from './row-codec.js';

/** Write ops of a batch (native/core/src/online/store.rs). */
const OP_PUT_IF_NEWER = 6;
const OP_DELETE = 2;
const OP_SET_META = 3;
const OP_DROP_TABLE = 4;
const OP_EXPIRE = 5;

const STATUS: OnlineStatus[] = ['missing', 'present', 'expired'];

/** 64 GiB of address space: LMDB maps it lazily, the file grows only as rows are written. */
export const DEFAULT_MAP_SIZE = 64 * 2 ** 30;

interface Cached {
  schema: TableSchema;
  hash: number;
  /** Per feature: how a stored f64 becomes a value. */
  kinds: Uint8Array; // 0 number, 1 bool, 2 timestamp, 3 string
  names: string[];
}

/**
 * A read as typed arrays (EmbeddedOnlineStore.readMatrixSync): keys x features, row-major.
 * `values[k * nFeatures + i]` is feature i of key k when `valid[...]` is 1 (bools are 0/1,
 * timestamps ms since the epoch); string features are in `strings`, key-major, one per string
 * feature. `status[k]`: 0 missing, 1 present, 2 expired (values of an expired row are still
 * filled here; the object API hides them). `times[k]`: event time in ms (NaN when missing).
 */
export interface OnlineMatrix {
  table: string;
  features: string[];
  /** Per feature: 0 number, 1 bool, 2 timestamp, 3 string. */
  kinds: Uint8Array;
  nKeys: number;
  nFeatures: number;
  values: Float64Array;
  valid: Uint8Array;
  status: Uint8Array;
  times: Float64Array;
  strings: (string | null)[];
}

export const MATRIX_STATUS = { missing: 0, present: 1, expired: 2 } as const;

export class EmbeddedOnlineStore implements OnlineStore {
  readonly kind = 'embedded' as const;
  readonly #native: NativeOnlineStore;
  readonly #cache = new Map<string, Cached>();
  #values = new Float64Array(64);
  #valid = new Uint8Array(64);
  #times = new Float64Array(8);
  #status = new Uint8Array(8);
  readonly #writer = new ByteWriter(1 << 20);
  #closed = false;

  readonly id: string;

  constructor(readonly path: string, options: { mapSize?: number } = {}) {
    this.id = `embedded:${resolve(path)}`;
    this.#native = openNativeOnlineStore(path, options.mapSize ?? DEFAULT_MAP_SIZE);
  }

  #open(): NativeOnlineStore {
    if (this.#closed) throw new FrescoError('FRESCO_ERR_ONLINE_STORE', `online store ${this.path} is closed`);
    return this.#native;
  }

  #load(table: string): Cached | undefined {
    const meta = this.#open().meta(table);
    if (!meta) {
      this.#cache.delete(table);
      return undefined;
    }
    const schema = decodeMeta(meta);
    const kinds = Uint8Array.from(schema.features, (f) => (f.type === 'bool' ? 1 : f.type === 'timestamp' ? 2 : f.type === 'string' ? 3 : 0));
    const cached = { schema, hash: schemaHash(schema), kinds, names: schema.features.map((f) => f.name) };
    this.#cache.set(table, cached);
    return cached;
  }

  #require(table: string): Cached {
    const c = this.#cache.get(table) ?? this.#load(table);
    if (!c) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `the online store has no table "${table}"; run \`fresco materialize\``, { location: { key: table } });
    return c;
  }

  #frame(op: number, table: string): void {
    this.#writer.u8(op);
    this.#writer.str(table);
  }

  #apply(): { written: number; skippedOlder: number; deleted: number } {
    const native = this.#open();
    try {
      return native.apply(this.#writer.view());
    } finally {
      this.#writer.len = 0;
    }
  }

  async defineTable(schema: TableSchema): Promise<void> {
    this.defineTableSync(schema);
  }

  defineTableSync(schema: TableSchema): void {
    this.#writer.len = 0;
    this.#frame(OP_SET_META, schema.name);
    this.#writer.bytes(encodeMeta(schema));
    this.#apply();
    this.#cache.delete(schema.name);
  }

  async schema(table: string): Promise<TableSchema | undefined> {
    return this.#load(table)?.schema;
  }

  async tables(): Promise<string[]> {
    return this.#open().tables();
  }

  async write(table: string, rows: readonly OnlineRow[]): Promise<WriteStats> {
    return this.writeSync(table, rows);
  }

  /** Encodes and writes a batch in one LMDB transaction. */
  writeSync(table: string, rows: readonly OnlineRow[]): WriteStats {
    const { schema, hash } = this.#load(table) ?? this.#require(table);
    const w = this.#writer;
    w.len = 0;
    for (const row of rows) {
      this.#frame(OP_PUT_IF_NEWER, table);
      w.str(row.entityKey ?? encodeEntityKey(schema, row.key));
      // Row bytes are framed with their length: reserve it, write the row, patch it.
      w.ensure(4);
      const lenAt = w.len;
      w.len += 4;
      writeRow(w, schema, hash, row.eventTime, row.values);
      w.buf.writeUInt32LE(w.len - lenAt - 4, lenAt);
    }
    const s = this.#apply();
    return { written: s.written, skippedOlder: s.skippedOlder };
  }

  async read(table: string, keys: readonly (readonly KeyValue[])[], options?: OnlineReadOptions): Promise<OnlineReadResult> {
    return this.readSync(table, keys, options);
  }

  /** The in-process read path: one native call for all keys. */
  readSync(table: string, keys: readonly (readonly KeyValue[])[], options?: OnlineReadOptions): OnlineReadResult {
    let c = this.#require(table);
    const encoded = keys.map((k) => encodeEntityKey(c.schema, k));
    return this.readEncodedSync(table, encoded, options, c);
  }

  /** As readSync, with keys already in their stored form (encodeEntityKey). */
  readEncodedSync(table: string, keys: string[], options?: OnlineReadOptions, cached?: Cached): OnlineReadResult {
    const { c, strings } = this.#readRaw(table, keys, options, cached);
    return this.#shape(c, keys.length, strings);
  }

  /**
   * The fast read path: the native call's output as typed arrays, with no per-row JS objects.
   * `keys` are stored keys (encodeEntityKey). The arrays are views of buffers this store reuses:
   * they are valid until its next read (copy them, e.g. `values.slice()`, to keep them).
   */
  readMatrixSync(table: string, keys: readonly string[], options?: OnlineReadOptions): OnlineMatrix {
    const { c, strings } = this.#readRaw(table, keys, options);
    const n = c.schema.features.length;
    const nk = keys.length;
    return {
      table: c.schema.name,
      features: c.names,
      kinds: c.kinds,
      nKeys: nk,
      nFeatures: n,
      values: this.#values.subarray(0, nk * n),
      valid: this.#valid.subarray(0, nk * n),
      status: this.#status.subarray(0, nk),
      times: this.#times.subarray(0, nk),
      strings,
    };
  }

  #readRaw(table: string, keys: readonly string[], options?: OnlineReadOptions, cached?: Cached): { c: Cached; strings: (string | null)[] } {
    let c = cached ?? this.#require(table);
    const asOf = asOfMs(options);
    for (let attempt = 0; ; attempt++) {
      const n = c.schema.features.length;
      const nk = keys.length;
      if (this.#values.length < nk * n) {
        this.#values = new Float64Array(nk * n * 2);
        this.#valid = new Uint8Array(nk * n * 2);
      }
      if (this.#times.length < nk) {
        this.#times = new Float64Array(nk * 2);
        this.#status = new Uint8Array(nk * 2);
      }
      const strings: (string | null)[] = [];
      const hash = this.#open().read(table, keys as string[], asOf, this.#values, this.#valid, this.#times, this.#status, strings);
      if (hash === c.hash) return { c, strings };
      // The table was redeclared (or dropped) by another writer since it was cached.
      const fresh = this.#load(table);
      if (!fresh || attempt > 2) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `the online store has no table "${table}"`, { location: { key: table } });
      c = fresh;
    }
  }

  #shape(c: Cached, nk: number, strings: (string | null)[]): OnlineReadResult {
    const n = c.schema.features.length;
    const rows: OnlineReadRow[] = new Array(nk);
    const values = this.#values;
    const valid = this.#valid;
    const kinds = c.kinds;
    let s = 0;
    const nStr = strings.length / nk;
    for (let k = 0; k < nk; k++) {
      const status = STATUS[this.#status[k]!]!;
      const out: OnlineValue[] = new Array(n);
      const base = k * n;
      const present = status === 'present';
      s = k * nStr;
      for (let i = 0; i < n; i++) {
        const kind = kinds[i]!;
        if (kind === 3) {
          const str = strings[s++] ?? null;
          out[i] = present ? str : null;
          continue;
        }
        if (!present || valid[base + i] === 0) {
          out[i] = null;
          continue;
        }
        const v = values[base + i]!;
        out[i] = kind === 0 ? v : kind === 1 ? v !== 0 : new Date(v);
      }
      rows[k] = { status, eventTime: status === 'missing' ? null : this.#times[k]!, values: out };
    }
    return { table: c.schema.name, features: c.names.slice(), rows };
  }

  async delete(table: string, keys: readonly (readonly KeyValue[])[]): Promise<number> {
    const { schema } = this.#require(table);
    this.#writer.len = 0;
    for (const k of keys) {
      this.#frame(OP_DELETE, table);
      this.#writer.str(encodeEntityKey(schema, k));
    }
    return this.#apply().deleted;
  }

  async expire(table: string, before: Date | number): Promise<number> {
    this.#writer.len = 0;
    this.#frame(OP_EXPIRE, table);
    this.#writer.i64(typeof before === 'number' ? before : before.getTime());
    return this.#apply().deleted;
  }

  async dropTable(table: string): Promise<void> {
    this.#writer.len = 0;
    this.#frame(OP_DROP_TABLE, table);
    this.#apply();
    this.#cache.delete(table);
  }

  async count(table: string): Promise<number> {
    return this.#open().count(table);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }
}
