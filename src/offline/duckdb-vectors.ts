/**
 * Bulk reads of DuckDB result vectors into typed arrays. `vector.getItem(i)` costs a call (and a
 * boxed value) per row; a chunk's fixed-width data is one contiguous buffer, so a column is copied
 * with one `set()` per chunk and nulls are applied from the validity bitmap, 64 rows per word.
 */
import duckdb, { type Vector } from '@duckdb/node-bindings';
import type { DuckDBDataChunk } from '@duckdb/node-api';

function rawVector(chunk: DuckDBDataChunk, column: number): Vector {
  return duckdb.data_chunk_get_vector(chunk.chunk, column);
}

/** The chunk's validity words for `column`, or null when every row is valid. */
function validityWords(vector: Vector, count: number): Uint8Array | null {
  const bytes = duckdb.vector_get_validity(vector, Math.ceil(count / 64) * 8);
  return bytes && bytes.length ? bytes : null;
}

/** Calls `onNull(i)` for each null row i < count (the bitmap is one bit per row, little-endian words). */
function forEachNull(validity: Uint8Array, count: number, onNull: (row: number) => void): void {
  for (let byte = 0; byte * 8 < count; byte++) {
    const bits = validity[byte]!;
    if (bits === 0xff) continue;
    for (let bit = 0; bit < 8; bit++) {
      const row = byte * 8 + bit;
      if (row < count && (bits & (1 << bit)) === 0) onNull(row);
    }
  }
}

/** Copies a fixed-width column of `chunk` into `target` at `at`, nulls as `nullValue`; returns the number of nulls. */
function copyFixedWidth<T extends Float64Array | Int32Array>(
  chunk: DuckDBDataChunk,
  column: number,
  target: T,
  at: number,
  nullValue: number,
  rows: ChunkRows = {},
): number {
  const from = rows.from ?? 0;
  const count = rows.count ?? chunk.rowCount - from;
  const width = target.BYTES_PER_ELEMENT;
  const vector = rawVector(chunk, column);
  const data = duckdb.vector_get_data(vector, chunk.rowCount * width);
  // One bulk copy; byte-wise when DuckDB's buffer is not aligned for a typed view.
  new Uint8Array(target.buffer, target.byteOffset + at * width, count * width).set(data.subarray(from * width, (from + count) * width));
  const validity = validityWords(vector, chunk.rowCount);
  let nulls = 0;
  if (validity) {
    forEachNull(validity, chunk.rowCount, (row) => {
      if (row < from || row >= from + count) return;
      target[at + row - from] = nullValue;
      nulls++;
    });
  }
  return nulls;
}

/** A slice of a chunk's rows: `count` rows from row `from` (default: the whole chunk). */
export interface ChunkRows {
  from?: number;
  count?: number;
}

/**
 * Copies a DOUBLE column of `chunk` into `target` at `at`, nulls as `nullValue` (default NaN).
 * Returns the number of nulls.
 */
export function copyDoubles(chunk: DuckDBDataChunk, column: number, target: Float64Array, at: number, nullValue = NaN, rows: ChunkRows = {}): number {
  return copyFixedWidth(chunk, column, target, at, nullValue, rows);
}

/** Copies an INTEGER column of `chunk` into `target` at `at`, nulls as `nullValue` (default -1). */
export function copyInt32s(chunk: DuckDBDataChunk, column: number, target: Int32Array, at: number, nullValue = -1, rows: ChunkRows = {}): number {
  return copyFixedWidth(chunk, column, target, at, nullValue, rows);
}

/** Rows of a BOOLEAN column of `chunk` that are true (null counts as false), as indexes < rowCount. */
export function trueRows(chunk: DuckDBDataChunk, column: number): number[] {
  const count = chunk.rowCount;
  const vector = rawVector(chunk, column);
  const data = duckdb.vector_get_data(vector, count);
  const validity = validityWords(vector, count);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    if (data[i] !== 0 && (!validity || (validity[i >> 3]! & (1 << (i & 7))) !== 0)) out.push(i);
  }
  return out;
}
