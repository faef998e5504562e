/**
 * The project's definitions as a reader browses them (`fresco features list|describe`): every
 * entity, source, feature table and feature service with its version and whether that version is
 * applied, what it is made of, and what uses it. Read-only: nothing is created or recorded, so it
 * works on a project that was never applied (everything then shows as new).
 */
import { relative } from 'node:path';
import { formatDuration } from '../config/duration.js';
import { FrescoError } from '../errors/index.js';
import type { Definitions, Where } from './definitions.js';
import { type PlannedChange, planChanges, readApplied } from './plan.js';
import { loadProject } from './project.js';
import type { AppliedVersion } from './state-store.js';
import { definitionMeanings, type DefinitionKind, versionLabel } from './versions.js';

export const DEFINITION_KINDS: DefinitionKind[] = ['entity', 'source', 'feature_table', 'feature_service'];

export interface CatalogEntry {
  kind: DefinitionKind;
  name: string;
  /** The version recorded for it as it is now, or the one `apply` would record. */
  version: string;
  /** `applied`: recorded as it is now; `changed`: differs from its last applied version; `new`: never applied. */
  status: 'applied' | 'changed' | 'new';
  /** Its last applied version, when it differs from `version`. */
  appliedVersion: string | null;
  /** One line: what it is. */
  summary: string;
  description: string | null;
  /** Where it is written, relative to the project. */
  file: string;
  line: number | null;
}

export interface CatalogDescription extends CatalogEntry {
  /** Everything it is made of, by kind (join keys, path, features...). */
  details: Record<string, unknown>;
  /** Definitions that use it (tables of an entity or source, services of a table). */
  usedBy: string[];
  /** The parts of its meaning that changed since its last applied version. */
  changes: string[];
  history: { version: string; appliedAt: string }[];
}

function summaryOf(defs: Definitions, kind: DefinitionKind, name: string): { summary: string; description?: string; where: Where } {
  if (kind === 'entity') {
    const e = defs.entities.get(name)!;
    return { summary: `join keys: ${e.joinKeys.join(', ')}`, ...(e.description ? { description: e.description } : {}), where: e.where };
  }
  if (kind === 'source') {
    const s = defs.sources.get(name)!;
    return { summary: `${s.path} (${s.format}, ${s.timestamp ? `event time ${s.timestamp}` : 'static'})`, ...(s.description ? { description: s.description } : {}), where: s.where };
  }
  if (kind === 'feature_table') {
    const t = defs.tables.get(name)!;
    const parts = [`${t.kind}`, `entities ${t.entities.join(', ')}`, `source ${t.source}`, `${t.features.length} feature${t.features.length === 1 ? '' : 's'}`];
    if (t.ttlSeconds) parts.push(`ttl ${formatDuration(t.ttlSeconds)}`);
    return { summary: parts.join(', '), ...(t.description ? { description: t.description } : {}), where: t.where };
  }
  const s = defs.services.get(name)!;
  const tables = [...new Set(s.features.map((f) => f.table))];
  return { summary: `${s.features.length} feature${s.features.length === 1 ? '' : 's'} from ${tables.join(', ')}`, ...(s.description ? { description: s.description } : {}), where: s.where };
}

function entry(root: string, defs: Definitions, c: PlannedChange): CatalogEntry {
  const { summary, description, where } = summaryOf(defs, c.kind, c.name);
  return {
    kind: c.kind,
    name: c.name,
    version: c.to!,
    status: c.change === 'unchanged' ? 'applied' : c.change === 'changed' ? 'changed' : 'new',
    appliedVersion: c.change === 'changed' ? c.from : null,
    summary,
    description: description ?? null,
    file: relative(root, where.file),
    line: where.line ?? null,
  };
}

function checkKind(kind: string | undefined): DefinitionKind | undefined {
  if (kind === undefined) return undefined;
  const k = kind.replace(/-/g, '_');
  const known = [...DEFINITION_KINDS, 'table', 'service'];
  if (!known.includes(k)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--kind "${kind}": use one of ${DEFINITION_KINDS.join(', ')}`, { location: { key: 'kind' } });
  return (k === 'table' ? 'feature_table' : k === 'service' ? 'feature_service' : k) as DefinitionKind;
}

function load(dir: string) {
  const project = loadProject(dir);
  const applied = readApplied(project.config.stateFile);
  const changes = planChanges(definitionMeanings(project.definitions), applied).filter((c) => c.change !== 'removed');
  return { project, applied, changes };
}

/** Every definition (of one kind, when given), in the order apply records them. */
export function listDefinitions(dir = '.', kind?: string): { project: string; definitions: CatalogEntry[] } {
  const only = checkKind(kind);
  const { project, applied, changes } = load(dir);
  applied.close();
  return { project: project.config.name, definitions: changes.filter((c) => !only || c.kind === only).map((c) => entry(project.config.root, project.definitions, c)) };
}

function details(defs: Definitions, kind: DefinitionKind, name: string): { details: Record<string, unknown>; usedBy: string[] } {
  if (kind === 'entity') {
    const e = defs.entities.get(name)!;
    return { details: { joinKeys: e.joinKeys }, usedBy: [...defs.tables.values()].filter((t) => t.entities.includes(name)).map((t) => `feature_table ${t.name}`) };
  }
  if (kind === 'source') {
    const s = defs.sources.get(name)!;
    return {
      details: { path: s.path, format: s.format, ...(s.group ? { group: s.group } : {}), timestamp: s.timestamp ?? null, createdTimestamp: s.createdTimestamp ?? null, fieldMapping: s.fieldMapping, expectations: s.expectations.length },
      usedBy: [...defs.tables.values()].filter((t) => t.source === name).map((t) => `feature_table ${t.name}`),
    };
  }
  if (kind === 'feature_table') {
    const t = defs.tables.get(name)!;
    return {
      details: {
        kind: t.kind,
        entities: t.entities,
        joinKeys: t.joinKeys,
        source: t.source,
        ttl: t.ttlSeconds ? formatDuration(t.ttlSeconds) : null,
        ...(t.intervalSeconds ? { interval: formatDuration(t.intervalSeconds) } : {}),
        keyMap: t.keyMap,
        joinKeyMap: t.joinKeyMap,
        features: t.features.map((f) => ({ name: f.name, type: f.type, column: f.column, ...(f.function ? { function: f.function, window: formatDuration(f.windowSeconds ?? 0) } : {}), ...(f.description ? { description: f.description } : {}) })),
      },
      usedBy: [...defs.services.values()].filter((s) => s.features.some((f) => f.table === name)).map((s) => `feature_service ${s.name}`),
    };
  }
  const s = defs.services.get(name)!;
  return { details: { features: s.features.map((f) => `${f.table}.${f.feature}`) }, usedBy: [] };
}

/** Every definition named `name` (a source and a table may share one), with its parts, users and history. */
export function describeDefinition(dir: string, name: string, kind?: string): { project: string; definitions: CatalogDescription[] } {
  const only = checkKind(kind);
  const { project, applied, changes } = load(dir);
  try {
    const matches = changes.filter((c) => c.name === name && (!only || c.kind === only));
    if (matches.length === 0) {
      const names = [...new Set(changes.filter((c) => !only || c.kind === only).map((c) => c.name))].sort();
      throw new FrescoError('FRESCO_ERR_NOT_FOUND', `no ${only ?? 'entity, source, feature table or feature service'} named "${name}" in ${project.config.featuresDir}; defined: ${names.join(', ') || '(none)'}`, {
        location: { file: project.config.featuresDir, key: name },
      });
    }
    const history = (kind: DefinitionKind) => applied.history(kind, name).map((h: AppliedVersion) => ({ version: versionLabel(h.version, h.hash), appliedAt: h.appliedAt }));
    return {
      project: project.config.name,
      definitions: matches.map((c) => ({ ...entry(project.config.root, project.definitions, c), ...details(project.definitions, c.kind, c.name), changes: c.details, history: history(c.kind) })),
    };
  } finally {
    applied.close();
  }
}
