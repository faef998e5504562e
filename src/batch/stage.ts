/**
 * Stages one part of an input file in the engine as a table (`inTable(slot)`): the part's rows
 * with `__row` (the 0-based row number in the file), optionally with features joined
 * point-in-time from the offline store. A part is bounded in size (--part-rows), and at most
 * SLOTS (two) parts are staged at once (one scored while the other is written, then staged), so the job's memory
 * does not grow with the input. HDF5 files are streamed into the engine once per job (DuckDB
 * spills to its temp folder past its memory limit), and parts select row ranges of that table.
 *
 * The feature join uses the offline store's own point-in-time SQL (the dataset builder's rule and
 * statements), with the feature tables prepared once per job: windowed tables are aggregated from
 * their sources once, not once per part. The job's quality run (the sources' profiles and
 * expectations, as a dataset build checks them) happens once, when the tables are prepared.
 */
import { FrescoError } from '../errors/index.js';
import { selectFeatures } from '../features/definitions.js';
import { requireApplied, type Project } from '../features/project.js';
import { DuckDbDialect, loadHdf5IntoDuckDb, quoteIdent, quoteString, type OfflineEngine, type PitTable } from '../offline/index.js';
import { prepareFeatureTables, type PreparedFeatureTables } from '../offline/feature-tables.js';
import { checkSources } from '../offline/quality/source-checks.js';
import { finishQualityRun } from '../offline/quality/report.js';
import { columnKind, requireColumn } from '../offline/sources.js';
import type { InputFile, Part } from './parts.js';

export const ROW = '__row';
/** Staged parts held at once: part k being scored, and part k-1 being written or else part k+1 being staged. */
export const SLOTS = 2;
export const inTable = (slot: number) => `__batch_in_${slot}`;

export interface JoinSpec {
  project: Project;
  /** The entity rows' timestamp column (features are joined as of it). */
  timestamp: string;
  /** `table.feature`, `table.*` or feature service names. */
  features: string[];
  /** What the job's quality run is about (the output), and what its sources' freshness is measured from (the newest entity row). */
  quality?: { subject: string; referenceTime: Date | undefined; log: (line: string) => void };
}

export class PartStager {
  private readonly h5Tables = new Map<string, string>();
  private readonly dialect = new DuckDbDialect();
  private prepared: Promise<PreparedFeatureTables> | undefined;
  private readonly checkedFiles = new Set<string>();

  /** The features to join onto every part (set once the job knows them), or none. */
  join: JoinSpec | undefined;

  constructor(
    /** The staging connection: the join's feature tables are TEMP tables of it. */
    private readonly engine: OfflineEngine,
    private readonly options: { h5Group?: string },
  ) {}

  /** The whole file with `__row`. */
  async fileScan(f: InputFile): Promise<string> {
    if (f.format === 'parquet') return `(SELECT * EXCLUDE (file_row_number), CAST(file_row_number AS BIGINT) AS ${ROW} FROM read_parquet(${quoteString(f.path)}, file_row_number = true))`;
    if (f.format === 'csv') return `(SELECT *, CAST(row_number() OVER () - 1 AS BIGINT) AS ${ROW} FROM read_csv(${quoteString(f.path)}, header = true))`;
    let table = this.h5Tables.get(f.path);
    if (!table) {
      table = `__batch_h5_${this.h5Tables.size}`;
      await loadHdf5IntoDuckDb(this.engine, f.path, table, this.options.h5Group);
      this.h5Tables.set(f.path, table);
    }
    return `(SELECT *, CAST(rowid AS BIGINT) AS ${ROW} FROM ${quoteIdent(table)})`;
  }

  private async scan(part: Part): Promise<string> {
    const f = part.file;
    if (f.format === 'parquet') {
      // Filtered on file_row_number itself, which the Parquet reader prunes row groups by.
      return `(SELECT * EXCLUDE (file_row_number), CAST(file_row_number AS BIGINT) AS ${ROW} FROM read_parquet(${quoteString(f.path)}, file_row_number = true) WHERE file_row_number >= ${part.start} AND file_row_number < ${part.end})`;
    }
    return `(SELECT * FROM ${await this.fileScan(f)} WHERE ${ROW} >= ${part.start} AND ${ROW} < ${part.end})`;
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

  /** Creates `inTable(slot)` for `part`; returns its column -> DuckDB type (joined features included). */
  async stage(part: Part, slot: number): Promise<Map<string, string>> {
    const scan = await this.scan(part);
    const table = inTable(slot);
    try {
      if (this.join) await this.joinFeatures(part, scan, table, this.join);
      else await this.engine.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${scan}`);
    } catch (error) {
      if (error instanceof FrescoError) throw error;
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${part.file.path}: cannot read rows ${part.start}..${part.end - 1}: ${(error as Error).message.split('\n')[0]}`, {
        location: { file: part.file.path },
        cause: error,
      });
    }
    return this.engine.describe(table);
  }

  /**
   * Joins features onto the part point-in-time (Feast's rule, the statement that builds training
   * sets); the join keeps the part's row order.
   */
  private async joinFeatures(part: Part, scan: string, table: string, spec: JoinSpec): Promise<void> {
    const fail = (error: unknown): never => {
      if (!(error instanceof FrescoError)) throw error;
      throw new FrescoError(error.code, `${part.file.path} (rows ${part.start}..${part.end - 1}): feature join failed: ${error.message}`, {
        location: error.location ?? { file: part.file.path },
        cause: error,
      });
    };
    const columns = await this.engine.describe(scan);
    const labels = { path: part.file.path, columns };
    try {
      requireColumn(labels, spec.timestamp, 'temporal', 'entity timestamp');
      if (!this.prepared) {
        const selection = selectFeatures(spec.project.definitions, spec.features);
        requireApplied(spec.project, selection.keys());
        this.prepared = prepareFeatureTables(this.engine, this.dialect, spec.project.definitions, selection, labels).then(async (p) => {
          await this.checkQuality(p, spec);
          return this.materialize(p);
        });
      }
    } catch (error) {
      fail(error);
    }
    const prepared = await this.prepared!.catch(fail);
    if (!this.checkedFiles.has(part.file.path)) {
      // The tables were prepared against the first file's columns: check this file's join keys too.
      try {
        for (const { table: t, source, pit } of prepared.plans) {
          for (const k of pit.keys) {
            const type = requireColumn(labels, k.label, 'key', `join key "${k.table}" of table "${t.name}"`);
            const sourceType = source.columns.get(t.keyMap[k.table]!);
            if (sourceType && columnKind(sourceType) !== columnKind(type)) {
              throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${part.file.path}: column "${k.label}" (join key "${k.table}" of table "${t.name}") has type ${type}, but the source column "${t.keyMap[k.table]}" in ${source.path} has type ${sourceType}`, {
                location: { file: part.file.path, key: k.label },
              });
            }
          }
          for (const f of pit.features) {
            if (columns.has(f.as)) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${part.file.path}: column "${f.as}" clashes with the feature column of the same name`, { location: { file: part.file.path, key: f.as } });
          }
        }
      } catch (error) {
        fail(error);
      }
      this.checkedFiles.add(part.file.path);
    }
    const tables = await this.narrowed(prepared, scan, spec.timestamp);
    const sql = this.dialect.pointInTimeJoin({ labels: scan, labelColumns: [...columns.keys()], labelTimestamp: spec.timestamp, tables });
    await this.engine.run(`CREATE OR REPLACE TABLE ${table} AS ${sql}`);
  }

  /**
   * The job's data-quality run, once, before any part is joined: the feature sources' profiles
   * and expectations, as a dataset build checks them (docs/data-quality.md). A failed check of
   * severity error stops the job before anything is scored.
   */
  private async checkQuality(prepared: PreparedFeatureTables, spec: JoinSpec): Promise<void> {
    const startedAt = new Date();
    const { project } = spec;
    const sources = await checkSources(this.engine, this.dialect, project.definitions, prepared, project.config.stateFile, spec.quality?.referenceTime);
    finishQualityRun({
      qualityDir: project.config.qualityDir,
      stateFile: project.config.stateFile,
      kind: 'batch',
      subject: spec.quality?.subject ?? 'batch score',
      startedAt,
      tables: sources.profiles,
      checks: sources.checks,
      notDone: 'nothing scored',
      log: spec.quality?.log ?? (() => {}),
    });
  }

  /** The newest value of `column` over all of `files` (as a timestamp), or undefined when none. */
  async newestTimestamp(files: readonly InputFile[], column: string): Promise<Date | undefined> {
    let newest: number | undefined;
    for (const f of files) {
      const [row] = await this.engine.rows(`SELECT CAST(max(CAST(${quoteIdent(column)} AS TIMESTAMP)) AS VARCHAR) AS t FROM ${await this.fileScan(f)}`);
      const t = row?.t === null || row?.t === undefined ? NaN : Date.parse(`${String(row.t).replace(' ', 'T')}Z`);
      if (Number.isFinite(t) && (newest === undefined || t > newest)) newest = t;
    }
    return newest === undefined ? undefined : new Date(newest);
  }

  /**
   * Timed feature relations that are queries (latest row per event of a batch table) become
   * tables once, so that no part evaluates them again. Windowed and static tables already are.
   */
  private async materialize(prepared: PreparedFeatureTables): Promise<PreparedFeatureTables> {
    for (const [i, plan] of prepared.plans.entries()) {
      if (!plan.pit.timed || !plan.pit.relation.startsWith('(')) continue;
      const name = `__batch_feature_rows_${i}`;
      await this.engine.run(`CREATE OR REPLACE TEMP TABLE ${name} AS SELECT * FROM ${plan.pit.relation}`);
      plan.pit = { ...plan.pit, relation: name };
    }
    return prepared;
  }

  /**
   * Each timed table narrowed to the rows that can match the part: an as-of join sorts its whole
   * right side for every statement, which for a part costs more than the part itself. A label at
   * time t in [lo, hi] matches its key's latest row at or before t: a row in [lo, t], or else the
   * key's latest row before lo. So the rows in [lo, hi] plus, per key, the rows at its latest time
   * before lo give exactly the same matches (the rule's ties, if any, are kept: every row at that
   * time stays). Parts of time-ordered input (the usual case) then join against a small slice.
   */
  private async narrowed(prepared: PreparedFeatureTables, scan: string, timestamp: string): Promise<PitTable[]> {
    const ts = `CAST(${quoteIdent(timestamp)} AS TIMESTAMP)`;
    const [bounds] = await this.engine.rows(`SELECT CAST(min(${ts}) AS VARCHAR) AS lo, CAST(max(${ts}) AS VARCHAR) AS hi FROM ${scan}`);
    if (bounds?.lo === null || bounds?.lo === undefined || bounds.hi === null) return prepared.plans.map((p) => p.pit);
    const lo = `TIMESTAMP ${quoteString(String(bounds.lo))}`;
    const hi = `TIMESTAMP ${quoteString(String(bounds.hi))}`;
    return prepared.plans.map(({ pit }) => {
      if (!pit.timed) return pit;
      const keys = pit.keys.map((k) => quoteIdent(k.table));
      const latestBefore = `SELECT ${keys.join(', ')}, max(__event_ts) AS __latest FROM ${pit.relation} WHERE __event_ts < ${lo} GROUP BY ALL`;
      const relation = `(SELECT * FROM ${pit.relation} WHERE __event_ts >= ${lo} AND __event_ts <= ${hi}
  UNION ALL
  SELECT __r.* FROM ${pit.relation} AS __r SEMI JOIN (${latestBefore}) AS __b ON ${keys.map((k) => `__r.${k} = __b.${k}`).join(' AND ')} AND __r.__event_ts = __b.__latest)`;
      return { ...pit, relation };
    });
  }
}
