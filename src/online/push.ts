/**
 * Push ingestion (`fresco push`, the HTTP endpoint, the stream tail): rows for one source are
 * checked in full against the source's columns (a bad row rejects the whole push, naming row and
 * column; nothing is written), then written to the online store at once (put-if-newer, only the
 * tables fed by that source) and appended to the lake so the offline store sees them too.
 *
 * The lake append (push-lake.ts) is prepared under a temporary name before the online write and
 * renamed into place after it, so a failed online write leaves the lake untouched.
 * Windowed tables are fed through the lake only: their online values are aggregates over tiles
 * that a single event cannot update, so the next `fresco materialize` recomputes them.
 */
import { resolve } from 'node:path';
import { FrescoError } from '../errors/index.js';
import type { FeatureTable, Source } from '../features/definitions.js';
import { loadProject, requireApplied, type Project } from '../features/project.js';
import { openEngine } from '../offline/engine.js';
import { isGlob } from '../offline/files.js';
import type { OnlineRow, OnlineStore } from './online-store.js';
import { openOnlineStore, tableSchema } from './open-store.js';
import { prepareLakeAppend, type LakeAppend } from './push-lake.js';
import { readPushInput, type PushFormat, type PushRecord } from './push-input.js';
import { checkRows, pushColumns, rawColumn, type CheckedRows, type PushColumn, type PushValue } from './push-validate.js';
import { encodeEntityKey, schemaHash, type KeyValue, type OnlineValue } from './row-codec.js';

export interface PushOptions {
  project?: string | Project;
  source: string;
  /** Rows already parsed (the HTTP endpoint and the stream tail); or `file`, or `text` + `format`. */
  records?: PushRecord[];
  file?: string;
  text?: string;
  format?: PushFormat;
  /** Names the input in messages (default: the file, or "input"). */
  inputName?: string;
  /** An open store (default: the project's, opened and closed here). */
  store?: OnlineStore;
  /** Skip the lake append (the online store only). Default false. */
  onlineOnly?: boolean;
  /** Event time of static-table rows (default: now): they are known as of the push. */
  now?: Date;
}

export interface PushTableResult {
  table: string;
  kind: FeatureTable['kind'];
  /** Entities written online (0 for windowed tables). */
  written: number;
  skippedOlder: number;
  note?: string;
}

export interface PushResult {
  source: string;
  rows: number;
  tables: PushTableResult[];
  /** The lake file written (or rewritten); undefined when nothing was appended. */
  lakeFile?: string;
  store: string;
}

/** The feature tables a source feeds. */
export function tablesOf(project: Project, source: string): FeatureTable[] {
  return [...project.definitions.tables.values()].filter((t) => t.source === source);
}

export function requireSource(project: Project, name: string): Source {
  const s = project.definitions.sources.get(name);
  if (!s) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `unknown source "${name}"; sources: ${[...project.definitions.sources.keys()].join(', ') || '(none)'}`, { location: { key: name } });
  return s;
}

/** The source's columns: from its lake files (DuckDB describe), or from its tables when it has none yet. */
export async function sourceColumns(source: Source, tables: FeatureTable[]): Promise<PushColumn[]> {
  const engine = await openEngine({ threads: 1 });
  try {
    let described: Map<string, string> | undefined;
    const files = isGlob(source.resolvedPath) ? await engine.rows(`SELECT file FROM glob('${source.resolvedPath.replaceAll("'", "''")}') LIMIT 1`) : [];
    if (!isGlob(source.resolvedPath) || files.length > 0) {
      const lit = `'${source.resolvedPath.replaceAll("'", "''")}'`;
      const scan = source.format === 'csv' || /\.csv$/i.test(source.resolvedPath) ? `read_csv(${lit}, header = true)` : `read_parquet(${lit})`;
      try {
        described = await engine.describe(scan);
      } catch (error) {
        throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${source.resolvedPath}: cannot read source "${source.name}": ${(error as Error).message.split('\n')[0]}`, { location: { file: source.resolvedPath }, cause: error });
      }
    }
    return pushColumns(source, tables, described);
  } finally {
    engine.close();
  }
}

function toKey(v: PushValue): KeyValue {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string' ? v : String(v);
}

function toOnline(v: PushValue, type: string, kind: PushColumn['kind']): OnlineValue {
  if (v === null) return null;
  if (type === 'timestamp') return new Date(typeof v === 'number' ? v : Number(v));
  if (type === 'string') return kind === 'time' && typeof v === 'number' ? new Date(v).toISOString() : String(v);
  if (type === 'bool') return typeof v === 'boolean' ? v : Number(v) !== 0;
  return typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : Number(v);
}

/** Online rows of one batch or static table: the latest row per entity (event, then created time, then input order). */
function onlineRows(table: FeatureTable, source: Source, checked: CheckedRows, staticTime: number): OnlineRow[] {
  const at = (mapped: string) => checked.columns.findIndex((c) => c.name === rawColumn(source, mapped));
  const keyAt = table.joinKeys.map((k) => at(table.keyMap[k]!));
  const tsAt = table.kind === 'static' ? -1 : at(source.timestamp!);
  const createdAt = source.createdTimestamp ? at(source.createdTimestamp) : -1;
  const featAt = table.features.map((f) => at(f.column));
  const schema = tableSchema(table);
  const latest = new Map<string, { row: OnlineRow; created: number }>();
  for (const r of checked.rows) {
    const key = keyAt.map((i) => toKey(r[i]!));
    const entityKey = encodeEntityKey(schema, key);
    const eventTime = tsAt < 0 ? staticTime : (r[tsAt] as number);
    const created = createdAt < 0 ? 0 : ((r[createdAt] as number | null) ?? 0);
    const old = latest.get(entityKey);
    if (old && (old.row.eventTime > eventTime || (old.row.eventTime === eventTime && old.created > created))) continue;
    const values = table.features.map((f, i) => toOnline(featAt[i]! < 0 ? null : r[featAt[i]!]!, f.type, checked.columns[featAt[i]!]?.kind ?? 'string'));
    latest.set(entityKey, { row: { key, entityKey, eventTime, values }, created });
  }
  return [...latest.values()].map((x) => x.row);
}

/** Checks rows of a source against its columns without writing anything. */
export async function checkPush(project: Project, sourceName: string, records: PushRecord[], inputName = 'input'): Promise<{ source: Source; tables: FeatureTable[]; checked: CheckedRows }> {
  const source = requireSource(project, sourceName);
  const tables = tablesOf(project, sourceName);
  const columns = await sourceColumns(source, tables);
  return { source, tables, checked: checkRows(records, columns, inputName, sourceName) };
}

export async function push(options: PushOptions): Promise<PushResult> {
  const project = typeof options.project === 'object' ? options.project : loadProject(options.project ?? '.');
  const source = requireSource(project, options.source);
  const inputName = options.inputName ?? options.file ?? 'input';
  const records = options.records ?? (await readPushInput({ ...(options.file ? { file: options.file } : {}), ...(options.text !== undefined ? { text: options.text } : {}), ...(options.format ? { format: options.format } : {}), where: inputName }));
  const tables = tablesOf(project, source.name);
  const served = tables.filter((t) => t.kind !== 'windowed');
  requireApplied(project, served.map((t) => t.name));
  const { checked } = await checkPush(project, source.name, records, inputName);
  const result: PushResult = { source: source.name, rows: records.length, tables: [], store: '' };
  if (records.length === 0) return result;

  let lake: LakeAppend | undefined;
  if (!options.onlineOnly) lake = await prepareLakeAppend(source, checked, resolve(project.config.root, '.fresco', 'tmp'), tables);
  const store = options.store ?? (await openOnlineStore(project.config));
  result.store = store.id;
  try {
    const now = (options.now ?? new Date()).getTime();
    for (const table of tables) {
      if (table.kind === 'windowed') {
        result.tables.push({ table: table.name, kind: table.kind, written: 0, skippedOlder: 0, note: 'windowed: lake only; `fresco materialize` recomputes its online values' });
        continue;
      }
      const schema = tableSchema(table);
      const stored = await store.schema(table.name);
      if (!stored) await store.defineTable(schema);
      else if (schemaHash(stored) !== schemaHash(schema)) {
        throw new FrescoError('FRESCO_ERR_ONLINE_STORE', `the online table "${table.name}" was materialized from other definitions; run \`fresco materialize --tables ${table.name}\` before pushing`, { location: { key: table.name } });
      }
      const rows = onlineRows(table, source, checked, now);
      const s = await store.write(table.name, rows);
      result.tables.push({ table: table.name, kind: table.kind, written: s.written, skippedOlder: s.skippedOlder });
    }
    if (lake) result.lakeFile = lake.commit();
    lake = undefined;
  } finally {
    lake?.discard();
    if (!options.store) await store.close();
  }
  return result;
}
