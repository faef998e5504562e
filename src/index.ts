/** Fresco's library entry point. Each concern has its own module; this re-exports the public parts. */
export * from './errors/index.js';
export * from './plan/index.js';
export { readColumns, type ColumnTable, type ReadOptions } from './offline/read-columns.js';
export * from './dsl/index.js';
export * from './models/index.js';
export * from './registry/index.js';
export * from './config/index.js';
export * from './features/index.js';
export * from './offline/index.js';
export * from './online/index.js';
export * from './batch/index.js';
export * from './training/index.js';
export * from './serving/index.js';
