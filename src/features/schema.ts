/**
 * What the DSL's type checker needs to know about the world: the features of each feature table
 * and the fields a prediction request (or a batch input file) carries. The offline store builds
 * one from the YAML definitions; tests and early users can write one by hand.
 */

/** The DSL's value types. Timestamps are epoch milliseconds, UTC, at run time. */
export type ValueType = 'float' | 'int' | 'bool' | 'string' | 'timestamp';

export interface FieldType {
  type: ValueType;
  /** Whether the value may be missing (a feature with a TTL, an optional request field...). */
  nullable: boolean;
}

export interface FeatureSchema {
  /** table name -> feature name -> type. Referenced in the DSL as `@<table>.<feature>`. */
  tables: Record<string, Record<string, FieldType>>;
  /** request field -> type. Referenced as `@request.<field>`. */
  request: Record<string, FieldType>;
  /** table name -> the definition version the schema was read from (recorded in plans and models). */
  versions?: Record<string, string>;
}
