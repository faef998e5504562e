/**
 * `fresco train`: config -> point-in-time dataset -> DSL spec fitted on the training rows ->
 * matrix -> split -> trials (search, early stopping) -> evaluation on the test rows -> ONNX,
 * checked against the trainer's own predictions -> package + report -> registry.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { datasetColumnName } from '../dsl/dataset.js';
import { compileSpecFile } from '../dsl/compile.js';
import { fitSpec } from '../dsl/fit.js';
import { serializeFrozenPlan, type FrozenPlan } from '../dsl/frozen.js';
import { planColumns } from '../dsl/dataset.js';
import { FrescoError } from '../errors/index.js';
import { loadProjectConfig } from '../config/project-config.js';
import { writeManifest } from '../models/package.js';
import { compilePlan } from '../plan/index.js';
import { ModelRegistry, type ModelVersion } from '../registry/index.js';
import { removeLeftoverScratchDirs, removeLeftoverTemporariesOf, scratchDir, temporarySibling } from '../util/leftovers.js';
import { type LinearParams, type GbdtParams, type PythonAlgorithm, type TrainConfig } from './config.js';
import { trainWithScript } from './python-train.js';
import { trainingCodeHash, GBDT_ENGINE } from './code-hash.js';
import { datasetSchema, labelValues, readTrainingColumns, resolveDataset, type ResolvedDataset, type Split, splitRows, takeMatrixRows, takeRows, takeValues } from './data.js';
import { type Matrix, trainGbdt } from './gbdt.js';
import { trainLinear } from './linear.js';
import { type ClassificationEval, evaluateClassification, evaluateRegression, type RegressionEval } from './metrics.js';
import { INPUT_NAME, outputName, type TrainedModel } from './model.js';
import { runOnnx } from './onnx-run.js';
import { describeFit, renderReport } from './report.js';
import { better, trialOverrides } from './search.js';

export interface Trial {
  trial: number;
  params: Record<string, unknown>;
  metric: number;
  iterations?: number | null;
  seconds: number;
}

export interface TrainOptions {
  log?: (line: string) => void;
  /** Register the result (default true). */
  register?: boolean;
  /** Build the dataset here instead of the config's `out` (reproduce uses a temporary file). */
  datasetOut?: string;
  /** Train on this dataset file with this manifest (reproduce: the rebuilt one). */
  dataset?: ResolvedDataset;
  /** Keep the train/validation/test matrices in the result (benchmarks hand them to a peer). */
  keepMatrices?: boolean;
}

export interface TrainResult {
  config: TrainConfig;
  dataset: ResolvedDataset;
  frozen: FrozenPlan;
  split: Split;
  model: TrainedModel;
  trials: Trial[];
  metrics: Record<string, number>;
  validationMetrics: Record<string, number>;
  /** The test rows' matrix and the trainer's predictions on it. */
  test: { x: Float32Array; rows: number; predictions: Float64Array };
  /** Largest |ONNX Runtime - trainer| over the test rows. */
  onnxMaxAbsDiff: number;
  onnx: Uint8Array;
  reportHtml: string;
  reportFile?: string;
  version?: ModelVersion;
  seconds: Record<string, number>;
  matrices?: { train: Matrix; valid: Matrix; test: Matrix; names: string[] };
}

/** A training script's result (algorithm python): no trainer model or ONNX, the package is the model. */
export type PythonTrainResult = Omit<TrainResult, 'model' | 'onnx' | 'onnxMaxAbsDiff' | 'matrices'> & { python: { script: string; scriptHash: string; environment: { key: string; python: string; lock: string } } };

/** Largest difference allowed between ONNX Runtime (f32) and the trainer (f64) before training fails. */
export const ONNX_TOLERANCE = 1e-4;

/** The package folders' names in the OS temp folder: `fresco-train-package-<host>-<pid>-<random>`. */
const PACKAGE_PREFIX = 'fresco-train-package-';

const searchMetric = (task: TrainConfig['task']) => (task === 'binary' ? 'auc' : 'rmse');

function evaluate(model: TrainedModel, m: Matrix, threshold: number): { metrics: Record<string, number>; evaluation: ClassificationEval | RegressionEval; predictions: Float64Array } {
  const predictions = model.predict(m.x, m.rows);
  const evaluation = model.task === 'binary' ? evaluateClassification(predictions, m.y, threshold) : evaluateRegression(predictions, m.y);
  return { metrics: evaluation.metrics, evaluation, predictions };
}

function checkClasses(y: Float64Array, part: string, file: string, label: string): void {
  let ones = 0;
  for (const v of y) ones += v;
  if (ones === 0 || ones === y.length) {
    throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${file}: the ${part} split has a single class (every "${label}" is ${ones ? 1 : 0} in its ${y.length} rows); a binary classifier needs both`, { location: { file, key: label } });
  }
}

/** Built-in algorithms only (reproduce, benchmarks, examples rely on the trainer's model and ONNX). */
export async function trainFromConfig(config: TrainConfig, options: TrainOptions = {}): Promise<TrainResult> {
  if (config.algorithm.type === 'python') throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${config.file}: algorithm python (a training script) is not replayed by reproduce; it has no built-in model or ONNX export to compare`, { location: { file: config.file, key: 'algorithm.type' } });
  return (await trainAny(config, options)) as TrainResult;
}

/** `fresco train`: any algorithm, built-in or a Python script. */
export async function trainAny(config: TrainConfig, options: TrainOptions = {}): Promise<TrainResult | PythonTrainResult> {
  const log = options.log ?? (() => {});
  const seconds: Record<string, number> = {};
  const clock = (name: string, started: number) => (seconds[name] = Number(((performance.now() - started) / 1000).toFixed(3)));
  // A run killed with SIGKILL leaves its report temporary and package folder: remove those of
  // dead runs (a concurrent run's are left alone: util/leftovers.ts).
  if (config.report) removeLeftoverTemporariesOf(resolve(config.baseDir, config.report));
  removeLeftoverScratchDirs(tmpdir(), PACKAGE_PREFIX);

  // 1. The dataset, point-in-time, and its columns. Everything that can be wrong with the data
  //    is found before any training starts.
  let t = performance.now();
  const dataset = options.dataset ?? (await resolveDataset(config, log, options.datasetOut));
  clock('dataset', t);
  const file = dataset.file;
  const timeColumn = config.split.column ?? ('timestamp' in config.dataset ? config.dataset.timestamp : dataset.manifest.labels?.timestamp ?? 'date');
  const schema = datasetSchema(config.projectDir, dataset.manifest, config.label);
  const spec = compileSpecFile(resolve(config.baseDir, config.features), schema);
  const inputs = spec.draft().inputs.map((i) => datasetColumnName(i.name));
  t = performance.now();
  const table = await readTrainingColumns(file, [...inputs, config.label, ...(config.split.by === 'time' ? [timeColumn] : [])], dataset.manifest, config.label);
  clock('read', t);
  const y = labelValues(table, config.label, config.task, file);
  const split = splitRows(table, config, timeColumn, file);
  if (config.task === 'binary') {
    checkClasses(takeValues(y, split.train), 'training', file, config.label);
    checkClasses(takeValues(y, split.valid), 'validation', file, config.label);
    checkClasses(takeValues(y, split.test), 'test', file, config.label);
  }
  log(`dataset ${file}: ${table.rows} rows; split ${split.description}: train ${split.train.length}, validation ${split.valid.length}, test ${split.test.length}`);

  // 2. Fit the spec on the training rows only (no statistic of the future leaks in), then run
  //    the frozen plan natively over every row.
  t = performance.now();
  const frozen = fitSpec(spec, takeRows(table, split.train));
  const names = frozen.plan.output_names ?? frozen.plan.outputs.map((_, i) => `f${i}`);
  const k = names.length;
  const matrix = compilePlan(frozen.plan).run(planColumns(frozen.plan, table), table.rows);
  const part = (index: Int32Array): Matrix => ({ x: takeMatrixRows(matrix, k, index), rows: index.length, y: takeValues(y, index) });
  const train = part(split.train);
  const valid = part(split.valid);
  const test = part(split.test);
  clock('features', t);
  log(`features: ${k} columns from ${spec.outputs.length} spec outputs, plan ${frozen.hash}`);

  if (config.algorithm.type === 'python') return trainPython(config as TrainConfig & { algorithm: PythonAlgorithm }, options, { dataset, table, split, frozen, names, train, valid, test, seconds, log });

  // 3. Trials: every combination (grid) or draw (random); GBDT early-stops on the validation rows.
  const metricName = searchMetric(config.task);
  const trials: Trial[] = [];
  let best: { model: TrainedModel; metric: number; params: Record<string, unknown> } | undefined;
  t = performance.now();
  for (const [i, overrides] of trialOverrides(config.search, config.seed).entries()) {
    const started = performance.now();
    const params = { ...config.algorithm.params, ...overrides };
    const model = config.algorithm.type === 'gbdt' ? trainGbdt(config.task, k, train, valid, params as GbdtParams, config.seed) : trainLinear(config.task, names, train, params as LinearParams);
    const metric = evaluate(model, valid, config.threshold).metrics[metricName] as number;
    const trial: Trial = { trial: i + 1, params: overrides, metric, iterations: model.algorithm === 'gbdt' ? (model.summary.trees as number) : null, seconds: (performance.now() - started) / 1000 };
    trials.push(trial);
    log(`trial ${trial.trial}: ${JSON.stringify(overrides)} validation ${metricName} ${metric.toFixed(5)} (${trial.seconds.toFixed(1)} s)`);
    if (!best || better(metricName, metric, best.metric)) best = { model, metric, params };
  }
  clock('train', t);
  const model = best!.model;

  // 4. Evaluate on the future; export; prove ONNX Runtime answers what the trainer answers.
  t = performance.now();
  const validation = evaluate(model, valid, config.threshold);
  const result = evaluate(model, test, config.threshold);
  const onnx = model.toOnnx();
  const onnxOut = await runOnnx(onnx, test.x, test.rows, k, outputName(config.task));
  let onnxMaxAbsDiff = 0;
  for (let i = 0; i < test.rows; i++) onnxMaxAbsDiff = Math.max(onnxMaxAbsDiff, Math.abs((onnxOut[i] as number) - (result.predictions[i] as number)));
  const scale = config.task === 'regression' ? Math.max(1, ...Array.from(test.y.subarray(0, 1000), Math.abs)) : 1;
  if (!(onnxMaxAbsDiff <= ONNX_TOLERANCE * scale)) {
    throw new FrescoError('FRESCO_ERR_TRAINING_FAILED', `the exported ONNX model disagrees with the trainer by up to ${onnxMaxAbsDiff} on the test rows (tolerance ${ONNX_TOLERANCE * scale})`);
  }
  clock('evaluate', t);
  const metrics = { ...result.metrics };
  log(`test: ${Object.entries(metrics).map(([m, v]) => `${m} ${Number(v.toPrecision(5))}`).join(', ')}; ONNX max |diff| ${onnxMaxAbsDiff.toExponential(2)}`);

  // 5. Report, package, registry.
  const specFile = resolve(config.baseDir, config.features);
  const specText = readFileSync(specFile, 'utf8');
  const codeHash = trainingCodeHash();
  const lineage: [string, unknown][] = [
    ['dataset', file],
    ['dataset rows', table.rows],
    ['labels', dataset.manifest.labels?.files ?? null],
    ['definition versions', dataset.manifest.versions],
    ['feature spec', `${specFile} (sha256:${createHash('sha256').update(specText).digest('hex')})`],
    ['frozen plan', frozen.hash],
    ['split', split.description],
    ['algorithm', `${config.algorithm.type}${config.algorithm.type === 'gbdt' ? ` (${GBDT_ENGINE})` : ''}`],
    ['seed', config.seed],
    ['training code', codeHash],
    ['ONNX max |diff| vs trainer', onnxMaxAbsDiff],
  ];
  const reportHtml = renderReport({
    title: `${config.name}: ${config.algorithm.type} ${config.task === 'binary' ? 'classifier' : 'regressor'}`,
    subtitle: `${describeFit({ model, params: best!.params, rows: { train: train.rows, valid: valid.rows, test: test.rows }, splitBy: config.split.by })} Trained ${new Date().toISOString()}.`,
    task: config.task,
    evaluation: result.evaluation,
    validationMetrics: validation.metrics,
    names,
    importance: model.importance,
    ...(model.coefficients ? { coefficients: model.coefficients } : {}),
    trials: config.search ? trials : [],
    searchMetric: metricName,
    lineage,
    config: { ...config.algorithm, split: config.split, search: config.search ?? null, seed: config.seed },
  });
  let reportFile: string | undefined;
  if (config.report) {
    reportFile = resolve(config.baseDir, config.report);
    const tmp = temporarySibling(reportFile);
    writeFileSync(tmp, reportHtml);
    renameSync(tmp, reportFile);
  }
  const out: TrainResult = { config, dataset, frozen, split, model, trials, metrics, validationMetrics: validation.metrics, test: { x: test.x, rows: test.rows, predictions: result.predictions }, onnxMaxAbsDiff, onnx, reportHtml, seconds, ...(reportFile ? { reportFile } : {}), ...(options.keepMatrices ? { matrices: { train, valid, test, names } } : {}) };
  if (options.register === false) return out;

  const dir = scratchDir(tmpdir(), PACKAGE_PREFIX);
  try {
    writeFileSync(join(dir, 'model.onnx'), onnx);
    writeFileSync(join(dir, 'frozen-plan.json'), serializeFrozenPlan(frozen));
    const readTables = new Set(frozen.plan.inputs.map((i) => i.name.split('.')[0]));
    await writeManifest(dir, {
      name: config.name,
      description: config.description ?? `${config.algorithm.type} ${config.task} model trained by fresco train`,
      backend: 'onnx',
      model: 'model.onnx',
      input_kind: 'dataframe',
      signature: { inputs: [{ name: INPUT_NAME, dtype: 'float32', shape: ['batch', k] }], outputs: [{ name: outputName(config.task), dtype: 'float32', shape: ['batch', 1] }] },
      plan: frozen.plan as unknown as Record<string, unknown>,
      feature_versions: Object.fromEntries(Object.entries(dataset.manifest.versions).filter(([table]) => readTables.has(table))),
    });
    const registryDir = config.register.registry ? resolve(config.baseDir, config.register.registry) : loadProjectConfig(config.projectDir).registryDir;
    const registry = ModelRegistry.open(registryDir);
    try {
      out.version = await registry.register(dir, {
        metrics: Object.fromEntries(Object.entries({ ...metrics, ...Object.fromEntries(Object.entries(validation.metrics).map(([m, v]) => [`validation_${m}`, v])) }).filter(([, v]) => Number.isFinite(v))),
        trainingConfig: { config, yaml: readFileSync(config.file, 'utf8'), trials, split: { description: split.description, train: train.rows, validation: valid.rows, test: test.rows, testFrom: split.testFrom ?? null, validFrom: split.validFrom ?? null }, engine: config.algorithm.type === 'gbdt' ? GBDT_ENGINE : 'fresco linear', seconds },
        datasets: { training: dataset.manifest },
        featureDefinitions: { versions: dataset.manifest.versions, spec: { file: specFile, text: specText }, plan_hash: frozen.hash, fitted: frozen.fitted },
        codeHash,
        paramsSummary: { ...model.summary, importance: Object.fromEntries(names.map((n, i) => [n, model.importance[i]])), onnx_max_abs_diff: onnxMaxAbsDiff },
        reportHtml,
        tags: config.register.tags,
        aliases: config.register.aliases,
      });
    } finally {
      registry.close();
    }
    log(`registered ${out.version.name}@${out.version.version}${config.register.aliases.length ? ` (${config.register.aliases.join(', ')})` : ''} in ${registryDir}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** Steps 3-5 for `algorithm: {type: python}` (python-train.ts): the script trains, the package scores, then report and registry as above. */
async function trainPython(
  config: TrainConfig & { algorithm: PythonAlgorithm },
  options: TrainOptions,
  d: { dataset: ResolvedDataset; table: { rows: number }; split: Split; frozen: FrozenPlan; names: string[]; train: Matrix; valid: Matrix; test: Matrix; seconds: Record<string, number>; log: (line: string) => void },
): Promise<PythonTrainResult> {
  const { dataset, split, frozen, names, train, valid, test, seconds, log } = d;
  const readTables = new Set(frozen.plan.inputs.map((i) => i.name.split('.')[0]));
  const featureVersions = Object.fromEntries(Object.entries(dataset.manifest.versions).filter(([table]) => readTables.has(table)));
  const work = scratchDir(tmpdir(), PACKAGE_PREFIX);
  try {
    let t = performance.now();
    const run = await trainWithScript({ config, datasetFile: dataset.file, frozen, names, train, valid, test, trainRows: split.train, validRows: split.valid, featureVersions, work, log });
    seconds.train = Number(((performance.now() - t) / 1000).toFixed(3));
    t = performance.now();
    const score = (p: Float64Array, y: Float64Array) => (config.task === 'binary' ? evaluateClassification(p, y, config.threshold) : evaluateRegression(p, y));
    const validation = score(run.validation, valid.y);
    const result = score(run.test, test.y);
    seconds.evaluate = Number(((performance.now() - t) / 1000).toFixed(3));
    const metrics = { ...result.metrics };
    log(`test (the package through the serving runner): ${Object.entries(metrics).map(([m, v]) => `${m} ${Number(v.toPrecision(5))}`).join(', ')}`);

    const specFile = resolve(config.baseDir, config.features);
    const specText = readFileSync(specFile, 'utf8');
    const python = { script: config.algorithm.script, scriptHash: run.scriptHash, environment: { key: run.env.key, python: run.env.pythonVersion, lock: run.env.lock } };
    const lineage: [string, unknown][] = [
      ['dataset', dataset.file],
      ['dataset rows', d.table.rows],
      ['labels', dataset.manifest.labels?.files ?? null],
      ['definition versions', dataset.manifest.versions],
      ['feature spec', `${specFile} (sha256:${createHash('sha256').update(specText).digest('hex')})`],
      ['frozen plan', frozen.hash],
      ['split', split.description],
      ['algorithm', `python ${config.algorithm.script}`],
      ['training code', run.scriptHash],
      ['training environment', `${run.env.key} (Python ${run.env.pythonVersion})`],
      ['seed', config.seed],
    ];
    const reportHtml = renderReport({
      title: `${config.name}: python ${config.task === 'binary' ? 'classifier' : 'regressor'}`,
      subtitle: `Trained by ${config.algorithm.script} on ${train.rows} rows (validation ${valid.rows}, test ${test.rows}, split by ${config.split.by}); scored through the serving runner. Trained ${new Date().toISOString()}.`,
      task: config.task,
      evaluation: result,
      validationMetrics: validation.metrics,
      names,
      importance: [],
      trials: [],
      searchMetric: searchMetric(config.task),
      lineage,
      config: { ...config.algorithm, split: config.split, seed: config.seed },
    });
    let reportFile: string | undefined;
    if (config.report) {
      reportFile = resolve(config.baseDir, config.report);
      const tmp = temporarySibling(reportFile);
      writeFileSync(tmp, reportHtml);
      renameSync(tmp, reportFile);
    }
    const out: PythonTrainResult = { python, config, dataset, frozen, split, trials: [], metrics, validationMetrics: validation.metrics, test: { x: test.x, rows: test.rows, predictions: run.test }, reportHtml, seconds, ...(reportFile ? { reportFile } : {}) };
    if (options.register === false) return out;
    const registryDir = config.register.registry ? resolve(config.baseDir, config.register.registry) : loadProjectConfig(config.projectDir).registryDir;
    const registry = ModelRegistry.open(registryDir);
    try {
      out.version = await registry.register(run.packageDir, {
        metrics: Object.fromEntries(Object.entries({ ...metrics, ...Object.fromEntries(Object.entries(validation.metrics).map(([m, v]) => [`validation_${m}`, v])) }).filter(([, v]) => Number.isFinite(v))),
        trainingConfig: { config, yaml: readFileSync(config.file, 'utf8'), trials: [], split: { description: split.description, train: train.rows, validation: valid.rows, test: test.rows, testFrom: split.testFrom ?? null, validFrom: split.validFrom ?? null }, engine: 'python script', python, seconds },
        datasets: { training: dataset.manifest },
        featureDefinitions: { versions: dataset.manifest.versions, spec: { file: specFile, text: specText }, plan_hash: frozen.hash, fitted: frozen.fitted },
        codeHash: run.scriptHash,
        paramsSummary: { script: config.algorithm.script, script_hash: run.scriptHash, params: config.algorithm.params },
        reportHtml,
        tags: config.register.tags,
        aliases: config.register.aliases,
      });
    } finally {
      registry.close();
    }
    log(`registered ${out.version.name}@${out.version.version}${config.register.aliases.length ? ` (${config.register.aliases.join(', ')})` : ''} in ${registryDir}`);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
