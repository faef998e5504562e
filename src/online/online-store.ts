/**
 * The one interface every online store implements (embedded LMDB, Redis). Small on purpose:
 * declare a table, write a batch, read many keys, delete/expire, close. test/online-conformance
 * runs the same suite against each implementation.
 */
import type { KeyValue, OnlineValue, TableSchema } from './row-codec.js';

export type OnlineStatus = 'present' | 'missing' | 'expired';

export interface OnlineRow {
  /** Join-key values in the table's `joinKeys` order. */
  key: readonly KeyValue[];
  /** The stored key (encodeEntityKey) when the writer already has it; `key` is then not read. */
  entityKey?: string;
  /** Event time, ms since the epoch. */
  eventTime: number;
  /** One value per feature, in the table's feature order (null = null). */
  values: readonly OnlineValue[];
}

export interface OnlineReadRow {
  status: OnlineStatus;
  /** Event time (ms) of the stored row; null when missing. */
  eventTime: number | null;
  /** Feature values; all null unless present (an expired value is not served, as offline). */
  values: OnlineValue[];
}

export interface OnlineReadResult {
  table: string;
  features: string[];
  /** One per requested key, in order. */
  rows: OnlineReadRow[];
}

export interface WriteStats {
  written: number;
  /** Rows not written because the store holds a newer event for that key. */
  skippedOlder: number;
}

export interface OnlineReadOptions {
  /** The time TTLs are measured from (default: now). Date or ms since the epoch. */
  asOf?: Date | number;
}

export interface OnlineStore {
  readonly kind: 'embedded' | 'redis';
  /** Names the store in the state database (`embedded:<path>`, `redis:<url or nodes>`). */
  readonly id: string;
  /** Declares (or redeclares) a table. A changed schema drops the table's stored rows. */
  defineTable(schema: TableSchema): Promise<void>;
  /** The declared schema, or undefined. */
  schema(table: string): Promise<TableSchema | undefined>;
  tables(): Promise<string[]>;
  /**
   * Writes a batch. Readers see all of it or none of it (embedded; Redis: one MULTI/EXEC on a
   * single server, whole rows on a cluster). A row older than the stored one for its key is
   * skipped, so replays and overlapping runs are idempotent.
   */
  write(table: string, rows: readonly OnlineRow[]): Promise<WriteStats>;
  read(table: string, keys: readonly (readonly KeyValue[])[], options?: OnlineReadOptions): Promise<OnlineReadResult>;
  /** Deletes the rows of these keys; returns how many existed. */
  delete(table: string, keys: readonly (readonly KeyValue[])[]): Promise<number>;
  /** Deletes rows whose event time is before `before`; returns how many. */
  expire(table: string, before: Date | number): Promise<number>;
  /** Removes a table and all its rows. */
  dropTable(table: string): Promise<void>;
  /** Rows stored for a table. */
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

export function asOfMs(options: OnlineReadOptions | undefined): number {
  const a = options?.asOf;
  return a === undefined ? Date.now() : typeof a === 'number' ? a : a.getTime();
}

export function statusOf(eventTime: number, schema: TableSchema, asOf: number): OnlineStatus {
  return schema.ttlSeconds > 0 && eventTime < asOf - schema.ttlSeconds * 1000 ? 'expired' : 'present';
}
