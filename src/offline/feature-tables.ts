/**
 * The feature side of a point-in-time join: registers each selected table's source, checks the
 * columns the join needs (on the source and on the label rows), and builds each table's feature
 * rows (windowed tables aggregated once into a temporary table). Shared by the dataset builder
 * (one join per build) and batch scoring, which prepares the tables once per job and joins every
 * part of its input against them, instead of aggregating the sources again for each part.
 * Temporary tables belong to the engine's connection: join on that same connection.
 */
import { FrescoError } from '../errors/index.js';
import { featureColumnName } from '../features/feature-schema-from-definitions.js';
import type { Definitions, Feature, FeatureTable, Source } from '../features/definitions.js';
import type { Engine } from './engine.js';
import { columnKind, kindForFeature, registerSource, requireColumn, SQL_TYPES, type Relation } from './sources.js';
import type { PitTable, SqlDialect } from './sql-dialect.js';

export interface FeatureTablePlan {
  table: FeatureTable;
  features: Feature[];
  source: Relation;
  pit: PitTable;
}

export interface PreparedFeatureTables {
  plans: FeatureTablePlan[];
  /** Source name -> its registered relation. */
  sourceRelations: Map<string, Relation>;
}

interface CheckedTable {
  table: FeatureTable;
  features: Feature[];
  sourceDef: Source;
  source: Relation;
  keys: PitTable['keys'];
}

/**
 * Prepares the tables of `selection` for a join onto `labels` (a relation whose columns hold the
 * join keys; only its columns and path are read here, for checks and messages). Every source is
 * registered and every column the join needs is checked first, for all tables, before any
 * table's rows are computed (windowed aggregations scan whole sources): bad input fails at once.
 * `onTable` hears of each table as its rows are built (for progress).
 */
export async function prepareFeatureTables(
  engine: Engine,
  dialect: SqlDialect,
  defs: Definitions,
  selection: Map<string, Feature[]>,
  labels: Pick<Relation, 'path' | 'columns'>,
  onTable?: (table: FeatureTable, index: number, count: number) => void,
): Promise<PreparedFeatureTables> {
  const sourceRelations = new Map<string, Relation>();
  const checked: CheckedTable[] = [];
  for (const [tableName, features] of selection) {
    const table = defs.tables.get(tableName)!;
    const sourceDef = defs.sources.get(table.source)!;
    let source = sourceRelations.get(sourceDef.name);
    if (!source) {
      source = await registerSource(engine, dialect, sourceDef, `__fresco_source_${sourceDef.name}`);
      sourceRelations.set(sourceDef.name, source);
    }
    checked.push({ table, features, sourceDef, source, keys: checkTable(table, features, sourceDef, source, labels) });
  }
  const plans: FeatureTablePlan[] = [];
  for (const [i, c] of checked.entries()) {
    onTable?.(c.table, i, checked.length);
    plans.push(await buildTable(engine, dialect, c, `t${i}`));
  }
  return { plans, sourceRelations };
}

/** Every column check of one table (keys on both sides, timestamps, feature columns, name clashes); returns its join keys. */
function checkTable(table: FeatureTable, features: Feature[], sourceDef: Source, source: Relation, labels: Pick<Relation, 'path' | 'columns'>): PitTable['keys'] {
  const keys = table.joinKeys.map((k) => {
    const sourceType = requireColumn(source, table.keyMap[k]!, 'key', `join key "${k}" of table "${table.name}"`);
    const labelColumn = table.joinKeyMap[k]!;
    const labelType = requireColumn(labels, labelColumn, 'key', `join key "${k}" of table "${table.name}"`);
    if (columnKind(sourceType) !== columnKind(labelType)) {
      throw new FrescoError(
        'FRESCO_ERR_DATA_INVALID',
        `${labels.path}: column "${labelColumn}" (join key "${k}" of table "${table.name}") has type ${labelType}, but the source column "${table.keyMap[k]}" in ${source.path} has type ${sourceType}`,
        { location: { file: labels.path, key: labelColumn } },
      );
    }
    return { label: labelColumn, table: k };
  });
  if (table.kind === 'windowed') {
    requireColumn(source, sourceDef.timestamp!, 'temporal', `timestamp of source "${sourceDef.name}"`);
    for (const f of table.features) {
      if (f.column !== '*') requireColumn(source, f.column, 'numeric', `column of feature "${table.name}.${f.name}"`);
    }
  } else {
    for (const f of features) requireColumn(source, f.column, kindForFeature(f.type), `column of feature "${table.name}.${f.name}"`);
    if (table.kind === 'batch') {
      requireColumn(source, sourceDef.timestamp!, 'temporal', `timestamp of source "${sourceDef.name}"`);
      if (sourceDef.createdTimestamp) requireColumn(source, sourceDef.createdTimestamp, 'temporal', `created_timestamp of source "${sourceDef.name}"`);
    }
  }
  for (const f of features) {
    const as = featureColumnName(table.name, f.name);
    if (labels.columns.has(as)) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${labels.path}: column "${as}" clashes with the feature column of the same name`, { location: { file: labels.path, key: as } });
  }
  return keys;
}

/** The feature-row relation of one checked table (windowed and static rows computed into temporary tables). */
async function buildTable(engine: Engine, dialect: SqlDialect, c: CheckedTable, alias: string): Promise<FeatureTablePlan> {
  const q = (s: string) => dialect.ident(s);
  const { table, features, sourceDef, source } = c;
  const keyProjection = table.joinKeys.map((k) => `${q(table.keyMap[k]!)} AS ${q(k)}`);
  let relation: string;
  if (table.kind === 'windowed') {
    const columns = [...new Set(table.features.filter((f) => f.column !== '*').map((f) => f.column))];
    const keyed = `(SELECT ${[...keyProjection, q(sourceDef.timestamp!), ...columns.map(q)].join(', ')} FROM ${q(source.name)})`;
    // Windowed rows are materialized once: the as-of join then scans a small table.
    const name = `__fresco_rows_${table.name}`;
    await engine.run(
      `CREATE TEMP TABLE ${q(name)} AS SELECT * FROM ${dialect.windowedFeatureRows({
        relation: keyed,
        keys: table.joinKeys,
        eventTs: sourceDef.timestamp!,
        intervalSeconds: table.intervalSeconds!,
        features: features.map((f) => ({ name: f.name, function: f.function!, column: f.column, windowSeconds: f.windowSeconds!, sqlType: SQL_TYPES[f.type] })),
      })}`,
    );
    relation = q(name);
  } else {
    const casts = features.map((f) => `CAST(${q(f.column)} AS ${SQL_TYPES[f.type]}) AS ${q(f.name)}`);
    if (table.kind === 'batch') {
      const stamps = [q(sourceDef.timestamp!), ...(sourceDef.createdTimestamp ? [q(sourceDef.createdTimestamp)] : [])];
      const keyed = `(SELECT ${[...keyProjection, ...stamps, ...casts].join(', ')} FROM ${q(source.name)})`;
      relation = dialect.latestPerEvent({
        relation: keyed,
        keys: table.joinKeys,
        eventTs: sourceDef.timestamp!,
        ...(sourceDef.createdTimestamp ? { createdTs: sourceDef.createdTimestamp } : {}),
        columns: features.map((f) => f.name),
      });
    } else {
      const name = `__fresco_rows_${table.name}`;
      await engine.run(`CREATE TEMP TABLE ${q(name)} AS SELECT ${[...keyProjection, ...casts].join(', ')} FROM ${q(source.name)} WHERE ${table.joinKeys.map((k) => `${q(table.keyMap[k]!)} IS NOT NULL`).join(' AND ')}`);
      const [dup] = await engine.rows(`SELECT ${table.joinKeys.map((k) => `CAST(${q(k)} AS VARCHAR) AS ${q(k)}`).join(', ')}, count(*) AS n FROM ${q(name)} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`);
      if (dup) {
        const key = table.joinKeys.map((k) => `${k}=${String(dup[k])}`).join(', ');
        throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${source.path}: static table "${table.name}" has ${String(dup.n)} rows for ${key}; a table without timestamps needs one row per entity`, {
          location: { file: source.path, key: table.keyMap[table.joinKeys[0]!]! },
        });
      }
      relation = q(name);
    }
  }
  const pit: PitTable = {
    alias,
    relation,
    keys: c.keys,
    timed: table.kind !== 'static',
    ttlSeconds: table.ttlSeconds,
    features: features.map((f) => ({ column: f.name, as: featureColumnName(table.name, f.name) })),
  };
  return { table, features, source, pit };
}
