/**
 * Stages one part of an input file in the engine as table `__batch_in`: the part's rows with
 * `__row` (the 0-based row number in the file), optionally with features joined point-in-time
 * from the offline store. A part is bounded in size (--part-rows), so the job's memory does not
 * grow with the input. HDF5 files are streamed into the engine once per job (DuckDB spills to its
 * temp folder past its memory limit), and parts select row ranges of that table.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { buildDataset, loadHdf5IntoDuckDb, quoteIdent, quoteString, type OfflineEngine } from '../offline/index.js';
import type { Project } from '../features/project.js';
import type { Part } from './parts.js';

export const IN_TABLE = '__batch_in';
export const ROW = '__row';

export interface JoinSpec {
  project: Project;
  /** The entity rows' timestamp column (features are joined as of it). */
  timestamp: string;
  /** `table.feature`, `table.*` or feature service names. */
  features: string[];
}

export class PartStager {
  private readonly h5Tables = new Map<string, string>();

  constructor(
    private readonly engine: OfflineEngine,
    /** A private folder for join inputs and outputs. */
    private readonly workDir: string,
    private readonly options: { h5Group?: string; join?: JoinSpec },
  ) {}

  private async scan(part: Part): Promise<string> {
    const f = part.file;
    const range = `${ROW} >= ${part.start} AND ${ROW} < ${part.end}`;
    if (f.format === 'parquet') {
      return `(SELECT * EXCLUDE (file_row_number), CAST(file_row_number AS BIGINT) AS ${ROW} FROM read_parquet(${quoteString(f.path)}, file_row_number = true) WHERE file_row_number >= ${part.start} AND file_row_number < ${part.end})`;
    }
    if (f.format === 'csv') {
      return `(SELECT * FROM (SELECT *, CAST(row_number() OVER () - 1 AS BIGINT) AS ${ROW} FROM read_csv(${quoteString(f.path)}, header = true)) WHERE ${range})`;
    }
    let table = this.h5Tables.get(f.path);
    if (!table) {
      table = `__batch_h5_${this.h5Tables.size}`;
      await loadHdf5IntoDuckDb(this.engine, f.path, table, this.options.h5Group);
      this.h5Tables.set(f.path, table);
    }
    return `(SELECT * FROM (SELECT *, CAST(rowid AS BIGINT) AS ${ROW} FROM ${quoteIdent(table)}) WHERE ${range})`;
  }

  /** The file's own columns (before any join), column -> DuckDB type. */
  async fileColumns(part: Part): Promise<Map<string, string>> {
    const scan = await this.scan(part);
    try {
      const columns = await this.engine.describe(scan);
      columns.delete(ROW);
      return columns;
    } catch (error) {
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${part.file.path}: cannot read it: ${(error as Error).message.split('\n')[0]}`, { location: { file: part.file.path }, cause: error });
    }
  }

  /** Creates `__batch_in` for `part`; returns its column -> DuckDB type (joined features included). */
  async stage(part: Part): Promise<Map<string, string>> {
    const scan = await this.scan(part);
    try {
      await this.engine.run(`CREATE OR REPLACE TABLE ${IN_TABLE} AS SELECT * FROM ${scan}`);
    } catch (error) {
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${part.file.path}: cannot read rows ${part.start}..${part.end - 1}: ${(error as Error).message.split('\n')[0]}`, {
        location: { file: part.file.path },
        cause: error,
      });
    }
    if (this.options.join) await this.join(part, this.options.join);
    return this.engine.describe(IN_TABLE);
  }

  /**
   * Joins features onto the part with the offline store's dataset builder (Feast's point-in-time
   * rule, the same code that builds training sets), then restores the part's row order.
   */
  private async join(part: Part, spec: JoinSpec): Promise<void> {
    const labels = join(this.workDir, `${part.id}.entities.parquet`);
    const joined = join(this.workDir, `${part.id}.joined.parquet`);
    try {
      await this.engine.run(`COPY ${IN_TABLE} TO ${quoteString(labels)} (FORMAT parquet)`);
      await buildDataset({ project: spec.project, labels, timestamp: spec.timestamp, features: spec.features, out: joined, engine: { threads: 1 } });
      await this.engine.run(`CREATE OR REPLACE TABLE ${IN_TABLE} AS SELECT * FROM read_parquet(${quoteString(joined)}) ORDER BY ${ROW}`);
    } catch (error) {
      if (error instanceof FrescoError) {
        throw new FrescoError(error.code, `${part.file.path} (rows ${part.start}..${part.end - 1}): feature join failed: ${error.message}`, {
          location: error.location ?? { file: part.file.path },
          cause: error,
        });
      }
      throw error;
    } finally {
      for (const f of [labels, joined, `${joined}.manifest.json`]) rmSync(f, { force: true });
    }
  }

  async dropPart(): Promise<void> {
    await this.engine.run(`DROP TABLE IF EXISTS ${IN_TABLE}`);
  }
}
