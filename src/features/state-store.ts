/**
 * The project's state database (`.fresco/state.db`, SQLite): every applied definition version,
 * and the history of data-quality runs (used for row-count-change checks and `fresco quality list`).
 * The model registry keeps its own database; this one belongs to the feature store.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { FrescoError } from '../errors/index.js';
import type { DefinitionKind, DefinitionMeaning } from './versions.js';

export interface AppliedVersion {
  kind: DefinitionKind;
  name: string;
  version: number;
  hash: string;
  appliedAt: string;
}

export interface QualityRunRecord {
  id: string;
  kind: string;
  startedAt: string;
  status: 'passed' | 'warned' | 'failed';
  /** Path of report.json. */
  report: string;
  summary: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS definition_versions (
  kind TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL,
  body TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (kind, name, version));
CREATE TABLE IF NOT EXISTS quality_runs (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, started_at TEXT NOT NULL, status TEXT NOT NULL,
  report TEXT NOT NULL, summary TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS materializations (
  id TEXT PRIMARY KEY, table_name TEXT NOT NULL, version TEXT NOT NULL, store TEXT NOT NULL,
  window_start TEXT NOT NULL, window_end TEXT NOT NULL, status TEXT NOT NULL, rows INTEGER NOT NULL,
  last_key TEXT, started_at TEXT NOT NULL, finished_at TEXT, report TEXT);
CREATE TABLE IF NOT EXISTS quality_table_rows (
  run_id TEXT NOT NULL, table_name TEXT NOT NULL, rows INTEGER NOT NULL, PRIMARY KEY (run_id, table_name));
`;

/** One materialization of one feature table into one online store (src/online/materialize.ts). */
export interface MaterializationRecord {
  id: string;
  table: string;
  /** Definition version label (`v3-<hash>`). */
  version: string;
  /** Which online store (`embedded:<path>`, `redis:<url>`). */
  store: string;
  /** ISO times, both inclusive. */
  start: string;
  end: string;
  status: 'running' | 'done' | 'failed';
  /** Rows written so far (committed chunks). */
  rows: number;
  /** Entity key of the last committed row (rows are written in key order): where a resume starts. */
  lastKey: string | null;
  startedAt: string;
  finishedAt: string | null;
  report: string | null;
}

export class StateStore {
  private readonly db: Database.Database;

  /**
   * Opens (creating if needed) the state database. `create: false` is for readers (list,
   * describe, apply --dry-run): the file must exist and nothing is written to it; a read-write
   * connection that only reads leaves the folder as it found it (a read-only one would leave
   * -wal and -shm files behind).
   */
  constructor(
    readonly file: string,
    create = true,
  ) {
    if (create) mkdirSync(dirname(file), { recursive: true });
    try {
      this.db = new Database(file, { fileMustExist: !create });
      this.db.pragma('busy_timeout = 5000');
      if (create) {
        this.db.pragma('journal_mode = WAL');
        this.db.exec(SCHEMA);
      }
    } catch (error) {
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${file}: cannot open the state database: ${(error as Error).message}`, { location: { file }, cause: error });
    }
  }

  /** The state database to read, or undefined when the project has none yet (never applied). */
  static openExisting(file: string): StateStore | undefined {
    return existsSync(file) ? new StateStore(file, false) : undefined;
  }

  close(): void {
    this.db.close();
  }

  /** What a recorded version meant (the body its hash was taken of). */
  bodyOf(kind: DefinitionKind, name: string, version: number): unknown {
    const row = this.db.prepare('SELECT body FROM definition_versions WHERE kind = ? AND name = ? AND version = ?').get(kind, name, version) as { body: string } | undefined;
    return row ? JSON.parse(row.body) : undefined;
  }

  /** The latest applied version of every definition. */
  latest(): Map<string, AppliedVersion> {
    const rows = this.db
      .prepare(
        `SELECT kind, name, version, hash, applied_at FROM definition_versions d
         WHERE version = (SELECT max(version) FROM definition_versions e WHERE e.kind = d.kind AND e.name = d.name)`,
      )
      .all() as { kind: DefinitionKind; name: string; version: number; hash: string; applied_at: string }[];
    return new Map(rows.map((r) => [`${r.kind}:${r.name}`, { kind: r.kind, name: r.name, version: r.version, hash: r.hash, appliedAt: r.applied_at }]));
  }

  /** Every version of one definition, oldest first. */
  history(kind: DefinitionKind, name: string): AppliedVersion[] {
    return (this.db.prepare('SELECT version, hash, applied_at FROM definition_versions WHERE kind = ? AND name = ? ORDER BY version').all(kind, name) as {
      version: number;
      hash: string;
      applied_at: string;
    }[]).map((r) => ({ kind, name, version: r.version, hash: r.hash, appliedAt: r.applied_at }));
  }

  /** Records new versions for the definitions whose hash changed; one transaction. */
  apply(meanings: DefinitionMeaning[], now = new Date()): { meaning: DefinitionMeaning; version: number; change: 'new' | 'changed' | 'unchanged' }[] {
    const insert = this.db.prepare('INSERT INTO definition_versions (kind, name, version, hash, body, applied_at) VALUES (?, ?, ?, ?, ?, ?)');
    return this.db.transaction(() => {
      const latest = this.latest();
      return meanings.map((meaning) => {
        const before = latest.get(`${meaning.kind}:${meaning.name}`);
        if (before?.hash === meaning.hash) return { meaning, version: before.version, change: 'unchanged' as const };
        const version = (before?.version ?? 0) + 1;
        insert.run(meaning.kind, meaning.name, version, meaning.hash, JSON.stringify(meaning.body), now.toISOString());
        return { meaning, version, change: before ? ('changed' as const) : ('new' as const) };
      });
    })();
  }

  recordQualityRun(run: QualityRunRecord, tableRows: Record<string, number>): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO quality_runs (id, kind, started_at, status, report, summary) VALUES (?, ?, ?, ?, ?, ?)').run(run.id, run.kind, run.startedAt, run.status, run.report, run.summary);
      const insert = this.db.prepare('INSERT INTO quality_table_rows (run_id, table_name, rows) VALUES (?, ?, ?)');
      for (const [name, rows] of Object.entries(tableRows)) insert.run(run.id, name, rows);
    })();
  }

  /** Row count of `table` in the latest earlier run that read it. */
  previousRows(table: string): { runId: string; rows: number } | undefined {
    const row = this.db
      .prepare(
        `SELECT r.id AS run_id, t.rows AS rows FROM quality_table_rows t JOIN quality_runs r ON r.id = t.run_id
         WHERE t.table_name = ? ORDER BY r.started_at DESC, r.id DESC LIMIT 1`,
      )
      .get(table) as { run_id: string; rows: number } | undefined;
    return row ? { runId: row.run_id, rows: row.rows } : undefined;
  }

  beginMaterialization(r: Pick<MaterializationRecord, 'id' | 'table' | 'version' | 'store' | 'start' | 'end' | 'startedAt'>): void {
    this.db
      .prepare(`INSERT INTO materializations (id, table_name, version, store, window_start, window_end, status, rows, last_key, started_at) VALUES (?, ?, ?, ?, ?, ?, 'running', 0, NULL, ?)`)
      .run(r.id, r.table, r.version, r.store, r.start, r.end, r.startedAt);
  }

  /** Called after each committed chunk. */
  materializationProgress(id: string, rows: number, lastKey: string | null): void {
    this.db.prepare(`UPDATE materializations SET rows = ?, last_key = ?, status = 'running' WHERE id = ?`).run(rows, lastKey, id);
  }

  finishMaterialization(id: string, status: 'done' | 'failed', report?: string): void {
    this.db.prepare('UPDATE materializations SET status = ?, finished_at = ?, report = coalesce(?, report) WHERE id = ?').run(status, new Date().toISOString(), report ?? null, id);
  }

  /** Materializations, newest first (of one table and store when given). */
  materializations(filter: { table?: string; store?: string; status?: MaterializationRecord['status'] } = {}, limit = 100): MaterializationRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.table) (where.push('table_name = ?'), args.push(filter.table));
    if (filter.store) (where.push('store = ?'), args.push(filter.store));
    if (filter.status) (where.push('status = ?'), args.push(filter.status));
    const rows = this.db
      .prepare(`SELECT * FROM materializations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, rowid DESC LIMIT ?`)
      .all(...args, limit) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as string,
      table: r.table_name as string,
      version: r.version as string,
      store: r.store as string,
      start: r.window_start as string,
      end: r.window_end as string,
      status: r.status as MaterializationRecord['status'],
      rows: r.rows as number,
      lastKey: (r.last_key as string | null) ?? null,
      startedAt: r.started_at as string,
      finishedAt: (r.finished_at as string | null) ?? null,
      report: (r.report as string | null) ?? null,
    }));
  }

  qualityRuns(limit = 50): QualityRunRecord[] {
    return (this.db.prepare('SELECT id, kind, started_at, status, report, summary FROM quality_runs ORDER BY started_at DESC, id DESC LIMIT ?').all(limit) as {
      id: string;
      kind: string;
      started_at: string;
      status: QualityRunRecord['status'];
      report: string;
      summary: string;
    }[]).map((r) => ({ id: r.id, kind: r.kind, startedAt: r.started_at, status: r.status, report: r.report, summary: r.summary }));
  }

  qualityRun(id: string): QualityRunRecord | undefined {
    return this.qualityRuns(1_000_000).find((r) => r.id === id || r.id.startsWith(id));
  }
}
