/** The model registry (docs/registry.md): versions, aliases, lineage, metrics, artifacts. */
export { ModelRegistry, type RegisterOptions, defaultUser } from './registry.js';
export type { ModelVersion, ModelSummary, AliasMove } from './records.js';
export type { VersionDiff, DiffRow } from './diff.js';
export type { DiffSummary, Change, MetricChange } from './diff-summary.js';
export { parseRef, checkAliasName, checkModelName, ALIAS_PATTERN, type ModelRef } from './ref.js';
