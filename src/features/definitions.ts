/**
 * Loads every definition file of a project, checks the references between them (a table's
 * entities and source exist, windows fit the tile interval, no name is defined twice...) and
 * resolves them into the model the offline store works with. Every error names file, line and key.
 */
import { existsSync, readdirSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { durationSeconds } from '../config/duration.js';
import type { ProjectConfig } from '../config/project-config.js';
import { invalidConfig, readYamlFile, type KeyPath, type YamlFile } from '../config/yaml-file.js';
import { FrescoError } from '../errors/index.js';
import {
  definitionFileSchema,
  type AggregationFunction,
  type FeatureExpectation,
  type FeatureType,
  type SourceExpectation,
} from './definition-schema.js';

/** Where a definition is written: file, line, column and key path, for error messages. */
export interface Where {
  file: string;
  line?: number;
  column?: number;
  key: KeyPath;
}

export interface Entity {
  name: string;
  joinKeys: string[];
  description?: string;
  where: Where;
}

export type SourceFormat = 'parquet' | 'csv' | 'h5';

export interface Source {
  name: string;
  /** As written in the definition (relative to the project). */
  path: string;
  /** Absolute path or glob. */
  resolvedPath: string;
  format: SourceFormat;
  group?: string;
  timestamp?: string;
  createdTimestamp?: string;
  /** source column -> name used by the tables. */
  fieldMapping: Record<string, string>;
  expectations: SourceExpectation[];
  description?: string;
  where: Where;
}

export interface Feature {
  name: string;
  type: FeatureType;
  /** The (mapped) source column it reads. */
  column: string;
  function?: AggregationFunction;
  windowSeconds?: number;
  expectations: FeatureExpectation[];
  description?: string;
}

/** `batch`: rows as they are in the source; `windowed`: tiled aggregations; `static`: no event time. */
export type TableKind = 'batch' | 'windowed' | 'static';

export interface FeatureTable {
  name: string;
  kind: TableKind;
  entities: string[];
  /** The join keys of all its entities, in order. */
  joinKeys: string[];
  source: string;
  /** 0 = unbounded look-back. */
  ttlSeconds: number;
  /** join key -> source column. */
  keyMap: Record<string, string>;
  /** join key -> label (entity-row) column. */
  joinKeyMap: Record<string, string>;
  /** Tile interval of windowed tables. */
  intervalSeconds?: number;
  features: Feature[];
  description?: string;
  where: Where;
}

export interface FeatureService {
  name: string;
  features: { table: string; feature: string }[];
  description?: string;
  where: Where;
}

export interface Definitions {
  entities: Map<string, Entity>;
  sources: Map<string, Source>;
  tables: Map<string, FeatureTable>;
  services: Map<string, FeatureService>;
  /** The definition files read, absolute. */
  files: string[];
}

function where(file: YamlFile<unknown>, key: KeyPath): Where {
  const p = file.locate(key);
  return { file: file.file, key, ...(p ? { line: p.line, column: p.column } : {}) };
}

function fail(at: Where, message: string, subKey: KeyPath = []): never {
  const key = [...at.key, ...subKey];
  throw invalidConfig(at.file, message, key, at.line === undefined ? undefined : { line: at.line, column: at.column ?? 1 });
}

function formatOf(path: string, at: Where): SourceFormat {
  const ext = extname(path.replace(/[*?]+$/, '')).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.csv') return 'csv';
  if (ext === '.h5' || ext === '.hdf5') return 'h5';
  return fail(at, `unsupported file type "${ext || path}"; expected .parquet, .csv or .h5`, ['path']);
}

/** The definition files of a project: `*.yaml` / `*.yml` in its features folder, sorted. */
export function definitionFiles(featuresDir: string): string[] {
  if (!existsSync(featuresDir)) return [];
  return readdirSync(featuresDir)
    .filter((f) => /\.ya?ml$/i.test(f))
    .sort()
    .map((f) => join(featuresDir, f));
}

export function loadDefinitions(config: Pick<ProjectConfig, 'root' | 'featuresDir'>): Definitions {
  const files = definitionFiles(config.featuresDir).map((f) => readYamlFile(f, definitionFileSchema));
  return resolveDefinitions(files, config.root);
}

/** Checks and resolves parsed definition files. `root` anchors relative source paths. */
export function resolveDefinitions(files: YamlFile<import('zod').infer<typeof definitionFileSchema>>[], root: string): Definitions {
  const defs: Definitions = { entities: new Map(), sources: new Map(), tables: new Map(), services: new Map(), files: files.map((f) => f.file) };
  const seen = new Map<string, Where>();
  const claim = (kind: string, name: string, at: Where) => {
    const id = `${kind}:${name}`;
    const before = seen.get(id);
    if (before) fail(at, `${kind} "${name}" is defined twice (also at ${relative(root, before.file)}${before.line ? `:${before.line}` : ''})`, ['name']);
    seen.set(id, at);
  };

  for (const file of files) {
    file.value.entities?.forEach((e, i) => {
      const at = where(file, ['entities', i]);
      claim('entity', e.name, at);
      const keys = new Set<string>();
      for (const k of e.join_keys) {
        if (keys.has(k)) fail(at, `join key "${k}" is listed twice`, ['join_keys']);
        keys.add(k);
      }
      defs.entities.set(e.name, { name: e.name, joinKeys: e.join_keys, ...(e.description ? { description: e.description } : {}), where: at });
    });
    file.value.sources?.forEach((s, i) => {
      const at = where(file, ['sources', i]);
      claim('source', s.name, at);
      if (s.created_timestamp && !s.timestamp) fail(at, 'created_timestamp needs a timestamp', ['created_timestamp']);
      const format = formatOf(s.path, at);
      if (s.group && format !== 'h5') fail(at, 'group applies to HDF5 (.h5) sources only', ['group']);
      defs.sources.set(s.name, {
        name: s.name,
        path: s.path,
        resolvedPath: isAbsolute(s.path) ? s.path : resolve(root, s.path),
        format,
        ...(s.group ? { group: s.group } : {}),
        ...(s.timestamp ? { timestamp: s.timestamp } : {}),
        ...(s.created_timestamp ? { createdTimestamp: s.created_timestamp } : {}),
        fieldMapping: s.field_mapping ?? {},
        expectations: s.expectations ?? [],
        ...(s.description ? { description: s.description } : {}),
        where: at,
      });
    });
  }

  for (const file of files) {
    file.value.feature_tables?.forEach((t, i) => {
      const at = where(file, ['feature_tables', i]);
      claim('feature table', t.name, at);
      const joinKeys: string[] = [];
      t.entities.forEach((name, j) => {
        const entity = defs.entities.get(name);
        if (!entity) fail(at, `unknown entity "${name}"; entities: ${[...defs.entities.keys()].join(', ') || '(none)'}`, ['entities', j]);
        for (const k of entity.joinKeys) {
          if (joinKeys.includes(k)) fail(at, `join key "${k}" comes from two of its entities`, ['entities', j]);
          joinKeys.push(k);
        }
      });
      const source = defs.sources.get(t.source);
      if (!source) fail(at, `unknown source "${t.source}"; sources: ${[...defs.sources.keys()].join(', ') || '(none)'}`, ['source']);
      for (const [mapName, map] of [['key_map', t.key_map], ['join_key_map', t.join_key_map]] as const) {
        for (const k of Object.keys(map ?? {})) {
          if (!joinKeys.includes(k)) fail(at, `"${k}" is not a join key of this table; join keys: ${joinKeys.join(', ')}`, [mapName, k]);
        }
      }
      const keyMap = Object.fromEntries(joinKeys.map((k) => [k, t.key_map?.[k] ?? k]));
      const joinKeyMap = Object.fromEntries(joinKeys.map((k) => [k, t.join_key_map?.[k] ?? t.key_map?.[k] ?? k]));
      const ttlSeconds = t.ttl ? durationSeconds(t.ttl) : 0;
      const kind = t.aggregation ? 'windowed' : source.timestamp ? 'batch' : 'static';
      if (kind === 'static' && ttlSeconds > 0) fail(at, `source "${source.name}" has no timestamp, so the table is static and cannot have a ttl`, ['ttl']);
      if (t.aggregation && !source.timestamp) fail(at, `windowed aggregations need a source with a timestamp; "${source.name}" has none`, ['aggregation']);
      const intervalSeconds = t.aggregation ? durationSeconds(t.aggregation.interval) : undefined;
      if (intervalSeconds === 0) fail(at, 'the tile interval must be greater than 0', ['aggregation', 'interval']);
      const names = new Set<string>();
      const features: Feature[] = t.features.map((f, j) => {
        if (names.has(f.name)) fail(at, `feature "${f.name}" is defined twice in table "${t.name}"`, ['features', j, 'name']);
        names.add(f.name);
        if (joinKeys.includes(f.name)) fail(at, `feature "${f.name}" has the name of a join key`, ['features', j, 'name']);
        let windowSeconds: number | undefined;
        if (intervalSeconds !== undefined) {
          if (!f.function) fail(at, `features of a windowed table need a function (${'count, sum, avg, min, max, stddev'})`, ['features', j]);
          if (!f.window) fail(at, 'features of a windowed table need a window (e.g. 24h)', ['features', j]);
          windowSeconds = durationSeconds(f.window);
          if (windowSeconds === 0 || windowSeconds % intervalSeconds !== 0) {
            fail(at, `window ${f.window} is not a positive multiple of the tile interval ${t.aggregation!.interval}`, ['features', j, 'window']);
          }
          if (f.function !== 'count' && !f.column) fail(at, `${f.function} needs a column`, ['features', j]);
        } else if (f.function || f.window) {
          fail(at, 'function and window apply only to tables with an aggregation', ['features', j, f.function ? 'function' : 'window']);
        }
        return {
          name: f.name,
          type: f.type,
          column: f.column ?? (f.function === 'count' ? '*' : f.name),
          ...(f.function ? { function: f.function } : {}),
          ...(windowSeconds !== undefined ? { windowSeconds } : {}),
          expectations: f.expectations ?? [],
          ...(f.description ? { description: f.description } : {}),
        };
      });
      defs.tables.set(t.name, {
        name: t.name,
        kind,
        entities: t.entities,
        joinKeys,
        source: source.name,
        ttlSeconds,
        keyMap,
        joinKeyMap,
        ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
        features,
        ...(t.description ? { description: t.description } : {}),
        where: at,
      });
    });
  }

  for (const file of files) {
    file.value.feature_services?.forEach((s, i) => {
      const at = where(file, ['feature_services', i]);
      claim('feature service', s.name, at);
      const refs: { table: string; feature: string }[] = [];
      s.features.forEach((ref, j) => {
        const [tableName, featureName] = ref.split('.') as [string, string];
        const table = defs.tables.get(tableName);
        if (!table) fail(at, `unknown feature table "${tableName}"`, ['features', j]);
        const picked = featureName === '*' ? table.features : table.features.filter((f) => f.name === featureName);
        if (!picked.length) fail(at, `table "${tableName}" has no feature "${featureName}"`, ['features', j]);
        for (const f of picked) {
          if (refs.some((r) => r.table === tableName && r.feature === f.name)) fail(at, `feature "${tableName}.${f.name}" is listed twice`, ['features', j]);
          refs.push({ table: tableName, feature: f.name });
        }
      });
      defs.services.set(s.name, { name: s.name, features: refs, ...(s.description ? { description: s.description } : {}), where: at });
    });
  }
  return defs;
}

/**
 * Resolves a feature selection: `table.feature`, `table.*` or the name of a feature service.
 * Returns table -> features, in the order asked.
 */
export function selectFeatures(defs: Definitions, refs: string[]): Map<string, Feature[]> {
  const out = new Map<string, Feature[]>();
  const add = (tableName: string, featureName: string) => {
    const table = defs.tables.get(tableName);
    if (!table) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `unknown feature table "${tableName}"; tables: ${[...defs.tables.keys()].join(', ') || '(none)'}`, { location: { key: tableName } });
    const picked = featureName === '*' ? table.features : table.features.filter((f) => f.name === featureName);
    if (!picked.length) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `feature table "${tableName}" has no feature "${featureName}"; features: ${table.features.map((f) => f.name).join(', ')}`, { location: { key: `${tableName}.${featureName}` } });
    const list = out.get(tableName) ?? [];
    for (const f of picked) {
      if (list.includes(f)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `feature "${tableName}.${f.name}" is asked for twice`, { location: { key: `${tableName}.${f.name}` } });
      list.push(f);
    }
    out.set(tableName, list);
  };
  for (const ref of refs) {
    const dot = ref.indexOf('.');
    if (dot < 0) {
      const service = defs.services.get(ref);
      if (!service) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `"${ref}" is neither table.feature nor a feature service; services: ${[...defs.services.keys()].join(', ') || '(none)'}`, { location: { key: ref } });
      for (const r of service.features) add(r.table, r.feature);
    } else {
      add(ref.slice(0, dot), ref.slice(dot + 1));
    }
  }
  if (!out.size) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'no features asked for');
  return out;
}
