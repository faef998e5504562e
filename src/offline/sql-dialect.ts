/**
 * Every point-in-time SQL statement Fresco runs, behind one small dialect interface. DuckDB is the
 * engine today; a distributed engine later implements the same interface, and the pipelines that
 * compose these statements (dataset-builder.ts) do not change.
 *
 * The rule (Feast's): a feature row joins a label row when its event timestamp is <= the label's
 * timestamp (inclusive) and, with a TTL, >= the label's timestamp minus the TTL. The latest event
 * timestamp wins; on a tie the latest created timestamp wins. Every label row appears exactly once.
 */

/** A feature relation as the join sees it: join keys under their key names, `__event_ts`, features. */
export interface PitTable {
  /** SQL alias, unique in the statement (t0, t1, ...). */
  alias: string;
  /** SQL relation (a table or view name, or a parenthesized query). */
  relation: string;
  /** Label column -> relation column, one per join key. */
  keys: { label: string; table: string }[];
  /** Static tables (no event time) are joined on keys alone. */
  timed: boolean;
  /** 0 = unbounded look-back. */
  ttlSeconds: number;
  /** Relation column -> output column (`<table>__<feature>`). */
  features: { column: string; as: string }[];
}

export interface WindowedFeature {
  /** Output column name in the feature rows. */
  name: string;
  function: 'count' | 'sum' | 'avg' | 'min' | 'max' | 'stddev';
  /** Source column; `*` for count of rows. */
  column: string;
  windowSeconds: number;
  /** SQL type the value is cast to. */
  sqlType: string;
}

export interface PointInTimeJoin {
  /** Relation of label rows. */
  labels: string;
  /** Label columns, in order, copied unchanged. */
  labelColumns: string[];
  /** Label timestamp column (any DATE/TIMESTAMP type). */
  labelTimestamp: string;
  tables: PitTable[];
}

export interface SqlDialect {
  readonly name: string;
  ident(name: string): string;
  literal(value: string): string;
  /** A relation reading a Parquet or CSV file (or glob); a CSV's `textColumns` are read as text. */
  scanFile(path: string, format: 'parquet' | 'csv', textColumns?: string[]): string;
  /**
   * Feature rows of a plain table: one per (keys, event timestamp), the latest created timestamp
   * winning, so the as-of join below never sees a tie it would have to break arbitrarily.
   */
  latestPerEvent(args: { relation: string; keys: string[]; eventTs: string; createdTs?: string; columns: string[] }): string;
  /**
   * Feature rows of a windowed table. Source rows are grouped into tiles of `intervalSeconds` per
   * entity; a feature row is emitted at each tile end where some window's contents change, with
   * `__event_ts` = that tile end and each window aggregated over whole tiles strictly before it.
   * A row at time t therefore never sees a row at t or later: no leakage of a label's own event.
   */
  windowedFeatureRows(args: { relation: string; keys: string[]; eventTs: string; intervalSeconds: number; features: WindowedFeature[] }): string;
  /** The dataset: label columns unchanged, then each table's features; one row per label row, in label order. */
  pointInTimeJoin(args: PointInTimeJoin): string;
  /**
   * The same result by a correlated lookup per label row (LATERAL ... ORDER BY ... LIMIT 1) over
   * raw, undeduplicated rows with a created-timestamp column `__created_ts` when present: slow,
   * obviously right. Used as the benchmark baseline and as a test oracle.
   */
  naivePointInTimeJoin(args: PointInTimeJoin & { createdTs: Record<string, string | undefined> }): string;
}

const ROW = '__fresco_row';
const TS = '__fresco_ts';

export class DuckDbDialect implements SqlDialect {
  readonly name = 'duckdb';

  ident(name: string): string {
    return `"${name.replaceAll('"', '""')}"`;
  }

  literal(value: string): string {
    return `'${value.replaceAll("'", "''")}'`;
  }

  scanFile(path: string, format: 'parquet' | 'csv', textColumns: string[] = []): string {
    if (format === 'parquet') return `read_parquet(${this.literal(path)})`;
    const types = textColumns.length ? `, types = {${textColumns.map((c) => `${this.literal(c)}: 'VARCHAR'`).join(', ')}}` : '';
    return `read_csv(${this.literal(path)}, header = true${types})`;
  }

  latestPerEvent(args: { relation: string; keys: string[]; eventTs: string; createdTs?: string; columns: string[] }): string {
    const q = (s: string) => this.ident(s);
    const keys = args.keys.map(q);
    const order = args.createdTs ? `${q(args.createdTs)} DESC NULLS LAST` : `${q(args.eventTs)}`;
    return `(SELECT ${[...keys, `CAST(${q(args.eventTs)} AS TIMESTAMP) AS __event_ts`, ...args.columns.map(q)].join(', ')}
  FROM ${args.relation}
  WHERE ${[...keys, q(args.eventTs)].map((k) => `${k} IS NOT NULL`).join(' AND ')}
  QUALIFY row_number() OVER (PARTITION BY ${[...keys, q(args.eventTs)].join(', ')} ORDER BY ${order}) = 1)`;
  }

  windowedFeatureRows(args: { relation: string; keys: string[]; eventTs: string; intervalSeconds: number; features: WindowedFeature[] }): string {
    const q = (s: string) => this.ident(s);
    const keys = args.keys.map(q);
    const intervalUs = BigInt(args.intervalSeconds) * 1_000_000n;
    const columns = [...new Set(args.features.filter((f) => f.column !== '*').map((f) => f.column))];
    const stat = (c: number, s: string) => `__c${c}_${s}`;
    // One pass over the source: per entity and tile, the partial aggregates every window needs.
    const tileStats = [
      'count(*) AS __rows',
      ...columns.flatMap((c, i) => {
        const v = `CAST(${q(c)} AS DOUBLE)`;
        return [`count(${q(c)}) AS ${stat(i, 'n')}`, `sum(${v}) AS ${stat(i, 's')}`, `sum(${v} * ${v}) AS ${stat(i, 'q')}`, `min(${q(c)}) AS ${stat(i, 'min')}`, `max(${q(c)}) AS ${stat(i, 'max')}`];
      }),
    ];
    const tileCounts = [...new Set(args.features.map((f) => f.windowSeconds / args.intervalSeconds))].sort((a, b) => a - b);
    const frames = tileCounts.map((n) => `__w${n} AS (PARTITION BY ${keys.join(', ')} ORDER BY __p RANGE BETWEEN ${n - 1} PRECEDING AND CURRENT ROW)`);
    const values = args.features.map((f) => {
      const w = `__w${f.windowSeconds / args.intervalSeconds}`;
      const i = columns.indexOf(f.column);
      const over = (s: string) => `${f.function === 'min' ? 'min' : f.function === 'max' ? 'max' : 'sum'}(${stat(i, s)}) OVER ${w}`;
      let expr: string;
      switch (f.function) {
        case 'count':
          expr = f.column === '*' ? `coalesce(sum(__rows) OVER ${w}, 0)` : `coalesce(${over('n')}, 0)`;
          break;
        case 'sum':
          expr = `coalesce(${over('s')}, 0)`;
          break;
        case 'avg':
          expr = `${over('s')} / nullif(${over('n')}, 0)`;
          break;
        case 'min':
          expr = over('min');
          break;
        case 'max':
          expr = over('max');
          break;
        case 'stddev': {
          // Sample standard deviation from count, sum and sum of squares of whole tiles.
          const n = over('n');
          expr = `CASE WHEN ${n} > 1 THEN sqrt(greatest((${over('q')} - ${over('s')} * ${over('s')} / ${n}) / (${n} - 1), 0)) END`;
          break;
        }
      }
      return `CAST(${expr} AS ${f.sqlType}) AS ${q(f.name)}`;
    });
    return `(WITH __tiles AS (
    SELECT ${keys.join(', ')}, CAST(floor(epoch_us(CAST(${q(args.eventTs)} AS TIMESTAMP)) / ${intervalUs}) AS BIGINT) AS __tile, ${tileStats.join(', ')}
    FROM ${args.relation}
    WHERE ${[...keys, q(args.eventTs)].map((k) => `${k} IS NOT NULL`).join(' AND ')}
    GROUP BY ALL),
  __points AS (
    SELECT DISTINCT ${keys.join(', ')}, __tile + 1 + __off AS __p
    FROM __tiles, (VALUES ${[0, ...tileCounts].map((n) => `(${n})`).join(', ')}) AS __offsets(__off)),
  __grid AS (
    SELECT ${keys.map((k) => `__points.${k}`).join(', ')}, __points.__p, __tiles.* EXCLUDE (${[...keys, '__tile'].join(', ')})
    FROM __points LEFT JOIN __tiles ON ${keys.map((k) => `__tiles.${k} = __points.${k}`).join(' AND ')} AND __tiles.__tile = __points.__p - 1)
  SELECT ${keys.join(', ')}, make_timestamp(__p * ${intervalUs}) AS __event_ts, ${values.join(', ')}
  FROM __grid
  WINDOW ${frames.join(', ')})`;
  }

  private labelsWithRowIds(args: PointInTimeJoin): string {
    const q = (s: string) => this.ident(s);
    return `(SELECT *, row_number() OVER () AS ${ROW}, CAST(${q(args.labelTimestamp)} AS TIMESTAMP) AS ${TS} FROM ${args.labels})`;
  }

  private ttlGuard(table: PitTable, eventTs: string): (value: string) => string {
    if (!table.timed || table.ttlSeconds === 0) return (value) => value;
    // Relative to each label row; the boundary itself qualifies (>=).
    return (value) => `CASE WHEN ${eventTs} >= __l.${TS} - INTERVAL ${table.ttlSeconds} SECOND THEN ${value} END`;
  }

  private outputColumns(args: PointInTimeJoin): string[] {
    const q = (s: string) => this.ident(s);
    return [
      ...args.labelColumns.map((c) => `__l.${q(c)}`),
      ...args.tables.flatMap((t) => {
        const guard = this.ttlGuard(t, `${t.alias}.__event_ts`);
        return t.features.map((f) => `${guard(`${t.alias}.${q(f.column)}`)} AS ${q(f.as)}`);
      }),
    ];
  }

  pointInTimeJoin(args: PointInTimeJoin): string {
    const q = (s: string) => this.ident(s);
    const joins = args.tables.map((t) => {
      const on = t.keys.map((k) => `__l.${q(k.label)} = ${t.alias}.${q(k.table)}`);
      if (!t.timed) return `LEFT JOIN ${t.relation} AS ${t.alias} ON ${on.join(' AND ')}`;
      return `ASOF LEFT JOIN ${t.relation} AS ${t.alias} ON ${[...on, `__l.${TS} >= ${t.alias}.__event_ts`].join(' AND ')}`;
    });
    return `SELECT ${this.outputColumns(args).join(',\n  ')}
FROM ${this.labelsWithRowIds(args)} AS __l
${joins.join('\n')}
ORDER BY __l.${ROW}`;
  }

  naivePointInTimeJoin(args: PointInTimeJoin & { createdTs: Record<string, string | undefined> }): string {
    const q = (s: string) => this.ident(s);
    const joins = args.tables.map((t) => {
      const on = t.keys.map((k) => `__f.${q(k.table)} = __l.${q(k.label)}`);
      if (t.timed) {
        on.push(`__f.__event_ts <= __l.${TS}`);
        if (t.ttlSeconds > 0) on.push(`__f.__event_ts >= __l.${TS} - INTERVAL ${t.ttlSeconds} SECOND`);
      }
      const created = args.createdTs[t.alias];
      const order = t.timed ? `ORDER BY __f.__event_ts DESC${created ? `, __f.${q(created)} DESC NULLS LAST` : ''} ` : '';
      return `LEFT JOIN LATERAL (SELECT * FROM ${t.relation} AS __f WHERE ${on.join(' AND ')} ${order}LIMIT 1) AS ${t.alias} ON true`;
    });
    const columns = [
      ...args.labelColumns.map((c) => `__l.${q(c)}`),
      ...args.tables.flatMap((t) => t.features.map((f) => `${t.alias}.${q(f.column)} AS ${q(f.as)}`)),
    ];
    return `SELECT ${columns.join(', ')}
FROM ${this.labelsWithRowIds(args)} AS __l
${joins.join('\n')}
ORDER BY __l.${ROW}`;
  }
}
