/** Training (docs/training.md): train.yaml, linear/logistic regression and GBDT, ONNX export, evaluation, reports, search, reproduction. */
export { ALGORITHMS, gbdtParamsSchema, linearParamsSchema, loadTrainConfig, parseTrainConfig, trainConfigSchema, type AlgorithmName, type GbdtParams, type LinearParams, type TrainConfig } from './config.js';
export { trainAny, trainFromConfig, ONNX_TOLERANCE, type PythonTrainResult, type TrainOptions, type TrainResult, type Trial } from './train.js';
export { trainGbdt, type Matrix as TrainingMatrix } from './gbdt.js';
export { trainLinear } from './linear.js';
export { linearOnnx, treeEnsembleOnnx } from './onnx-export.js';
export { auc, evaluateClassification, evaluateRegression, type ClassificationEval, type RegressionEval } from './metrics.js';
export { renderReport } from './report.js';
export { reproduceVersion, METRIC_TOLERANCE, PREDICTION_TOLERANCE, type ReproduceReport } from './reproduce.js';
export { runOnnx } from './onnx-run.js';
export { trainingCodeHash, GBDT_ENGINE } from './code-hash.js';
export type { TrainedModel, Task } from './model.js';
