/**
 * The compact binary encoding of online rows, shared by every writer (this module) and the native
 * reader (native/core/src/online/codec.rs, which holds the same layout). Redis stores the same
 * bytes, decoded here. All integers little-endian.
 *
 *   row:  u8 version (1) | u8 0 | u16 n | u32 schema hash | i64 event time (ms since epoch)
 *         | ceil(n/8) bytes validity bitmap (bit i, LSB first: feature i is not null)
 *         | each non-null value in feature order: float32 4, float64 8, int32 4, int64 8,
 *           bool 1, timestamp i64 ms 8, string u32 length + UTF-8 bytes
 *   meta: u8 version (1) | u8 0 | u16 n | u32 schema hash | i64 ttl ms (0 = none)
 *         | n type bytes | u32 length + JSON of the TableSchema
 *
 * The schema hash ties a row to the table header it was written for: a row of another schema
 * reads as missing, never as misread bytes.
 */
import { FrescoError } from '../errors/index.js';
import type { FeatureType } from '../features/definition-schema.js';

export const ROW_VERSION = 1;
const HEADER = 16;

export const TYPE_CODES: Record<FeatureType, number> = { float32: 1, float64: 2, int32: 3, int64: 4, bool: 5, string: 6, timestamp: 7 };

/** A feature table as the online store knows it. */
export interface TableSchema {
  name: string;
  /** Join keys, in the order entity keys are given. */
  joinKeys: string[];
  features: { name: string; type: FeatureType }[];
  /** 0 = values never expire. */
  ttlSeconds: number;
}

export type OnlineValue = number | bigint | string | boolean | Date | null;
export type KeyValue = string | number | bigint;

/** FNV-1a over the schema's meaning (table, keys, feature names and types). */
export function schemaHash(schema: TableSchema): number {
  const text = `${schema.name}|${schema.joinKeys.join(',')}|${schema.features.map((f) => `${f.name}:${f.type}`).join(',')}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SEP = '\x1f';

/** The stored form of an entity key: join-key values in order, as text, joined by U+001F. */
export function encodeEntityKey(schema: TableSchema, values: readonly KeyValue[]): string {
  if (values.length !== schema.joinKeys.length) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `table "${schema.name}" needs ${schema.joinKeys.length} key value(s) (${schema.joinKeys.join(', ')}), got ${values.length}`, {
      location: { key: schema.name },
    });
  }
  let out = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let s: string;
    if (typeof v === 'string') s = v;
    else if (typeof v === 'bigint') s = v.toString();
    else if (typeof v === 'number' && Number.isInteger(v)) s = String(v);
    else {
      throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `key "${schema.joinKeys[i]}" of table "${schema.name}" must be a string or an integer, got ${String(v)}`, {
        location: { key: schema.joinKeys[i]! },
      });
    }
    if (s.includes(SEP)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `key "${schema.joinKeys[i]}" contains the reserved character U+001F`, { location: { key: schema.joinKeys[i]! } });
    out = i === 0 ? s : `${out}${SEP}${s}`;
  }
  return out;
}

export function decodeEntityKey(key: string): string[] {
  return key.split(SEP);
}

/** A growable byte buffer for building rows and write batches without per-row allocation. */
export class ByteWriter {
  buf: Buffer;
  len = 0;
  constructor(capacity = 1 << 16) {
    this.buf = Buffer.allocUnsafe(capacity);
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.len);
    this.len += 4;
  }
  i64(v: number | bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(typeof v === 'bigint' ? v : BigInt(Math.trunc(v)), this.len);
    this.len += 8;
  }
  /** u32 length + UTF-8 bytes. */
  str(s: string): void {
    const max = s.length * 3;
    this.ensure(4 + max);
    const n = this.buf.write(s, this.len + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.len);
    this.len += 4 + n;
  }
  bytes(b: Uint8Array): void {
    this.ensure(4 + b.length);
    this.buf.writeUInt32LE(b.length, this.len);
    this.buf.set(b, this.len + 4);
    this.len += 4 + b.length;
  }
  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

function timeMs(v: OnlineValue, what: string): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`);
    if (!Number.isNaN(t)) return t;
  }
  throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${what}: ${String(v)} is not a timestamp`);
}

/**
 * Appends one encoded row to `w` (the caller frames it). Values must already fit their types
 * (push validates them first; materialization casts in SQL); a value that does not is an error.
 */
export function writeRow(w: ByteWriter, schema: TableSchema, hash: number, eventTimeMs: number, values: readonly OnlineValue[]): void {
  const n = schema.features.length;
  const bitmapLen = (n + 7) >> 3;
  w.ensure(HEADER + bitmapLen);
  const b = w.buf;
  const start = w.len;
  b[start] = ROW_VERSION;
  b[start + 1] = 0;
  b.writeUInt16LE(n, start + 2);
  b.writeUInt32LE(hash, start + 4);
  b.writeBigInt64LE(BigInt(Math.trunc(eventTimeMs)), start + 8);
  b.fill(0, start + HEADER, start + HEADER + bitmapLen);
  w.len = start + HEADER + bitmapLen;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    const f = schema.features[i]!;
    w.ensure(8);
    const at = w.len;
    switch (f.type) {
      case 'float32':
        w.buf.writeFloatLE(Number(v), at);
        w.len += 4;
        break;
      case 'float64':
        w.buf.writeDoubleLE(Number(v), at);
        w.len += 8;
        break;
      case 'int32':
        w.buf.writeInt32LE(Number(v), at);
        w.len += 4;
        break;
      case 'int64':
        w.buf.writeBigInt64LE(typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v))), at);
        w.len += 8;
        break;
      case 'bool':
        w.buf[at] = v === true || v === 1 || v === 1n ? 1 : 0;
        w.len += 1;
        break;
      case 'timestamp':
        w.buf.writeBigInt64LE(BigInt(Math.trunc(timeMs(v, `${schema.name}.${f.name}`))), at);
        w.len += 8;
        break;
      case 'string':
        w.str(typeof v === 'string' ? v : String(v));
        break;
    }
    w.buf[start + HEADER + (i >> 3)]! |= 1 << (i & 7);
  }
}

export function encodeRow(schema: TableSchema, eventTimeMs: number, values: readonly OnlineValue[], hash = schemaHash(schema)): Buffer {
  const w = new ByteWriter(64);
  writeRow(w, schema, hash, eventTimeMs, values);
  return Buffer.from(w.view());
}

/** Event time (ms) of an encoded row, or undefined when it is not a row of this version. */
export function rowTime(b: Uint8Array): number | undefined {
  if (b.length < HEADER || b[0] !== ROW_VERSION) return undefined;
  return Number(Buffer.from(b.buffer, b.byteOffset, b.length).readBigInt64LE(8));
}

/** Decodes a row; undefined when it was written for another schema. Values as getOnlineFeatures returns them. */
export function decodeRow(b: Buffer, schema: TableSchema, hash = schemaHash(schema)): { eventTime: number; values: OnlineValue[] } | undefined {
  const n = schema.features.length;
  if (b.length < HEADER || b[0] !== ROW_VERSION || b.readUInt16LE(2) !== n || b.readUInt32LE(4) !== hash) return undefined;
  const eventTime = Number(b.readBigInt64LE(8));
  let at = HEADER + ((n + 7) >> 3);
  const values: OnlineValue[] = new Array(n);
  const corrupt = () => new FrescoError('FRESCO_ERR_ONLINE_STORE', `corrupt online row for table "${schema.name}": values truncated`);
  for (let i = 0; i < n; i++) {
    if ((b[HEADER + (i >> 3)]! & (1 << (i & 7))) === 0) {
      values[i] = null;
      continue;
    }
    const t = schema.features[i]!.type;
    const width = t === 'bool' ? 1 : t === 'float32' || t === 'int32' ? 4 : t === 'string' ? 4 : 8;
    if (at + width > b.length) throw corrupt();
    switch (t) {
      case 'float32':
        values[i] = b.readFloatLE(at);
        break;
      case 'float64':
        values[i] = b.readDoubleLE(at);
        break;
      case 'int32':
        values[i] = b.readInt32LE(at);
        break;
      case 'int64':
        values[i] = Number(b.readBigInt64LE(at));
        break;
      case 'bool':
        values[i] = b[at] !== 0;
        break;
      case 'timestamp':
        values[i] = new Date(Number(b.readBigInt64LE(at)));
        break;
      case 'string': {
        const len = b.readUInt32LE(at);
        if (at + 4 + len > b.length) throw corrupt();
        values[i] = b.toString('utf8', at + 4, at + 4 + len);
        at += len;
        break;
      }
    }
    at += width;
  }
  return { eventTime, values };
}

export function encodeMeta(schema: TableSchema): Buffer {
  const w = new ByteWriter(256);
  w.u8(ROW_VERSION);
  w.u8(0);
  w.ensure(2);
  w.buf.writeUInt16LE(schema.features.length, w.len);
  w.len += 2;
  w.u32(schemaHash(schema));
  w.i64(schema.ttlSeconds * 1000);
  for (const f of schema.features) w.u8(TYPE_CODES[f.type]);
  w.str(JSON.stringify(schema));
  return Buffer.from(w.view());
}

export function decodeMeta(b: Uint8Array): TableSchema {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  const n = buf.readUInt16LE(2);
  const at = HEADER + n;
  const len = buf.readUInt32LE(at);
  return JSON.parse(buf.toString('utf8', at + 4, at + 4 + len)) as TableSchema;
}
