/** What the registry returns: plain, frozen records (cached ones are shared, so never mutable). */
import type { Manifest, PackageFile } from '../models/index.js';

export interface ModelVersion {
  name: string;
  version: number;
  createdBy: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  /** sha256 of the package's fresco.json, which records the sha256 of every other file. */
  packageChecksum: string;
  backend: Manifest['backend'];
  inputKind: Manifest['input_kind'];
  /** The package's manifest: signature, plan, feature versions, files. */
  manifest: Manifest;
  planHash: string | null;
  files: PackageFile[];
  trainingConfig: unknown;
  /** Dataset manifests by role (`train`, `eval`, ...), as the trainer gave them. */
  datasets: Record<string, unknown> | null;
  featureDefinitions: unknown;
  codeHash: string | null;
  metrics: Record<string, number>;
  /** Checksum of the HTML report in the artifact store, if one was registered. */
  reportChecksum: string | null;
  paramsSummary: unknown;
  tags: string[];
  description: string | null;
  archivedAt: string | null;
  archivedBy: string | null;
  /** Python packages: the environment they were registered with (key, Python version, `pip freeze`); null otherwise. */
  environment: { key: string; python: string; lock: string } | null;
  /** Aliases pointing at this version now. */
  aliases: string[];
}

export interface ModelSummary {
  name: string;
  versions: number;
  latestVersion: number;
  latestCreatedAt: string;
  aliases: Record<string, number>;
}

export interface AliasMove {
  name: string;
  alias: string;
  fromVersion: number | null;
  toVersion: number;
  at: string;
  by: string;
}

export interface VersionRow {
  name: string;
  version: number;
  created_by: string;
  created_at: string;
  package_checksum: string;
  backend: string;
  input_kind: string;
  plan_hash: string | null;
  training_config: string | null;
  datasets: string | null;
  feature_definitions: string | null;
  code_hash: string | null;
  metrics: string;
  report_checksum: string | null;
  params_summary: string | null;
  tags: string;
  description: string | null;
  archived_at: string | null;
  archived_by: string | null;
  environment: string | null;
}

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

export function toVersion(row: VersionRow, manifest: Manifest, files: PackageFile[], aliases: string[]): ModelVersion {
  return deepFreeze({
    name: row.name,
    version: row.version,
    createdBy: row.created_by,
    createdAt: row.created_at,
    packageChecksum: row.package_checksum,
    backend: row.backend as Manifest['backend'],
    inputKind: row.input_kind as Manifest['input_kind'],
    manifest,
    planHash: row.plan_hash,
    files,
    trainingConfig: parse(row.training_config),
    datasets: parse(row.datasets) as Record<string, unknown> | null,
    featureDefinitions: parse(row.feature_definitions),
    codeHash: row.code_hash,
    metrics: parse(row.metrics) as Record<string, number>,
    reportChecksum: row.report_checksum,
    paramsSummary: parse(row.params_summary),
    tags: parse(row.tags) as string[],
    description: row.description,
    archivedAt: row.archived_at,
    archivedBy: row.archived_by,
    environment: parse(row.environment ?? null) as ModelVersion['environment'],
    aliases,
  });
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
