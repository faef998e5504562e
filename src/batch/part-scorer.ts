/**
 * Scores one staged part with every model: record batches -> each model's frozen plan, run
 * natively on the main thread -> the model, in the worker pool -> scores appended to an engine
 * table, joined back to the part's key columns when the part is written. Batches are pipelined:
 * while the workers run batch k, the main thread reads and plans batch k+1.
 */
import { DOUBLE, FLOAT, DuckDBDataChunk, type DuckDBType } from '@duckdb/node-api';
import { FrescoError } from '../errors/index.js';
import { quoteIdent } from '../offline/index.js';
import type { BatchEngine } from './engine.js';
import type { Column } from '../plan/index.js';
import { BatchReader, type RecordBatch } from './batches.js';
import type { BatchModel } from './models.js';
import type { Part } from './parts.js';
import { inTable, ROW } from './stage.js';
import type { InferencePool, RunResult } from './worker-pool.js';

export type OnError = 'fail' | 'skip';

/** Per model and staging slot: a part's scores, and its error rows. */
export const scoresTable = (m: number, slot: number) => `__batch_scores_${slot}_${m}`;
export const errorsTable = (slot: number) => `__batch_errors_${slot}`;
const CHUNK = 2048;

export interface PartScoreOptions {
  batchSize: number;
  onError: OnError;
  /** Batches in flight at once (default: 2 per worker). */
  inflight: number;
  /** Called after each batch with the input rows it covered. */
  onRows(rows: number): void;
}

export interface PartScoreResult {
  rows: number;
  errors: number;
  /** Per model: scored rows (input rows less the rows set aside), appended in input order. */
  scored: number[];
}

/**
 * Appends typed columns to an engine table with one appender, 2048 rows per data chunk, writing
 * the vectors' arrays directly (one copy per chunk and column, no per-value call).
 */
function appendColumns(engine: BatchEngine, table: string, types: DuckDBType[], columns: (Float64Array | Float32Array)[], rows: number): Promise<void> {
  return (async () => {
    const appender = await engine.writer.createAppender(table);
    try {
      for (let at = 0; at < rows; at += CHUNK) {
        const n = Math.min(CHUNK, rows - at);
        const chunk = DuckDBDataChunk.create(types, n);
        columns.forEach((values, c) => {
          const vector = chunk.getColumnVector(c) as unknown as { items: Float64Array | Float32Array; flush(): void };
          vector.items.set(values.subarray(at, at + n));
          vector.flush();
        });
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  })();
}

/** A part's scores for one model, gathered in typed arrays (a part is bounded) and appended once. */
class ScoreBuffer {
  rows = 0;
  private rowIds: Float64Array;
  private readonly columns: Float32Array[];

  constructor(outputs: number, capacity: number) {
    this.rowIds = new Float64Array(capacity);
    this.columns = Array.from({ length: outputs }, () => new Float32Array(capacity));
  }

  push(rowIds: Float64Array, columns: Float32Array[]): void {
    const need = this.rows + rowIds.length;
    if (need > this.rowIds.length) this.grow(Math.max(need, 2 * this.rowIds.length));
    this.rowIds.set(rowIds, this.rows);
    columns.forEach((c, i) => this.columns[i]!.set(c, this.rows));
    this.rows = need;
  }

  private grow(capacity: number): void {
    const ids = new Float64Array(capacity);
    ids.set(this.rowIds.subarray(0, this.rows));
    this.rowIds = ids;
    this.columns.forEach((c, i) => {
      const next = new Float32Array(capacity);
      next.set(c.subarray(0, this.rows));
      this.columns[i] = next;
    });
  }

  append(engine: BatchEngine, table: string): Promise<void> {
    return appendColumns(engine, table, [DOUBLE, ...this.columns.map(() => FLOAT)], [this.rowIds, ...this.columns], this.rows);
  }
}

export class PartScorer {
  /** Per model: feature matrix buffers free for reuse (returned by the workers). */
  private readonly matrices: ArrayBuffer[][];

  constructor(
    private readonly engine: BatchEngine,
    private readonly models: BatchModel[],
    private readonly pool: InferencePool,
    private readonly inputs: Map<string, 'num' | 'str'>,
  ) {
    this.matrices = models.map(() => []);
  }

  private async createTables(slot: number): Promise<void> {
    // On the appending connection: the staging connection is busy with the next part meanwhile.
    for (const [i, m] of this.models.entries()) {
      const cols = [`${quoteIdent(ROW)} DOUBLE`, ...m.outputs.map((o) => `${quoteIdent(o.column)} FLOAT`)];
      await this.engine.writer.run(`CREATE OR REPLACE TABLE ${scoresTable(i, slot)} (${cols.join(', ')})`);
    }
    await this.engine.writer.run(`CREATE OR REPLACE TABLE ${errorsTable(slot)} (${quoteIdent(ROW)} DOUBLE, model VARCHAR, reason VARCHAR)`);
  }

  /** Scores the part staged in `inTable(slot)` into `scoresTable(m, slot)` and `errorsTable(slot)`. */
  async score(part: Part, slot: number, columns: Map<string, string>, options: PartScoreOptions): Promise<PartScoreResult> {
    await this.createTables(slot);
    const reader = new BatchReader(this.engine.reading, part.file.path, this.inputs, columns);
    const inflight: Promise<() => Promise<void>>[] = [];
    let rows = 0;
    let errors = 0;
    const file = part.file.path;
    const errorRows: { row: number; model: string; reason: string }[] = [];
    const partRows = part.end - part.start;
    const buffers = this.models.map((m) => new ScoreBuffer(m.outputs.length, partRows));

    const fail = (row: number, reason: string, model?: BatchModel): never => {
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${file}: row ${row}: ${model ? `${model.ref} (${model.key}) cannot score it: ` : ''}${reason} (rerun with --on-error skip to write such rows to an error file and carry on)`, {
        location: { file, line: row },
      });
    };

    const finish = async (batch: RecordBatch, mi: number, result: RunResult): Promise<void> => {
      const m = this.models[mi]!;
      const n = batch.rows;
      const byTensor = new Map(result.outputs.map((o) => [o.name, o]));
      const outColumns = m.outputs.map((o) => {
        const t = byTensor.get(o.tensor)!;
        const stride = t.values.length / n;
        if (stride === 1) return t.values;
        const col = new Float32Array(n);
        for (let r = 0; r < n; r++) col[r] = t.values[r * stride + o.index]!;
        return col;
      });
      // Rows to drop: unreadable inputs, or outputs the model could not produce (NaN, infinity).
      const drop = new Map<number, string>(batch.bad);
      for (const [c, col] of outColumns.entries()) {
        for (let r = 0; r < n; r++) {
          if (!Number.isFinite(col[r]!) && !drop.has(r)) drop.set(r, `output "${m.outputs[c]!.column}" is ${col[r]} (not a finite number)`);
        }
      }
      let rowIds = batch.rowIds;
      let kept = outColumns;
      if (drop.size) {
        const first = [...drop.keys()].sort((a, b) => a - b)[0]!;
        if (options.onError === 'fail') fail(batch.rowIds[first]!, drop.get(first)!, batch.bad.has(first) ? undefined : m);
        for (const [r, reason] of drop) errorRows.push({ row: batch.rowIds[r]!, model: m.ref, reason });
        errors += drop.size;
        const keep = new Int32Array(n - drop.size);
        let k = 0;
        for (let r = 0; r < n; r++) if (!drop.has(r)) keep[k++] = r;
        rowIds = Float64Array.from(keep, (r) => batch.rowIds[r]!);
        kept = outColumns.map((col) => Float32Array.from(keep, (r) => col[r]!));
      }
      buffers[mi]!.push(rowIds, kept);
    };

    const drainOne = async () => {
      const done = await inflight.shift()!;
      await done();
    };

    try {
      for await (const batch of reader.read(inTable(slot), options.batchSize)) {
        for (const [mi, m] of this.models.entries()) {
          const columns: Column[] = m.plan.inputs.map((input) => batch.columns.get(input.name)!);
          // Feature matrices come back from the workers with the scores and are reused: no new
          // buffer per batch (garbage the size of the input otherwise).
          const buffer = this.matrices[mi]!.pop() ?? new ArrayBuffer(options.batchSize * m.width * 4);
          m.compiled.runInto(columns, batch.rows, new Float32Array(buffer, 0, batch.rows * m.width));
          inflight.push(
            this.pool.run(m.key, buffer, batch.rows, m.width).then((result) => {
              this.matrices[mi]!.push(result.input);
              return () => finish(batch, mi, result);
            }),
          );
        }
        rows += batch.rows;
        options.onRows(batch.rows);
        while (inflight.length > options.inflight * this.models.length) await drainOne();
      }
      while (inflight.length) await drainOne();
    } catch (error) {
      // Let the in-flight batches settle before the caller drops the tables they write to.
      await Promise.allSettled(inflight);
      throw error;
    }
    for (const [mi, buffer] of buffers.entries()) await buffer.append(this.engine, scoresTable(mi, slot));
    if (errorRows.length) await this.appendErrors(errorsTable(slot), errorRows);
    return { rows, errors, scored: buffers.map((b) => b.rows) };
  }

  private async appendErrors(table: string, errorRows: { row: number; model: string; reason: string }[]): Promise<void> {
    const appender = await this.engine.writer.createAppender(table);
    try {
      for (const e of errorRows) {
        appender.appendDouble(e.row);
        appender.appendVarchar(e.model);
        appender.appendVarchar(e.reason);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }
}
