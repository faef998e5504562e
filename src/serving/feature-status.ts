/**
 * Per-row feature status (Feast's convention, per looked-up table): what the online-feature
 * lookup found for each row of a dataframe request, so that an answer for an unknown entity does
 * not look like a confident prediction. Every dataframe answer carries one state per row
 * (present, missing, expired, unknown; FEATURE_STATES) and, for the rows that are not present,
 * which tables were missing or expired. docs/serving.md, "Feature status".
 *
 * The per-model policy `missingFeatures` decides what a row with a missing or expired table
 * gets: `serve` (the default) answers it from null features (the plan's fill_null/coalesce
 * decide what a null means, as offline) with its status saying so; `fail` fails that row with
 * FRESCO_ERR_FEATURES_MISSING, and the other rows are still answered.
 */
import { FrescoError } from '../errors/index.js';
import { FEATURES_EXPIRED, FEATURES_MISSING, FEATURES_PRESENT, type FeatureBlock } from './feature-lookup.js';
import { FEATURE_STATES, type FeatureDetailMsg } from './protocol/messages.js';

/** The row's state when it failed before its features were looked up (FeatureState UNKNOWN). */
export const FEATURES_UNKNOWN = 3;

export type MissingFeaturesPolicy = 'serve' | 'fail';

/** What a PredictResult says about features (dataframe models). */
export interface FeatureStatus {
  /** Per row, FeatureState value. Read-only: an all-present answer shares one array per row count. */
  summary: Uint8Array;
  /** Per row and table (rows x tables.length), FEATURES_*; undefined when every row is present. */
  states: Uint8Array | undefined;
  tables: readonly string[];
}

const present: Uint8Array[] = [];

/** A shared all-present summary of `rows` rows (no allocation per answer once seen). */
export function allPresent(rows: number): Uint8Array {
  if (rows > 65536) return new Uint8Array(rows);
  return (present[rows] ??= new Uint8Array(rows));
}

/**
 * Each row's state from a lookup's block: missing when some table had no row for its entity,
 * else expired when some table's row was too old, else present; unknown when the lookup failed
 * the row (a missing or malformed key). Called only when the block has states or errors.
 */
export function rowSummary(block: FeatureBlock, rows: number): Uint8Array {
  const out = new Uint8Array(rows);
  const n = block.tableCount;
  for (let r = 0; r < rows; r++) {
    if (block.failed(r)) {
      out[r] = FEATURES_UNKNOWN;
      continue;
    }
    let state = FEATURES_PRESENT;
    if (block.states) {
      for (let t = 0; t < n; t++) {
        const s = block.states[r * n + t] as number;
        if (s === FEATURES_MISSING) {
          state = FEATURES_MISSING;
          break;
        }
        if (s === FEATURES_EXPIRED) state = FEATURES_EXPIRED;
      }
    }
    out[r] = state;
  }
  return out;
}

/** Row r's error under the `fail` policy: which tables had no current row, and for which keys. */
export function featuresMissing(r: number, states: Uint8Array, tables: readonly string[], tableKeys: readonly (readonly string[])[], keys: Record<string, unknown>): FrescoError {
  const parts: string[] = [];
  for (let t = 0; t < tables.length; t++) {
    const s = states[r * tables.length + t];
    if (s !== FEATURES_MISSING && s !== FEATURES_EXPIRED) continue;
    const entity = (tableKeys[t] ?? []).map((k) => `${k}=${JSON.stringify(keys[k] ?? null)}`).join(', ');
    parts.push(`${tables[t]} ${s === FEATURES_MISSING ? 'has no row for' : 'has only an expired row (older than its TTL) for'} ${entity || 'the entity'}`);
  }
  return new FrescoError(
    'FRESCO_ERR_FEATURES_MISSING',
    `row ${r}: ${parts.join('; ')}; this model's missingFeatures policy is "fail" (set it to "serve" to answer from null features)`,
    { location: { key: tables[states.subarray(r * tables.length, (r + 1) * tables.length).findIndex((s) => s !== FEATURES_PRESENT)] ?? '' } },
  );
}

/** The (row, table) pairs that were not present, for the answer. */
export function featureDetails(status: FeatureStatus): FeatureDetailMsg[] {
  const out: FeatureDetailMsg[] = [];
  const { states, tables } = status;
  if (!states) return out;
  const rows = status.summary.length;
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < tables.length; t++) {
      const s = states[r * tables.length + t] as number;
      if (s !== FEATURES_PRESENT) out.push({ row: r, table: tables[t] as string, state: s });
    }
  }
  return out;
}

/**
 * KServe's `parameters` of an answer (HTTP JSON and gRPC string parameters): `feature_status`,
 * a JSON list with one state name per row, always for a dataframe model; `feature_details`, a
 * JSON list of `{row, table, status}` for the tables that were not present, when any.
 */
export function featureStatusParameters(status: FeatureStatus | undefined): Record<string, string> {
  if (!status) return {};
  const names: string[] = new Array<string>(status.summary.length);
  for (let r = 0; r < names.length; r++) names[r] = FEATURE_STATES[status.summary[r] as number] as string;
  const out: Record<string, string> = { feature_status: JSON.stringify(names) };
  const details = featureDetails(status);
  if (details.length) out.feature_details = JSON.stringify(details.map((d) => ({ row: d.row, table: d.table, status: FEATURE_STATES[d.state] })));
  return out;
}
