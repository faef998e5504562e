/**
 * `fresco materialize`: the latest value per entity in a time window, from the offline store into
 * the online store. Per table: the rows are computed in DuckDB (which spills, so memory stays
 * bounded), checked by the data-quality expectations (nothing is written when a check fails),
 * then streamed in entity-key order in chunks; each chunk is one store write (atomic for readers
 * on the embedded store and a single Redis) and its last key is recorded in the state database.
 * A run killed halfway resumes after the last committed chunk; writes skip rows older than what
 * the store holds, so re-running any window is harmless.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { FrescoError } from '../errors/index.js';
import type { FeatureTable } from '../features/definitions.js';
import { loadProject, requireApplied, type Project } from '../features/project.js';
import { StateStore, type MaterializationRecord } from '../features/state-store.js';
import { openEngine, type OfflineEngine, type OfflineEngineOptions } from '../offline/index.js';
import { allowedAggregates, checkColumn, checkTable, type CheckResult } from '../offline/quality/checks.js';
import { profileRelation, type TableProfile } from '../offline/quality/profile.js';
import { finishQualityRun, newRunId, removeLeftoverReports, summarize, type QualityReport } from '../offline/quality/report.js';
import { registerSource, type Relation } from '../offline/sources.js';
import { DuckDbDialect } from '../offline/sql-dialect.js';
import { removeLeftoverScratchDirs, scratchDir } from '../util/leftovers.js';
import { checkStaticUnique, EVENT_MS, KEY, latestRowsSql } from './feature-rows.js';
import type { OnlineRow, OnlineStore } from './online-store.js';
import { openOnlineStore, tableSchema } from './open-store.js';
import type { OnlineValue } from './row-codec.js';

export interface MaterializeProgress {
  table: string;
  rows: number;
  total: number;
}

export interface MaterializeOptions {
  project?: string | Project;
  /** Feature tables (default: all). */
  tables?: string[];
  /** Window, both inclusive. Default start: the beginning of time (or, incremental, the last run's end); end: now. */
  start?: string | Date;
  end?: string | Date;
  /** Start each table where its last completed run into this store ended. */
  incremental?: boolean;
  /** Rows per store write (default 10 000). */
  chunkRows?: number;
  /** An open store (default: the project's, opened and closed here). */
  store?: OnlineStore;
  engine?: OfflineEngineOptions;
  log?: (line: string) => void;
  /** Called after each committed chunk; awaited. */
  onProgress?: (p: MaterializeProgress) => void | Promise<void>;
}

export interface TableMaterialization {
  table: string;
  version: string;
  start: string;
  end: string;
  rows: number;
  written: number;
  skippedOlder: number;
  /** Rows already committed by an interrupted run this one resumed (0 when it started afresh). */
  resumedAfter: number;
  seconds: number;
}

export interface MaterializeResult {
  store: string;
  tables: TableMaterialization[];
  quality: { report: string; html: string; status: QualityReport['status']; summary: string };
}

function parseTime(value: string | Date, what: string): Date {
  const d = value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) || /^\d{4}-\d\d-\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  if (Number.isNaN(d.getTime())) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${what} "${String(value)}" is not a time (use ISO 8601, e.g. 2001-06-01T00:00:00Z)`);
  return d;
}


/** The spill folders' names in `.fresco/tmp`: `materialize-<host>-<pid>-<random>`. */
const SCRATCH_PREFIX = 'materialize-';

interface Planned {
  table: FeatureTable;
  version: string;
  start: Date;
  end: Date;
  /** The interrupted run this one continues. */
  resume?: MaterializationRecord;
  temp: string;
  total: number;
}

export async function materialize(options: MaterializeOptions = {}): Promise<MaterializeResult> {
  const log = options.log ?? (() => {});
  const project = typeof options.project === 'object' ? options.project : loadProject(options.project ?? '.');
  const defs = project.definitions;
  const names = options.tables && options.tables.length > 0 ? options.tables : [...defs.tables.keys()];
  for (const n of names) if (!defs.tables.has(n)) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `unknown feature table "${n}"`, { location: { key: n } });
  const versions = requireApplied(project, names);
  const end = options.end !== undefined ? parseTime(options.end, '--end') : new Date();
  const explicitStart = options.start !== undefined ? parseTime(options.start, '--start') : undefined;
  if (explicitStart && explicitStart > end) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--start ${explicitStart.toISOString()} is after --end ${end.toISOString()}`);
  const chunkRows = Math.max(1, options.chunkRows ?? 10_000);
  const state = new StateStore(project.config.stateFile);
  const dialect = new DuckDbDialect();
  const q = (s: string) => dialect.ident(s);
  // DuckDB spills into a folder of this run's own: a run killed with SIGKILL leaves it behind, and
  // the next run removes those of dead runs (a concurrent run's are left alone: util/leftovers.ts),
  // with the quality report temporaries of killed runs.
  const tmpRoot = resolve(project.config.root, '.fresco', 'tmp');
  removeLeftoverScratchDirs(tmpRoot, SCRATCH_PREFIX);
  removeLeftoverReports(project.config.qualityDir);
  const spill = scratchDir(tmpRoot, SCRATCH_PREFIX);
  let engine: OfflineEngine | undefined;
  let store: OnlineStore;
  try {
    engine = await openEngine({ tempDir: spill, memoryLimit: '2GB', ...options.engine });
    store = options.store ?? (await openOnlineStore(project.config));
  } catch (error) {
    engine?.close();
    rmSync(spill, { recursive: true, force: true });
    state.close();
    throw error;
  }
  const storeId = store.id;
  const startedAt = new Date();
  try {
    // Plan every table's window; an interrupted run of the same table, version and store resumes.
    const plans: Planned[] = [];
    const addPlan = (table: FeatureTable, start: Date, planEnd: Date, resume?: MaterializationRecord) =>
      plans.push({ table, version: versions[table.name]!, start, end: planEnd, ...(resume ? { resume } : {}), temp: `__fresco_mat_${plans.length}`, total: 0 });
    for (const name of names) {
      const table = defs.tables.get(name)!;
      const version = versions[name]!;
      const runs = state.materializations({ table: name, store: storeId }).filter((r) => r.version === version);
      const unfinished = runs.find((r) => r.status !== 'done' && r.rows > 0);
      const lastDone = runs.find((r) => r.status === 'done');
      const start = explicitStart ?? (options.incremental && lastDone ? new Date(lastDone.end) : new Date(0));
      if (unfinished && (options.incremental || (unfinished.start === start.toISOString() && unfinished.end === end.toISOString()))) {
        // Finish the interrupted window first; incremental then continues from its end.
        addPlan(table, new Date(unfinished.start), new Date(unfinished.end), unfinished);
        if (options.incremental && new Date(unfinished.end) < end) addPlan(table, new Date(unfinished.end), end);
      } else {
        addPlan(table, start, end);
      }
    }

    // Compute rows and run the quality checks before writing anything.
    const sources = new Map<string, Relation>();
    const profiles: TableProfile[] = [];
    const checks: CheckResult[] = [];
    for (const p of plans) {
      const sourceDef = defs.sources.get(p.table.source)!;
      let relation = sources.get(sourceDef.name);
      if (!relation) {
        relation = await registerSource(engine, dialect, sourceDef, `__fresco_source_${sourceDef.name}`);
        sources.set(sourceDef.name, relation);
      }
      await checkStaticUnique(engine, dialect, p.table, relation);
      const sql = latestRowsSql({ dialect, table: p.table, source: sourceDef, relation, start: p.start, end: p.end });
      await engine.run(`CREATE TEMP TABLE ${q(`${p.temp}_rows`)} AS ${sql.rows}`);
      await engine.run(`CREATE TEMP TABLE ${q(p.temp)} AS ${sql.latest(`${p.temp}_rows`)}`);
      await engine.run(`DROP TABLE ${q(`${p.temp}_rows`)}`);
      const [{ n }] = (await engine.rows(`SELECT count(*) AS n FROM ${q(p.temp)}`)) as [{ n: bigint }];
      p.total = Number(n);
      const featureChecks = p.table.features.flatMap((f) => f.expectations.map((e) => ({ column: f.name, e })));
      const columns = new Map([...(await engine.describe(q(p.temp)))].filter(([c]) => c !== KEY && c !== EVENT_MS));
      const { profile, extra } = await profileRelation(engine, {
        name: `online:${p.table.name}`,
        relation: q(p.temp),
        columns,
        extra: allowedAggregates(featureChecks.filter((c) => c.e.allowed).map((c) => ({ column: c.column, allowed: c.e.allowed! }))),
      });
      profiles.push(profile);
      for (const { column, e } of featureChecks) checks.push(...checkColumn(profile, column, e, extra));
    }
    for (const [name, relation] of sources) {
      const def = defs.sources.get(name)!;
      if (def.expectations.length === 0) continue;
      const used = new Set([...def.expectations.filter((e) => e.column).map((e) => e.column!), ...(def.timestamp ? [def.timestamp] : [])]);
      const columns = new Map([...relation.columns].filter(([c]) => used.has(c)));
      const allowed = def.expectations.filter((e) => e.column && e.allowed).map((e) => ({ column: e.column!, allowed: e.allowed! }));
      const { profile, extra } = await profileRelation(engine, {
        name: `source:${name}`,
        relation: q(relation.name),
        columns,
        file: def.path,
        ...(def.timestamp ? { timeColumn: def.timestamp } : {}),
        extra: allowedAggregates(allowed),
      });
      profiles.push(profile);
      const previous = state.previousRows(profile.name);
      for (const e of def.expectations) {
        if (e.column) checks.push(...checkColumn(profile, e.column, e, extra));
        checks.push(...checkTable(profile, e, { referenceTime: end, ...(previous ? { previousRows: previous.rows } : {}) }));
      }
    }
    const { report, saved } = finishQualityRun({
      qualityDir: project.config.qualityDir,
      stateFile: project.config.stateFile,
      kind: 'materialize',
      subject: `${names.join(', ')} -> ${storeId}`,
      startedAt,
      tables: profiles,
      checks,
      notDone: 'nothing materialized',
      log,
    });

    const results: TableMaterialization[] = [];
    for (const p of plans) results.push(await writeTable(p, { engine, store, state, storeId, chunkRows, reportFile: saved.json, log, ...(options.onProgress ? { onProgress: options.onProgress } : {}) }));
    return { store: storeId, tables: results, quality: { report: saved.json, html: saved.html, status: report.status, summary: summarize(report) } };
  } finally {
    engine.close();
    rmSync(spill, { recursive: true, force: true });
    state.close();
    if (!options.store) await store.close();
  }
}

async function writeTable(
  p: Planned,
  ctx: {
    engine: OfflineEngine;
    store: OnlineStore;
    state: StateStore;
    storeId: string;
    chunkRows: number;
    reportFile: string;
    log: (line: string) => void;
    onProgress?: (p: MaterializeProgress) => void | Promise<void>;
  },
): Promise<TableMaterialization> {
  const began = performance.now();
  const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
  const table = p.table;
  await ctx.store.defineTable(tableSchema(table));
  const id = p.resume?.id ?? `${newRunId()}-${table.name}`;
  if (!p.resume) ctx.state.beginMaterialization({ id, table: table.name, version: p.version, store: ctx.storeId, start: p.start.toISOString(), end: p.end.toISOString(), startedAt: new Date().toISOString() });
  const resumedAfter = p.resume?.rows ?? 0;
  let rows = resumedAfter;
  let written = 0;
  let skippedOlder = 0;
  if (p.resume) ctx.log(`${table.name}: resuming an interrupted run after ${resumedAfter.toLocaleString('en-US')} rows`);
  try {
    const after = p.resume?.lastKey;
    const sql = `SELECT * FROM ${q(p.temp)}${after !== null && after !== undefined ? ` WHERE ${KEY} > '${after.replaceAll("'", "''")}'` : ''} ORDER BY ${KEY}`;
    const result = await ctx.engine.connection.stream(sql);
    const nf = table.features.length;
    let batch: OnlineRow[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const s = await ctx.store.write(table.name, batch);
      written += s.written;
      skippedOlder += s.skippedOlder;
      rows += batch.length;
      ctx.state.materializationProgress(id, rows, batch[batch.length - 1]!.entityKey!);
      batch = [];
      await ctx.onProgress?.({ table: table.name, rows, total: resumedAfter + p.total - (p.resume ? resumedAfter : 0) });
    };
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const r of chunk.getRows()) {
        const values: OnlineValue[] = new Array(nf);
        for (let i = 0; i < nf; i++) values[i] = (r[i + 2] ?? null) as OnlineValue;
        batch.push({ key: [], entityKey: String(r[0]), eventTime: Number(r[1] as bigint), values });
        if (batch.length >= ctx.chunkRows) await flush();
      }
    }
    await flush();
    ctx.state.finishMaterialization(id, 'done', ctx.reportFile);
  } catch (error) {
    // Committed chunks stay (and are recorded); the next run resumes after them.
    ctx.state.finishMaterialization(id, 'failed', ctx.reportFile);
    throw error;
  }
  const seconds = (performance.now() - began) / 1000;
  ctx.log(`${table.name}: ${rows.toLocaleString('en-US')} entities [${p.start.toISOString()}, ${p.end.toISOString()}] in ${seconds.toFixed(2)} s`);
  return { table: table.name, version: p.version, start: p.start.toISOString(), end: p.end.toISOString(), rows, written, skippedOlder, resumedAfter, seconds };
}
