/**
 * `getOnlineFeatures`: values, statuses and event times of feature tables or a feature service
 * for a list of entities, from the project's online store. A service reads each of its tables
 * once (one store call per table) and names columns `<table>__<feature>`, as datasets do.
 */
import { FrescoError } from '../errors/index.js';
import { featureColumnName } from '../features/feature-schema-from-definitions.js';
import { loadProject, type Project } from '../features/project.js';
import type { OnlineStatus, OnlineStore } from './online-store.js';
import { openOnlineStore } from './open-store.js';
import type { KeyValue, OnlineValue } from './row-codec.js';

export interface OnlineFeaturesRequest {
  project?: string | Project;
  /** A feature table, a feature service, or `table.feature` names. */
  features: string | string[];
  /** One record per entity: join key -> value (e.g. `{ airport: 'ORD' }`). */
  entities: Record<string, KeyValue>[];
  asOf?: Date | number;
  /** An open store (default: the project's, opened and closed here). */
  store?: OnlineStore;
}

export interface OnlineFeatureColumn {
  name: string;
  table: string;
  feature: string;
}

export interface OnlineFeaturesResult {
  columns: OnlineFeatureColumn[];
  /** One per entity, in order. */
  rows: {
    entity: Record<string, KeyValue>;
    values: Record<string, OnlineValue>;
    /** Per table. */
    statuses: Record<string, OnlineStatus>;
    /** Per table: event time as ISO text, null when missing. */
    eventTimes: Record<string, string | null>;
  }[];
}

/** `name` -> table -> features, resolving services, tables and `table.feature`. */
function selection(project: Project, names: string[]): { byTable: Map<string, string[]>; prefixed: boolean } {
  const defs = project.definitions;
  const byTable = new Map<string, string[]>();
  const add = (table: string, feature: string) => {
    const list = byTable.get(table) ?? [];
    if (!list.includes(feature)) list.push(feature);
    byTable.set(table, list);
  };
  let prefixed = names.length > 1;
  for (const name of names) {
    const service = defs.services.get(name);
    const table = defs.tables.get(name);
    if (service) {
      prefixed = true;
      for (const f of service.features) add(f.table, f.feature);
    } else if (table) {
      for (const f of table.features) add(table.name, f.name);
    } else {
      const m = /^([^.]+)\.([^.]+)$/.exec(name);
      const t = m ? defs.tables.get(m[1]!) : undefined;
      if (!m || !t) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `"${name}" is not a feature table, feature service or table.feature`, { location: { key: name } });
      if (m[2] === '*') t.features.forEach((f) => add(t.name, f.name));
      else if (t.features.some((f) => f.name === m[2])) add(t.name, m[2]!);
      else throw new FrescoError('FRESCO_ERR_NOT_FOUND', `feature table "${t.name}" has no feature "${m[2]}"`, { location: { key: name } });
      prefixed = true;
    }
  }
  return { byTable, prefixed };
}

export async function getOnlineFeatures(request: OnlineFeaturesRequest): Promise<OnlineFeaturesResult> {
  const project = typeof request.project === 'object' ? request.project : loadProject(request.project ?? '.');
  const names = Array.isArray(request.features) ? request.features : [request.features];
  const { byTable, prefixed } = selection(project, names);
  const store = request.store ?? (await openOnlineStore(project.config));
  try {
    const columns: OnlineFeatureColumn[] = [];
    const rows: OnlineFeaturesResult['rows'] = request.entities.map((entity) => ({ entity, values: {}, statuses: {}, eventTimes: {} }));
    for (const [tableName, features] of byTable) {
      const table = project.definitions.tables.get(tableName)!;
      const keys = request.entities.map((e, i) =>
        table.joinKeys.map((k) => {
          const v = e[k];
          if (v === undefined) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `entity ${i + 1} has no value for join key "${k}" of table "${tableName}"`, { location: { key: k } });
          return v;
        }),
      );
      const read = await store.read(tableName, keys, request.asOf !== undefined ? { asOf: request.asOf } : {});
      const index = features.map((f) => {
        const at = read.features.indexOf(f);
        if (at < 0) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `the online store's "${tableName}" has no feature "${f}"; run \`fresco materialize --tables ${tableName}\``, { location: { key: tableName } });
        return at;
      });
      const names = features.map((f) => (prefixed ? featureColumnName(tableName, f) : f));
      features.forEach((f, i) => columns.push({ name: names[i]!, table: tableName, feature: f }));
      read.rows.forEach((r, k) => {
        const row = rows[k]!;
        row.statuses[tableName] = r.status;
        row.eventTimes[tableName] = r.eventTime === null ? null : new Date(r.eventTime).toISOString();
        index.forEach((at, i) => (row.values[names[i]!] = r.values[at]!));
      });
    }
    return { columns, rows };
  } finally {
    if (!request.store) await store.close();
  }
}
