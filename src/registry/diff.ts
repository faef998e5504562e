/**
 * Two versions side by side. `summary` is what changed, compactly (diff-summary.ts); `rows` is
 * every recorded value, key by key (training configuration, features, metrics, package), for
 * whoever needs all of it (`fresco models diff --full`).
 */
import { type DiffSummary, summarizeDiff } from './diff-summary.js';
import type { ModelVersion } from './records.js';

export interface DiffRow {
  section: 'config' | 'features' | 'metrics' | 'package';
  key: string;
  a: unknown;
  b: unknown;
  same: boolean;
  /** b - a, for metrics present in both. */
  delta?: number;
}

export interface VersionDiff {
  name: string;
  a: number;
  b: number;
  summary: DiffSummary;
  rows: DiffRow[];
}

/** Flattens nested objects to dotted keys (arrays stay whole values: they compare as a unit). */
function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && prefix) out[prefix] = {};
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = value;
  } else if (value !== null && value !== undefined) {
    out['(value)'] = value;
  }
  return out;
}

const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function section(name: DiffRow['section'], a: Record<string, unknown>, b: Record<string, unknown>): DiffRow[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.map((key) => {
    const row: DiffRow = { section: name, key, a: a[key] ?? null, b: b[key] ?? null, same: equal(a[key], b[key]) };
    if (name === 'metrics' && typeof a[key] === 'number' && typeof b[key] === 'number') row.delta = (b[key] as number) - (a[key] as number);
    return row;
  });
}

function features(v: ModelVersion): Record<string, unknown> {
  const out: Record<string, unknown> = { plan_hash: v.planHash };
  for (const [table, version] of Object.entries(v.manifest.feature_versions ?? {})) out[`feature_versions.${table}`] = version;
  const plan = v.manifest.plan as { inputs?: { name: string }[]; output_names?: string[] } | undefined;
  if (plan?.inputs) out['plan.inputs'] = plan.inputs.map((i) => i.name);
  if (plan?.output_names) out['plan.output_names'] = plan.output_names;
  Object.assign(out, flatten(v.featureDefinitions, 'feature_definitions'));
  return out;
}

function pkg(v: ModelVersion): Record<string, unknown> {
  return {
    checksum: v.packageChecksum,
    backend: v.backend,
    input_kind: v.inputKind,
    'signature.inputs': v.manifest.signature.inputs,
    'signature.outputs': v.manifest.signature.outputs,
    code_hash: v.codeHash,
    datasets: v.datasets,
  };
}

export function diffVersions(a: ModelVersion, b: ModelVersion): VersionDiff {
  return {
    name: a.name,
    a: a.version,
    b: b.version,
    summary: summarizeDiff(a, b),
    rows: [
      ...section('config', flatten(a.trainingConfig), flatten(b.trainingConfig)),
      ...section('features', features(a), features(b)),
      ...section('metrics', a.metrics, b.metrics),
      ...section('package', pkg(a), pkg(b)),
    ],
  };
}
