/**
 * Offline batch scoring (docs/batch.md): the same model package, frozen plan and ONNX runtime as
 * serving, over Parquet, CSV and HDF5 files, in bounded memory, sharded and resumable.
 */
export { batchScore, type BatchScoreOptions, type BatchScoreResult, type BatchProgress } from './score.js';
export { loadBatchModels, planFeatureRefs, planInputs, type BatchModel, type OutputColumn } from './models.js';
export { InferencePool, type PoolModel, type PoolOptions, type ModelOutput, type RunResult } from './worker-pool.js';
export { parseShard, splitParts, shardParts, type Part, type Shard, type InputFile } from './parts.js';
export { renderProgress, progressPrinter } from './progress.js';
export type { OnError } from './part-scorer.js';
export type { OutputFormat } from './output.js';
