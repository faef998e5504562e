/**
 * Turns applied definitions into the DSL's FeatureSchema (src/features/schema.ts): `@table.feature`
 * gets the feature's DSL type, and the dataset column `<table>__<feature>` carries its values.
 */
import type { Definitions, Feature, FeatureTable } from './definitions.js';
import type { FeatureType } from './definition-schema.js';
import type { FeatureSchema, FieldType, ValueType } from './schema.js';

const DSL_TYPES: Record<FeatureType, ValueType> = {
  float32: 'float',
  float64: 'float',
  int32: 'int',
  int64: 'int',
  bool: 'bool',
  string: 'string',
  timestamp: 'timestamp',
};

export function dslType(type: FeatureType): ValueType {
  return DSL_TYPES[type];
}

/** The dataset column of a feature: `<table>__<feature>`. */
export function featureColumnName(table: string, feature: string): string {
  return `${table}__${feature}`;
}

/**
 * Any feature can be null in a point-in-time dataset: a label row whose entity has no row
 * (yet, or within the TTL) gets nulls. Only counts of windowed tables are never null once the
 * entity has been seen, and even they are null before its first tile, so every feature is nullable.
 */
function fieldType(_table: FeatureTable, feature: Feature): FieldType {
  return { type: dslType(feature.type), nullable: true };
}

export function featureSchemaFromDefinitions(defs: Definitions, versions?: Record<string, string>, request: FeatureSchema['request'] = {}): FeatureSchema {
  const tables: FeatureSchema['tables'] = {};
  for (const table of defs.tables.values()) {
    tables[table.name] = Object.fromEntries(table.features.map((f) => [f.name, fieldType(table, f)]));
  }
  return { tables, request, ...(versions ? { versions } : {}) };
}
