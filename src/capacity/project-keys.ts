/**
 * Entity keys for a dataframe model's requests, drawn from the project's own data as production
 * traffic would draw them: for each key the model looks up, the feature table that reads it,
 * the most frequent values of its key column in that table's source (so hot keys are hot here
 * too, weighted by how often they occur), kept only when the online store holds a row for them
 * (a key the store lacks would measure the missing-feature path, not the real one).
 */
import { FrescoError } from '../errors/index.js';
import type { OnlineStore } from '../online/online-store.js';

export interface WeightedKeys {
  /** Key name (as a request names it) -> values, hottest first. */
  values: Record<string, string[]>;
  /** The same order: how often each value occurs in the source (its sampling weight). */
  weights: Record<string, number[]>;
  /** Where each key's values came from: "table origin_delays, source flights, column origin". */
  from: Record<string, string>;
}

export async function keysFromProject(projectDir: string, keyNames: readonly string[], limit = 1000): Promise<WeightedKeys> {
  const [{ loadProject }, { openOnlineStore }, { openEngine }, { DuckDbDialect }, { registerSource }] = await Promise.all([
    import('../features/project.js'),
    import('../online/open-store.js'),
    import('../offline/engine.js'),
    import('../offline/sql-dialect.js'),
    import('../offline/sources.js'),
  ]);
  const project = loadProject(projectDir);
  const out: WeightedKeys = { values: {}, weights: {}, from: {} };
  const store: OnlineStore = await openOnlineStore(project.config);
  const engine = await openEngine({ threads: 1 });
  try {
    const dialect = new DuckDbDialect();
    for (const name of keyNames) {
      // The table whose join key a request names `name` (join_key_map), with a single join key.
      // An event table first: its source's key frequencies are the traffic's (a static table's
      // source, e.g. a list of airports, holds each key once).
      const table = [...project.definitions.tables.values()]
        .filter((t) => t.joinKeys.length === 1 && (t.joinKeyMap[t.joinKeys[0]!] ?? t.joinKeys[0]) === name)
        .sort((a, b) => Number(a.kind === 'static') - Number(b.kind === 'static'))[0];
      if (!table) {
        throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `entity key "${name}": no single-key feature table of project ${projectDir} reads it; give its values with --key ${name}=v1,v2,...`);
      }
      const source = project.definitions.sources.get(table.source)!;
      const joinKey = table.joinKeys[0]!;
      const column = table.keyMap[joinKey] ?? joinKey;
      const relation = await registerSource(engine, dialect, source, `keys_${Object.keys(out.from).length}`);
      const q = dialect.ident.bind(dialect);
      const rows = await engine.rows(`SELECT CAST(${q(column)} AS VARCHAR) AS k, count(*) AS n FROM ${q(relation.name)} WHERE ${q(column)} IS NOT NULL GROUP BY 1 ORDER BY n DESC, k LIMIT ${Math.floor(limit)}`);
      const candidates = rows.map((r) => ({ k: String(r.k), n: Number(r.n) }));
      const read = await store.read(table.name, candidates.map((c) => [c.k]));
      const present = candidates.filter((_, i) => read.rows[i]!.status === 'present');
      if (!present.length) {
        throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `entity key "${name}": none of the ${candidates.length} most frequent values in source "${source.name}" has a present row in online table "${table.name}" (run \`fresco materialize\`), or give values with --key ${name}=v1,v2,...`);
      }
      out.values[name] = present.map((c) => c.k);
      out.weights[name] = present.map((c) => c.n);
      out.from[name] = `table ${table.name}, source ${source.name}, column ${column}: ${present.length} keys present of the ${candidates.length} most frequent`;
    }
  } finally {
    engine.close();
    await store.close();
  }
  return out;
}
