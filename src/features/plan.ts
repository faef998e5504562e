/**
 * What `fresco apply` would do, without doing it (Feast's `feast plan`): each definition as it is
 * now against its last applied version: new, changed (and which parts of its meaning), unchanged,
 * or removed from the files. Reads the state database without creating or changing it, so a plan
 * can run anywhere, any number of times, and the apply that follows records exactly this.
 */
import { loadProject, type Project } from './project.js';
import { type AppliedVersion, StateStore } from './state-store.js';
import { definitionMeanings, type DefinitionKind, type DefinitionMeaning, versionLabel } from './versions.js';

export interface PlannedChange {
  kind: DefinitionKind;
  name: string;
  change: 'new' | 'changed' | 'unchanged' | 'removed';
  /** The last applied version (null when never applied). */
  from: string | null;
  /** The version apply records, or keeps (null when removed: apply records nothing for it). */
  to: string | null;
  /** For `changed`: the parts of the meaning that differ, `key: before -> after`. */
  details: string[];
}

export interface ApplyPlan {
  project: Project;
  changes: PlannedChange[];
}

/** The key of an item in a list: a feature's `name`, a service's `table.feature`. */
function itemKey(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as { name?: unknown; table?: unknown; feature?: unknown };
  if (typeof o.name === 'string') return o.name;
  return typeof o.table === 'string' && typeof o.feature === 'string' ? `${o.table}.${o.feature}` : undefined;
}

/** Flattens a meaning to dotted keys; lists of named items are keyed by name (`features.trips.type`). */
function flatten(value: unknown, prefix: string, out: Record<string, unknown>): Record<string, unknown> {
  if (Array.isArray(value)) {
    if (!value.every((v) => itemKey(v) !== undefined)) {
      out[prefix] = value;
      return out;
    }
    for (const v of value) flatten(v, `${prefix}.${itemKey(v)}`, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (v !== undefined) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));

/** `ttl_seconds: 21600 -> 3600`, one line per differing key of two meanings. */
export function meaningDifferences(before: unknown, after: unknown): string[] {
  const a = flatten(before, '', {});
  const b = flatten(after, '', {});
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .sort()
    .map((k) => `${k}: ${show(a[k])} -> ${show(b[k])}`);
}

/** Each definition's last applied version, read without writing (empty when never applied). */
export function readApplied(stateFile: string): { latest: Map<string, AppliedVersion>; bodyOf: (a: AppliedVersion) => unknown; history: (kind: DefinitionKind, name: string) => AppliedVersion[]; close: () => void } {
  const store = StateStore.openExisting(stateFile);
  if (!store) return { latest: new Map(), bodyOf: () => undefined, history: () => [], close: () => {} };
  return { latest: store.latest(), bodyOf: (a) => store.bodyOf(a.kind, a.name, a.version), history: (kind, name) => store.history(kind, name), close: () => store.close() };
}

export function planChanges(meanings: DefinitionMeaning[], applied: ReturnType<typeof readApplied>): PlannedChange[] {
  const seen = new Set<string>();
  const out: PlannedChange[] = meanings.map((m) => {
    const key = `${m.kind}:${m.name}`;
    seen.add(key);
    const before = applied.latest.get(key);
    if (!before) return { kind: m.kind, name: m.name, change: 'new', from: null, to: versionLabel(1, m.hash), details: [] };
    const from = versionLabel(before.version, before.hash);
    if (before.hash === m.hash) return { kind: m.kind, name: m.name, change: 'unchanged', from, to: from, details: [] };
    return { kind: m.kind, name: m.name, change: 'changed', from, to: versionLabel(before.version + 1, m.hash), details: meaningDifferences(applied.bodyOf(before), m.body) };
  });
  for (const [key, before] of applied.latest) {
    if (!seen.has(key)) out.push({ kind: before.kind, name: before.name, change: 'removed', from: versionLabel(before.version, before.hash), to: null, details: [] });
  }
  return out;
}

/** `fresco apply --dry-run`: validates the definitions as apply does, and writes nothing. */
export function planApply(dir = '.'): ApplyPlan {
  const project = loadProject(dir);
  const applied = readApplied(project.config.stateFile);
  try {
    return { project, changes: planChanges(definitionMeanings(project.definitions), applied) };
  } finally {
    applied.close();
  }
}
