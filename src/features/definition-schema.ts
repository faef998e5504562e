/**
 * The YAML shape of feature definition files (`features/*.yaml`): entities, sources, feature
 * tables (plain, windowed aggregations, static) and feature services. Unknown keys are rejected.
 */
import { z } from 'zod';
import { DURATION_PATTERN } from '../config/duration.js';

/** Names become SQL identifiers and `<table>__<feature>` column names: no `__` inside them. */
const name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a name: letters, digits and "_", not starting with a digit')
  .refine((s) => !s.includes('__'), 'must not contain "__" (it separates table and feature in dataset columns)');
const column = z.string().min(1, 'must be a column name');
const duration = z.string().regex(DURATION_PATTERN, 'must be a duration such as 0, 30s, 15m, 1h, 7d or 2w');

export const FEATURE_TYPES = ['float32', 'float64', 'int32', 'int64', 'bool', 'string', 'timestamp'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];
export const AGGREGATIONS = ['count', 'sum', 'avg', 'min', 'max', 'stddev'] as const;
export type AggregationFunction = (typeof AGGREGATIONS)[number];

/** Checks on one column's values; every field is optional and each present field is one check. */
const columnChecks = {
  /** Minimum share of non-null values, 0..1 (1 = no nulls allowed). */
  not_null: z.number().min(0).max(1).optional(),
  /** Every non-null value must be >= min and <= max. */
  min: z.number().optional(),
  max: z.number().optional(),
  /** Every non-null value must be one of these. */
  allowed: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).optional(),
  /** `error` (default) fails the run; `warn` only reports. */
  severity: z.enum(['error', 'warn']).optional(),
};

export const featureExpectationSchema = z.object(columnChecks).strict();

export const sourceExpectationSchema = z
  .object({
    /** The column checked; absent for table-level checks (staleness, row-count change). */
    column: column.optional(),
    ...columnChecks,
    /** The newest event timestamp may be at most this old, relative to the run's as-of time. */
    max_staleness: duration.optional(),
    /** Row count may change by at most this fraction against the previous run (0.5 = ±50%). */
    max_row_change: z.number().min(0).optional(),
  })
  .strict();

export const entitySchema = z
  .object({
    name,
    /** Columns that together identify one entity (e.g. [driver_id]). */
    join_keys: z.array(name).min(1),
    description: z.string().optional(),
  })
  .strict();

export const sourceSchema = z
  .object({
    name,
    /** File or glob, relative to the project: .parquet, .csv or .h5 (HDF5, docs/lake-hdf5.md). */
    path: z.string().min(1),
    /** Group to read in an HDF5 file (default: its only table group). */
    group: z.string().optional(),
    /** Event-time column; absent for static entity tables (airport facts...). */
    timestamp: column.optional(),
    /** Breaks ties between rows with equal event timestamps: the latest wins. */
    created_timestamp: column.optional(),
    /** Renames source columns: `{ source_column: name }` (Feast's field_mapping). */
    field_mapping: z.record(z.string(), name).optional(),
    expectations: z.array(sourceExpectationSchema).optional(),
    description: z.string().optional(),
  })
  .strict();

export const featureSchema = z
  .object({
    name,
    type: z.enum(FEATURE_TYPES),
    /** Source column the feature reads (default: its name). */
    column: column.optional(),
    /** Windowed tables: the aggregation and its window (a multiple of the tile interval). */
    function: z.enum(AGGREGATIONS).optional(),
    window: duration.optional(),
    expectations: z.array(featureExpectationSchema).optional(),
    description: z.string().optional(),
  })
  .strict();

export const featureTableSchema = z
  .object({
    name,
    entities: z.array(name).min(1),
    source: name,
    /** Look-back limit of the point-in-time join; absent or 0 = unbounded. */
    ttl: duration.optional(),
    /** Source column holding each join key: `{ airport: origin }` (default: the key's name). */
    key_map: z.record(name, column).optional(),
    /** Label/entity-row column holding each join key (default: the key_map column, else the key). */
    join_key_map: z.record(name, column).optional(),
    /** Makes this a windowed-aggregation table over tiles of `interval` (e.g. 1h). */
    aggregation: z.object({ interval: duration }).strict().optional(),
    features: z.array(featureSchema).min(1),
    description: z.string().optional(),
  })
  .strict();

export const featureServiceSchema = z
  .object({
    name,
    /** `table.feature` or `table.*`. */
    features: z.array(z.string().regex(/^[A-Za-z0-9_]+\.([A-Za-z0-9_]+|\*)$/, 'must be "table.feature" or "table.*"')).min(1),
    description: z.string().optional(),
  })
  .strict();

export const definitionFileSchema = z
  .object({
    entities: z.array(entitySchema).optional(),
    sources: z.array(sourceSchema).optional(),
    feature_tables: z.array(featureTableSchema).optional(),
    feature_services: z.array(featureServiceSchema).optional(),
  })
  .strict();

export type EntityYaml = z.infer<typeof entitySchema>;
export type SourceYaml = z.infer<typeof sourceSchema>;
export type FeatureYaml = z.infer<typeof featureSchema>;
export type FeatureTableYaml = z.infer<typeof featureTableSchema>;
export type FeatureServiceYaml = z.infer<typeof featureServiceSchema>;
export type SourceExpectation = z.infer<typeof sourceExpectationSchema>;
export type FeatureExpectation = z.infer<typeof featureExpectationSchema>;
