/**
 * How a `dataframe` model's features are found for a request's entity keys. The online store
 * (src/online, in progress) will implement this interface; until then, plans whose inputs are all
 * request fields need no lookup, and InMemoryFeatureLookup serves development and benchmarks.
 *
 * Plan input names (docs/serving.md): `request.<field>` or a plain name without a dot is a
 * request field; `<table>.<feature>` is a feature looked up by entity keys.
 */
import { FrescoError } from '../errors/index.js';
import type { Scalar } from './protocol/messages.js';

/** One row's result: feature name -> value, or an error for that row (unknown entity, missing key). */
export type LookupRow = Map<string, Scalar> | FrescoError;

export interface FeatureLookup {
  /**
   * The values of `features` (`table.feature` names) for each row's entity keys, in row order.
   * A feature the store does not have for that entity is null; a missing entity key is an error
   * for that row (FRESCO_ERR_INPUT_INVALID naming the key).
   */
  getFeatures(features: readonly string[], keys: readonly Record<string, Scalar>[]): Promise<LookupRow[]> | LookupRow[];
}

/** Features by table: each table is keyed by one entity key (`airport`) and holds rows of features. */
export class InMemoryFeatureLookup implements FeatureLookup {
  readonly #tables = new Map<string, { key: string; rows: Map<string, Map<string, Scalar>> }>();

  /** Adds (or replaces) a feature table keyed by entity key `key`. */
  setTable(table: string, key: string, rows: Iterable<[Scalar, Record<string, Scalar>]>): void {
    const map = new Map<string, Map<string, Scalar>>();
    for (const [entity, features] of rows) map.set(String(entity), new Map(Object.entries(features)));
    this.#tables.set(table, { key, rows: map });
  }

  getFeatures(features: readonly string[], keys: readonly Record<string, Scalar>[]): LookupRow[] {
    const split = features.map((f) => {
      const dot = f.indexOf('.');
      return { name: f, table: f.slice(0, dot), feature: f.slice(dot + 1) };
    });
    return keys.map((rowKeys) => {
      const out = new Map<string, Scalar>();
      for (const { name, table, feature } of split) {
        const t = this.#tables.get(table);
        if (!t) return new FrescoError('FRESCO_ERR_INPUT_INVALID', `feature table "${table}" is not in the online store`);
        const entity = rowKeys[t.key];
        if (entity === undefined || entity === null) return new FrescoError('FRESCO_ERR_INPUT_INVALID', `missing entity key "${t.key}" (needed for ${name})`, { location: { key: t.key } });
        out.set(name, t.rows.get(String(entity))?.get(feature) ?? null);
      }
      return out;
    });
  }
}
