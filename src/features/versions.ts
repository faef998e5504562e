/**
 * Definition versions. A version's hash covers what a definition means for the data it yields
 * (types, source, TTL, windows, key maps...), not its descriptions or expectations, so rewording
 * a description keeps the version and changing a TTL makes a new one.
 */
import { createHash } from 'node:crypto';
import type { Definitions, Entity, FeatureService, FeatureTable, Source } from './definitions.js';

export type DefinitionKind = 'entity' | 'source' | 'feature_table' | 'feature_service';

export interface DefinitionMeaning {
  kind: DefinitionKind;
  name: string;
  /** The canonical meaning the hash is taken of. */
  body: unknown;
  hash: string;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashMeaning(body: unknown): string {
  return createHash('sha256').update(canonical(body)).digest('hex').slice(0, 16);
}

const entityMeaning = (e: Entity) => ({ join_keys: e.joinKeys });
const sourceMeaning = (s: Source) => ({
  path: s.path,
  format: s.format,
  group: s.group,
  timestamp: s.timestamp,
  created_timestamp: s.createdTimestamp,
  field_mapping: s.fieldMapping,
});

function tableMeaning(t: FeatureTable, defs: Definitions): unknown {
  return {
    kind: t.kind,
    entities: t.entities.map((e) => ({ name: e, ...entityMeaning(defs.entities.get(e)!) })),
    source: { name: t.source, ...sourceMeaning(defs.sources.get(t.source)!) },
    ttl_seconds: t.ttlSeconds,
    key_map: t.keyMap,
    join_key_map: t.joinKeyMap,
    interval_seconds: t.intervalSeconds,
    features: t.features.map((f) => ({ name: f.name, type: f.type, column: f.column, function: f.function, window_seconds: f.windowSeconds })),
  };
}

function serviceMeaning(s: FeatureService, tableHashes: Map<string, string>): unknown {
  return { features: s.features.map((f) => ({ ...f, table_hash: tableHashes.get(f.table) })) };
}

/** The meaning and hash of every definition, in a stable order. */
export function definitionMeanings(defs: Definitions): DefinitionMeaning[] {
  const out: DefinitionMeaning[] = [];
  const push = (kind: DefinitionKind, name: string, body: unknown) => out.push({ kind, name, body, hash: hashMeaning(body) });
  for (const e of defs.entities.values()) push('entity', e.name, entityMeaning(e));
  for (const s of defs.sources.values()) push('source', s.name, sourceMeaning(s));
  const tableHashes = new Map<string, string>();
  for (const t of defs.tables.values()) {
    push('feature_table', t.name, tableMeaning(t, defs));
    tableHashes.set(t.name, out.at(-1)!.hash);
  }
  for (const s of defs.services.values()) push('feature_service', s.name, serviceMeaning(s, tableHashes));
  return out;
}

/** How a version is written in manifests and FeatureSchema.versions: `v3-1a2b3c4d5e6f7a8b`. */
export function versionLabel(version: number, hash: string): string {
  return `v${version}-${hash}`;
}
