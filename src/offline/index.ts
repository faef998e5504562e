/** The offline store: lake files (Parquet, CSV, HDF5) on DuckDB, point-in-time datasets, data quality. */
export * from './read-columns.js';
export { openEngine, type Engine as OfflineEngine, type EngineOptions as OfflineEngineOptions } from './engine.js';
export * from './sql-dialect.js';
export { fileFormat, registerFile, registerSource, type Relation } from './sources.js';
export * from './hdf5-lake.js';
export * from './dataset-builder.js';
export * from './dataset-spec.js';
export * from './lake-import.js';
export * from './quality/index.js';
