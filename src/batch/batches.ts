/**
 * Reads a staged part (`__batch_in_<slot>`) as record batches of plan input columns, streaming the
 * engine's result chunk by chunk. Numbers arrive as DOUBLE (null as NaN, timestamps as epoch
 * milliseconds, like readColumns); strings arrive as dictionary codes computed by the engine (a
 * per-part ENUM), so no string is decoded in JavaScript. Columns whose values cannot be read as
 * the plan needs are reported per row (file and row), so that --on-error skip can set them aside.
 */
import { FrescoError } from '../errors/index.js';
import { datasetColumnName } from '../dsl/dataset.js';
import { quoteIdent, type OfflineEngine } from '../offline/index.js';
import { copyDoubles, copyInt32s, trueRows } from '../offline/duckdb-vectors.js';
import { columnKind } from '../offline/sources.js';
import type { Column } from '../plan/index.js';
import { ROW } from './stage.js';

export interface RecordBatch {
  rows: number;
  /** 0-based row numbers in the input file. */
  rowIds: Float64Array;
  /** Plan input name -> column. */
  columns: Map<string, Column>;
  /** Row index in the batch -> why it cannot be scored (bad values). */
  bad: Map<number, string>;
}

interface Reader {
  /** The plan input (`request.distance`, `origin_delays.avg_24h`, or a plain name). */
  name: string;
  /** The column it reads: the offline store's naming (`distance`, `origin_delays__avg_24h`). */
  column: string;
  type: 'num' | 'str';
  /** SQL for the value column. */
  expr: string;
  /** SQL for a "this row's value is unreadable" flag, when the column may hold such values. */
  badExpr?: string;
  reason?: string;
  dictionary?: string[];
}

/** Why a column cannot feed a plan input at all (wrong dtype), or undefined when it can. */
function readerFor(file: string, name: string, type: 'num' | 'str', columns: Map<string, string>, index: number): Reader {
  const column = datasetColumnName(name);
  const duckType = columns.get(column);
  const where = column === name ? '' : ` for plan input "${name}"`;
  if (duckType === undefined) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${file}: no column "${column}" (a plan input${where ? `: ${name}` : ''})`, { location: { file, key: column } });
  const id = quoteIdent(column);
  const kind = columnKind(duckType);
  if (type === 'str') {
    if (kind !== 'string') {
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${file}: column "${column}" has type ${duckType}; the plan reads it${where} as a string`, { location: { file, key: column } });
    }
    return { name, column, type, expr: `COALESCE(CAST(enum_code(CAST(${id} AS __batch_enum_${index})) AS INTEGER), -1)` };
  }
  if (kind === 'numeric' || kind === 'bool') return { name, column, type, expr: `COALESCE(CAST(${id} AS DOUBLE), 'NaN'::DOUBLE)` };
  if (kind === 'temporal') return { name, column, type, expr: `COALESCE(CAST(epoch_ms(CAST(${id} AS TIMESTAMP)) AS DOUBLE), 'NaN'::DOUBLE)` };
  if (kind === 'string') {
    // A CSV column with one stray value reads as text: the good rows still score, the bad ones
    // are named.
    return {
      name,
      column,
      type,
      expr: `COALESCE(TRY_CAST(${id} AS DOUBLE), 'NaN'::DOUBLE)`,
      badExpr: `(${id} IS NOT NULL AND TRY_CAST(${id} AS DOUBLE) IS NULL)`,
      reason: `column "${column}" does not hold a number`,
    };
  }
  throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${file}: column "${column}" has type ${duckType}; the plan reads it${where} as a number`, { location: { file, key: column } });
}

export class BatchReader {
  private readonly readers: Reader[];

  constructor(
    private readonly engine: OfflineEngine,
    private readonly file: string,
    inputs: Map<string, 'num' | 'str'>,
    columns: Map<string, string>,
  ) {
    this.readers = [...inputs].map(([name, type], i) => readerFor(file, name, type, columns, i));
  }

  /** Streams the staged part in `table` in batches of `batchSize` rows. */
  async *read(table: string, batchSize: number): AsyncGenerator<RecordBatch> {
    const enums: string[] = [];
    try {
      for (const [i, r] of this.readers.entries()) {
        if (r.type !== 'str') continue;
        const type = `__batch_enum_${i}`;
        await this.engine.run(`DROP TYPE IF EXISTS ${type}`);
        // ENUM of the part's distinct values: the engine encodes, JavaScript never sees a row's string.
        await this.engine.run(`CREATE TYPE ${type} AS ENUM (SELECT DISTINCT ${quoteIdent(r.column)} FROM ${table} WHERE ${quoteIdent(r.column)} IS NOT NULL ORDER BY 1)`);
        enums.push(type);
        const rows = await this.engine.rows(`SELECT unnest(enum_range(NULL::${type})) AS v`);
        r.dictionary = rows.map((row) => String(row.v));
      }
      const flags = this.readers.filter((r) => r.badExpr);
      const select = [`CAST(${ROW} AS DOUBLE)`, ...this.readers.map((r) => r.expr), ...flags.map((r) => r.badExpr!)];
      const result = await this.engine.connection.stream(`SELECT ${select.join(', ')} FROM ${table}`);
      // The columns are reused from batch to batch (the caller runs its plans on a batch before it
      // asks for the next); row ids and bad rows are the batch's own (they outlive it, until its
      // scores come back).
      const columns = this.newColumns(batchSize);
      let batch = this.newBatch(batchSize, columns);
      let filled = 0;
      for await (const chunk of result) {
        const n = chunk.rowCount;
        // Rows flagged unreadable, per flag column: usually none, found without a call per row.
        const flagged = flags.map((_, f) => trueRows(chunk, 1 + this.readers.length + f));
        let offset = 0;
        while (offset < n) {
          const take = Math.min(n - offset, batchSize - filled);
          const slice = { from: offset, count: take };
          copyDoubles(chunk, 0, batch.rowIds, filled, NaN, slice);
          this.readers.forEach((r, c) => {
            const column = batch.columns.get(r.name)!;
            if (column.kind === 'f64') copyDoubles(chunk, c + 1, column.values, filled, NaN, slice);
            else if (column.kind === 'dict') copyInt32s(chunk, c + 1, column.codes, filled, -1, slice);
          });
          flags.forEach((r, f) => {
            for (const row of flagged[f]!) {
              if (row < offset || row >= offset + take) continue;
              const at = filled + row - offset;
              if (!batch.bad.has(at)) batch.bad.set(at, r.reason!);
            }
          });
          filled += take;
          offset += take;
          if (filled === batchSize) {
            yield batch;
            batch = this.newBatch(batchSize, columns);
            filled = 0;
          }
        }
      }
      if (filled) yield this.trim(batch, filled);
    } finally {
      for (const type of enums) await this.engine.run(`DROP TYPE IF EXISTS ${type}`).catch(() => {});
    }
  }

  private newColumns(size: number): Map<string, Column> {
    const columns = new Map<string, Column>();
    for (const r of this.readers) {
      columns.set(r.name, r.type === 'num' ? { kind: 'f64', values: new Float64Array(size) } : { kind: 'dict', codes: new Int32Array(size), dictionary: r.dictionary! });
    }
    return columns;
  }

  private newBatch(size: number, columns: Map<string, Column>): RecordBatch {
    return { rows: size, rowIds: new Float64Array(size), columns, bad: new Map() };
  }

  private trim(batch: RecordBatch, rows: number): RecordBatch {
    const columns = new Map<string, Column>();
    for (const [name, c] of batch.columns) {
      columns.set(name, c.kind === 'f64' ? { kind: 'f64', values: c.values.subarray(0, rows) } : c.kind === 'dict' ? { kind: 'dict', codes: c.codes.subarray(0, rows), dictionary: c.dictionary } : c);
    }
    return { rows, rowIds: batch.rowIds.subarray(0, rows), columns, bad: batch.bad };
  }
}
