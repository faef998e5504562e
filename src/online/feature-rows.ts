/**
 * The feature rows a materialization reads: for one feature table, the latest row per entity
 * with event time in [start, end], composed from the offline store's SQL dialect exactly as the
 * dataset builder composes them (latest created timestamp on ties, windowed tiles, static rows),
 * so the online value equals the offline point-in-time value as of `end`.
 */
import type { FeatureTable, Source } from '../features/definitions.js';
import type { OfflineEngine } from '../offline/index.js';
import { FrescoError } from '../errors/index.js';
import { kindForFeature, requireColumn, SQL_TYPES, type Relation } from '../offline/sources.js';
import type { SqlDialect } from '../offline/sql-dialect.js';

/** Column names of the relation `latestRowsSql` returns. */
export const KEY = '__fresco_key';
export const EVENT_MS = '__fresco_event_ms';

function tsLiteral(d: Date): string {
  return `TIMESTAMP '${d.toISOString().replace('T', ' ').replace('Z', '')}'`;
}

/**
 * SQL (the feature rows, then over their temp table) selecting `KEY` (join-key values as text joined by U+001F, row-codec's entity key),
 * `EVENT_MS`, then each feature (timestamps as epoch ms), one row per entity.
 */
export function latestRowsSql(args: { dialect: SqlDialect; table: FeatureTable; source: Source; relation: Relation; start: Date; end: Date }): { rows: string; latest: (rowsTable: string) => string } {
  const { dialect, table, source, relation, start, end } = args;
  const q = (s: string) => dialect.ident(s);
  for (const k of table.joinKeys) requireColumn(relation, table.keyMap[k]!, 'key', `join key "${k}" of table "${table.name}"`);
  const keyProjection = table.joinKeys.map((k) => `${q(table.keyMap[k]!)} AS ${q(k)}`);
  let rows: string;
  if (table.kind === 'windowed') {
    requireColumn(relation, source.timestamp!, 'temporal', `timestamp of source "${source.name}"`);
    for (const f of table.features) if (f.column !== '*') requireColumn(relation, f.column, 'numeric', `column of feature "${table.name}.${f.name}"`);
    const columns = [...new Set(table.features.filter((f) => f.column !== '*').map((f) => f.column))];
    // Tiles after `end` cannot change rows at or before it: read source rows up to `end` only.
    const keyed = `(SELECT ${[...keyProjection, q(source.timestamp!), ...columns.map(q)].join(', ')} FROM ${q(relation.name)} WHERE CAST(${q(source.timestamp!)} AS TIMESTAMP) <= ${tsLiteral(end)})`;
    rows = dialect.windowedFeatureRows({
      relation: keyed,
      keys: table.joinKeys,
      eventTs: source.timestamp!,
      intervalSeconds: table.intervalSeconds!,
      features: table.features.map((f) => ({ name: f.name, function: f.function!, column: f.column, windowSeconds: f.windowSeconds!, sqlType: SQL_TYPES[f.type] })),
    });
  } else {
    for (const f of table.features) requireColumn(relation, f.column, kindForFeature(f.type), `column of feature "${table.name}.${f.name}"`);
    const casts = table.features.map((f) => `CAST(${q(f.column)} AS ${SQL_TYPES[f.type]}) AS ${q(f.name)}`);
    if (table.kind === 'batch') {
      requireColumn(relation, source.timestamp!, 'temporal', `timestamp of source "${source.name}"`);
      const stamps = [q(source.timestamp!), ...(source.createdTimestamp ? [q(source.createdTimestamp)] : [])];
      rows = dialect.latestPerEvent({
        relation: `(SELECT ${[...keyProjection, ...stamps, ...casts].join(', ')} FROM ${q(relation.name)})`,
        keys: table.joinKeys,
        eventTs: source.timestamp!,
        ...(source.createdTimestamp ? { createdTs: source.createdTimestamp } : {}),
        columns: table.features.map((f) => f.name),
      });
    } else {
      // Static: no event time; rows are known as of `end`.
      rows = `(SELECT ${[...keyProjection, `${tsLiteral(end)} AS __event_ts`, ...casts].join(', ')} FROM ${q(relation.name)} WHERE ${table.joinKeys.map((k) => `${q(table.keyMap[k]!)} IS NOT NULL`).join(' AND ')})`;
    }
  }
  const key = table.joinKeys.length === 1 ? `CAST(${q(table.joinKeys[0]!)} AS VARCHAR)` : `concat_ws(chr(31), ${table.joinKeys.map((k) => `CAST(${q(k)} AS VARCHAR)`).join(', ')})`;
  const features = table.features.map((f) => (f.type === 'timestamp' ? `epoch_ms(${q(f.name)}) AS ${q(f.name)}` : q(f.name)));
  // Two statements: the feature rows go to a temp table first. DuckDB 1.x fails an internal
  // cast when this outer QUALIFY is planned together with latestPerEvent's nested one.
  const window = table.kind === 'static' ? 'true' : `${EVENT_MS} BETWEEN ${start.getTime()} AND ${end.getTime()}`;
  return {
    rows: `SELECT *, epoch_ms(__event_ts) AS ${EVENT_MS} FROM ${rows}`,
    latest: (rowsTable) => `SELECT ${key} AS ${KEY}, ${EVENT_MS}, ${features.join(', ')}
FROM ${q(rowsTable)}
WHERE ${window}
QUALIFY row_number() OVER (PARTITION BY ${table.joinKeys.map(q).join(', ')} ORDER BY ${EVENT_MS} DESC) = 1`,
  };
}

/** A static table with two rows for one entity cannot be served: refuse, naming the key. */
export async function checkStaticUnique(engine: OfflineEngine, dialect: SqlDialect, table: FeatureTable, relation: Relation): Promise<void> {
  if (table.kind !== 'static') return;
  const q = (s: string) => dialect.ident(s);
  const keys = table.joinKeys.map((k) => q(table.keyMap[k]!));
  const [dup] = await engine.rows(`SELECT ${keys.map((k, i) => `CAST(${k} AS VARCHAR) AS k${i}`).join(', ')}, count(*) AS n FROM ${q(relation.name)} WHERE ${keys.map((k) => `${k} IS NOT NULL`).join(' AND ')} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`);
  if (dup) {
    const key = table.joinKeys.map((k, i) => `${k}=${String(dup[`k${i}`])}`).join(', ');
    throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${relation.path}: static table "${table.name}" has ${String(dup.n)} rows for ${key}; a table without timestamps needs one row per entity`, {
      location: { file: relation.path, key: table.keyMap[table.joinKeys[0]!]! },
    });
  }
}
