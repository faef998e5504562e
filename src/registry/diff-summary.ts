/**
 * What changed between two versions, in the terms a reviewer asks about: metrics with deltas,
 * training parameters that changed, features added, removed or redefined, lineage (data files,
 * definition versions, code) that moved, and the package. Only differences are listed (metrics
 * excepted: they are few and read side by side). `diff.ts` keeps the exhaustive key-by-key rows
 * for `--full`; this is the default view, so its values are kept short.
 */
import type { ModelVersion } from './records.js';

export interface Change {
  key: string;
  a: unknown;
  b: unknown;
}

export interface MetricChange {
  name: string;
  a: number | null;
  b: number | null;
  /** b - a when both have it. */
  delta: number | null;
}

export interface DiffSummary {
  metrics: MetricChange[];
  /** Training settings (hyper-parameters, split, seed...) that differ. */
  parameters: Change[];
  features: {
    /** Spec outputs (the model's features) only one version has. */
    added: string[];
    removed: string[];
    /** Outputs defined differently, definition versions, plan hash, fitted statistics, inputs. */
    changed: Change[];
  };
  /** Inputs that moved: label and source files (by content hash), rows, definition versions, code. */
  lineage: Change[];
  package: Change[];
}

type Flat = Record<string, unknown>;

/** Flattens objects to dotted keys; arrays stay whole. */
function flatten(value: unknown, prefix = '', out: Flat = {}): Flat {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = value;
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function changes(a: Flat, b: Flat, skip: (key: string) => boolean = () => false): Change[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !skip(k)).sort();
  return keys.filter((k) => !same(a[k], b[k])).map((k) => ({ key: k, a: a[k] ?? null, b: b[k] ?? null }));
}

const asObject = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function metricChanges(a: Record<string, number>, b: Record<string, number>): MetricChange[] {
  // Test metrics first, then validation_*, each alphabetical: the order a reader scans them in.
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort((x, y) => Number(x.startsWith('validation_')) - Number(y.startsWith('validation_')) || x.localeCompare(y));
  return names.map((name) => {
    const x = a[name] ?? null;
    const y = b[name] ?? null;
    return { name, a: x, b: y, delta: x !== null && y !== null ? y - x : null };
  });
}

/**
 * Training settings: `fresco train` records { config, yaml, trials, split, engine, seconds };
 * other trainers record anything. Timings, the YAML text (its parsed form is compared) and
 * file locations (lineage) are not parameters.
 */
function parameterChanges(a: unknown, b: unknown): Change[] {
  const skip = (k: string) => /^(yaml|seconds(\..*)?|trials|config\.(file|baseDir|projectDir))$/.test(k);
  const out = changes(flatten(a), flatten(b), skip);
  const trials = (v: unknown) => (Array.isArray(asObject(v).trials) ? (asObject(v).trials as unknown[]).length : null);
  if (trials(a) !== trials(b)) out.push({ key: 'trials', a: trials(a), b: trials(b) });
  return out;
}

/** Spec output name -> its defining expression, from the spec text (`name = expression  # comment`). */
function specDefinitions(v: ModelVersion): Map<string, string> {
  const text = asObject(asObject(v.featureDefinitions).spec).text;
  const out = new Map<string, string>();
  if (typeof text !== 'string') return out;
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    // A trailing comment is not part of the definition (when no string literal follows the #).
    const expr = m[2]!.replace(/\s*#[^"']*$/, '');
    out.set(m[1]!, expr);
  }
  return out;
}

/** The model's features as spec outputs: plan columns `origin__SFO` belong to output `origin`. */
function outputs(v: ModelVersion): string[] {
  const plan = asObject(v.manifest.plan);
  const names = Array.isArray(plan.output_names) ? (plan.output_names as string[]) : [];
  return [...new Set(names.map((n) => n.split('__')[0]!))];
}

function planInputs(v: ModelVersion): string[] {
  const inputs = asObject(v.manifest.plan).inputs;
  return Array.isArray(inputs) ? inputs.map((i) => String(asObject(i).name)) : [];
}

/** Fitted statistics by `<output>.<function>.<param>`. */
function fitted(v: ModelVersion): Flat {
  const list = asObject(v.featureDefinitions).fitted;
  const out: Flat = {};
  if (!Array.isArray(list)) return out;
  for (const f of list.map(asObject)) for (const [p, value] of Object.entries(asObject(f.params))) out[`fitted ${String(f.output)}.${String(f.function)}.${p}`] = value;
  return out;
}

function featureChanges(a: ModelVersion, b: ModelVersion): DiffSummary['features'] {
  const oa = outputs(a);
  const ob = outputs(b);
  const da = specDefinitions(a);
  const db = specDefinitions(b);
  const changed: Change[] = [];
  for (const name of oa.filter((n) => ob.includes(n))) {
    if (da.has(name) && db.has(name) && da.get(name) !== db.get(name)) changed.push({ key: name, a: da.get(name), b: db.get(name) });
  }
  const ia = planInputs(a);
  const ib = planInputs(b);
  const inputsAdded = ib.filter((i) => !ia.includes(i));
  const inputsRemoved = ia.filter((i) => !ib.includes(i));
  if (inputsAdded.length || inputsRemoved.length) changed.push({ key: 'plan inputs', a: inputsRemoved.length ? inputsRemoved : null, b: inputsAdded.length ? inputsAdded : null });
  const versions = (v: ModelVersion) => Object.fromEntries(Object.entries(v.manifest.feature_versions ?? {}).map(([t, label]) => [`definition ${t}`, label]));
  changed.push(...changes(versions(a), versions(b)), ...changes(fitted(a), fitted(b)));
  if (!same(a.planHash, b.planHash)) changed.push({ key: 'plan hash', a: a.planHash, b: b.planHash });
  return { added: ob.filter((n) => !oa.includes(n)), removed: oa.filter((n) => !ob.includes(n)), changed };
}

/**
 * A dataset manifest reduced to what identifies its inputs: each label and source file by
 * content hash, row counts, definition versions, quality status. Creation times, timings and
 * the locations of derived files say nothing about what the model learned from.
 */
function datasetInputs(role: string, manifest: unknown): Flat {
  const m = asObject(manifest);
  if (m.format !== 'fresco.dataset') return flatten(manifest, `${role}`);
  const out: Flat = {};
  const files = (what: string, list: unknown) => {
    if (Array.isArray(list)) for (const f of list.map(asObject)) out[`${role} ${what} ${String(f.path)}`] = f.sha256;
  };
  const labels = asObject(m.labels ?? m.entities);
  files('labels', labels.files);
  if (labels.rows !== undefined) out[`${role} label rows`] = labels.rows;
  for (const [name, s] of Object.entries(asObject(m.sources))) {
    files(`source ${name}`, asObject(s).files);
    out[`${role} source ${name} rows`] = asObject(s).rows;
  }
  for (const [table, label] of Object.entries(asObject(m.versions))) out[`${role} definition ${table}`] = label;
  out[`${role} dataset file`] = asObject(m.output).file;
  out[`${role} dataset rows`] = asObject(m.output).rows;
  out[`${role} quality`] = asObject(m.quality).status;
  return out;
}

function lineage(v: ModelVersion): Flat {
  const out: Flat = {};
  for (const [role, manifest] of Object.entries(v.datasets ?? {})) Object.assign(out, datasetInputs(role, manifest));
  const config = asObject(asObject(v.trainingConfig).config);
  if (config.file !== undefined) out['training config file'] = config.file;
  const spec = asObject(asObject(v.featureDefinitions).spec);
  if (spec.file !== undefined) out['feature spec file'] = spec.file;
  out['training code'] = v.codeHash;
  return out;
}

function pkg(v: ModelVersion): Flat {
  const sig = (t: { name: string; dtype: string; shape: (string | number | null)[] }) => `${t.name} ${t.dtype}[${t.shape.map((d) => d ?? '?').join(',')}]`;
  return {
    checksum: v.packageChecksum,
    backend: v.backend,
    'input kind': v.inputKind,
    'signature inputs': v.manifest.signature.inputs.map(sig).join('; '),
    'signature outputs': v.manifest.signature.outputs.map(sig).join('; '),
    files: v.files.length,
  };
}

export function summarizeDiff(a: ModelVersion, b: ModelVersion): DiffSummary {
  return {
    metrics: metricChanges(a.metrics, b.metrics),
    parameters: parameterChanges(a.trainingConfig, b.trainingConfig),
    features: featureChanges(a, b),
    lineage: changes(lineage(a), lineage(b)),
    package: changes(pkg(a), pkg(b)),
  };
}
