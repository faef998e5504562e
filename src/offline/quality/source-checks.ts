/**
 * The sources' side of a pipeline's quality run: profiles each source that the prepared feature
 * tables read (only the columns they use or that an expectation names) and checks the source's
 * expectations against it. Shared by the dataset builder and batch scoring, so that both check
 * their inputs the same way.
 */
import { StateStore } from '../../features/state-store.js';
import type { Definitions } from '../../features/definitions.js';
import type { Engine } from '../engine.js';
import type { PreparedFeatureTables } from '../feature-tables.js';
import type { SqlDialect } from '../sql-dialect.js';
import { allowedAggregates, checkColumn, checkTable, type CheckResult } from './checks.js';
import { profileRelation, type TableProfile } from './profile.js';

export interface SourceChecks {
  profiles: TableProfile[];
  checks: CheckResult[];
  /** Source name -> its row count. */
  rows: Record<string, number>;
}

/**
 * `referenceTime` is what freshness is measured from (the newest label, or the as-of time);
 * `stateFile` holds earlier runs' row counts, for row-count drift checks.
 */
export async function checkSources(
  engine: Engine,
  dialect: SqlDialect,
  defs: Definitions,
  prepared: PreparedFeatureTables,
  stateFile: string,
  referenceTime: Date | undefined,
): Promise<SourceChecks> {
  const out: SourceChecks = { profiles: [], checks: [], rows: {} };
  const store = new StateStore(stateFile);
  try {
    for (const [name, relation] of prepared.sourceRelations) {
      const def = defs.sources.get(name)!;
      const used = new Set<string>();
      for (const p of prepared.plans.filter((p) => p.table.source === name)) {
        Object.values(p.table.keyMap).forEach((c) => used.add(c));
        p.features.forEach((f) => f.column !== '*' && used.add(f.column));
      }
      if (def.timestamp) used.add(def.timestamp);
      if (def.createdTimestamp) used.add(def.createdTimestamp);
      const columnChecks = def.expectations.filter((e) => e.column);
      for (const e of columnChecks) used.add(e.column!);
      const columns = new Map([...relation.columns].filter(([c]) => used.has(c)));
      const allowed = columnChecks.filter((e) => e.allowed).map((e) => ({ column: e.column!, allowed: e.allowed! }));
      const { profile, extra } = await profileRelation(engine, {
        name: `source:${name}`,
        relation: dialect.ident(relation.name),
        columns,
        file: def.path,
        ...(def.timestamp ? { timeColumn: def.timestamp } : {}),
        extra: allowedAggregates(allowed.filter((a) => columns.has(a.column))),
      });
      out.profiles.push(profile);
      out.rows[name] = profile.rows;
      const previous = store.previousRows(profile.name);
      for (const e of def.expectations) {
        if (e.column) out.checks.push(...checkColumn(profile, e.column, e, extra));
        out.checks.push(...checkTable(profile, e, { ...(referenceTime ? { referenceTime } : {}), ...(previous ? { previousRows: previous.rows } : {}) }));
      }
    }
  } finally {
    store.close();
  }
  return out;
}
