/** What every trainer returns: its own predictions, its ONNX form, and what it learned. */
export type Task = 'binary' | 'regression';

export const INPUT_NAME = 'features';
export const outputName = (task: Task) => (task === 'binary' ? 'probability' : 'prediction');

export interface TrainedModel {
  algorithm: 'gbdt' | 'logistic' | 'linear';
  task: Task;
  columns: number;
  /** The trainer's own predictions on a row-major f32 matrix: P(label = 1) for binary, the value for regression. */
  predict(x: Float32Array, rows: number): Float64Array;
  /** The model as ONNX: input `features` float32 [batch, columns], output `probability`/`prediction` float32 [batch, 1]. */
  toOnnx(): Uint8Array;
  /** Per column: gain share (trees) or |standardized coefficient| (linear). */
  importance: number[];
  /** Linear models: signed weights per column, on the raw column and per standard deviation. */
  coefficients?: { raw: number[]; standardized: number[]; intercept: number };
  /** Learned-parameter summary for the registry (counts, shapes, coefficients). */
  summary: Record<string, unknown>;
  /** Validation metric per boosting round, and the round kept (trees). */
  validationHistory?: number[];
  bestIteration?: number;
}

export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
