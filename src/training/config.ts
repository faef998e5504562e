/**
 * train.yaml: what to train, on what, how to split and search, where to register. Validated once,
 * at the edge, before any data is read: unknown keys, unknown algorithms and unknown or
 * out-of-range hyper-parameters are FRESCO_ERR_CONFIG_INVALID naming the file, line and key.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { invalidConfig, parseYaml, type KeyPath, type YamlFile } from '../config/yaml-file.js';
import { readFileSync } from 'node:fs';
import { FrescoError } from '../errors/index.js';

const positiveInt = z.number().int().positive();
const nonNegative = z.number().min(0);
const fraction = z.number().gt(0).lt(1);

/** GBDT hyper-parameters (names follow LightGBM where an equivalent exists). */
export const gbdtParamsSchema = z.strictObject({
  /** Boosting rounds (trees), at most. Default 200. */
  iterations: positiveInt.max(100_000).default(200),
  learning_rate: z.number().gt(0).max(1).default(0.1),
  /** Leaves per tree (trees grow best-first, as LightGBM's num_leaves). Default 31. */
  max_leaves: z.number().int().min(2).max(4096).default(31),
  /** Depth limit. Default 64 (effectively max_leaves decides). */
  max_depth: positiveInt.max(256).default(64),
  /** L1 / L2 regularization of leaf values. */
  l1: nonNegative.default(0),
  l2: nonNegative.default(1),
  /** Minimum sum of hessians in a leaf (LightGBM's min_sum_hessian_in_leaf). Default 1. */
  min_leaf_weight: nonNegative.default(1),
  /** Minimum gain to split. */
  gamma: nonNegative.default(0),
  /** Histogram bins per feature. Default 255. */
  max_bin: z.number().int().min(2).max(65535).default(255),
  /** Row and column sampling per tree (1: none). */
  subsample: z.number().gt(0).max(1).default(1),
  colsample_bytree: z.number().gt(0).max(1).default(1),
  /** Stop when the validation metric has not improved for this many rounds (0: never). Default 20. */
  early_stopping_rounds: z.number().int().min(0).default(20),
  /** Threads (0: all cores). */
  threads: z.number().int().min(0).max(256).default(0),
});

/** Linear and logistic regression: penalties on standardized coefficients; the intercept is not penalized. */
export const linearParamsSchema = z.strictObject({
  /** L2 penalty strength (objective: mean loss + l2/2 |w|^2 + l1 |w|_1). Default 1e-4. */
  l2: nonNegative.default(1e-4),
  /** L1 penalty strength (> 0 switches to proximal gradient, FISTA). Default 0. */
  l1: nonNegative.default(0),
  /** Iterations at most (Newton without L1, FISTA with). */
  max_iterations: positiveInt.max(1_000_000).default(200),
  /** Stop when the largest coefficient change is below this. */
  tolerance: z.number().gt(0).default(1e-7),
});

export const ALGORITHMS = { gbdt: gbdtParamsSchema, logistic: linearParamsSchema, linear: linearParamsSchema } as const;
export type AlgorithmName = keyof typeof ALGORITHMS;
export type GbdtParams = z.output<typeof gbdtParamsSchema>;
export type LinearParams = z.output<typeof linearParamsSchema>;

const searchValue = z.union([z.array(z.number()).min(1), z.strictObject({ min: z.number(), max: z.number(), log: z.boolean().default(false), integer: z.boolean().default(false) })]);

export const trainConfigSchema = z.strictObject({
  /** The model's name in the registry. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  /** The feature-store project folder, relative to this file. Default: this file's folder. */
  project: z.string().min(1).optional(),
  dataset: z.union([
    z.strictObject({
      /** Label file (.parquet/.csv) and its timestamp column; features by service or list. */
      labels: z.string().min(1),
      timestamp: z.string().min(1),
      features: z.array(z.string().min(1)).min(1),
      /** Where to write the point-in-time dataset. Default: .fresco/training/<name>.parquet in the project. */
      out: z.string().min(1).optional(),
    }),
    z.strictObject({
      /** A dataset the offline store already built (its <file>.manifest.json is required). */
      file: z.string().min(1),
    }),
  ]),
  /** The feature spec (DSL) file, relative to this file. */
  features: z.string().min(1),
  /** The label column and the task. */
  label: z.string().min(1),
  task: z.enum(['binary', 'regression']),
  algorithm: z.strictObject({
    type: z.string(),
    params: z.record(z.string(), z.unknown()).default({}),
    /** type python: the training script (relative to this file); docs/python-models.md. */
    script: z.string().min(1).optional(),
  }),
  split: z
    .strictObject({
      /** `time` (default): train on the past, test on the future. `random`: a seeded shuffle. */
      by: z.enum(['time', 'random']).default('time'),
      /** The time column. Default: the dataset's timestamp. */
      column: z.string().min(1).optional(),
      /** Test rows: the latest fraction, or every row at or after `test_from` (ISO date). */
      test_fraction: fraction.optional(),
      test_from: z.string().min(1).optional(),
      /** Validation rows (early stopping, search): the latest fraction of what is left. */
      validation_fraction: fraction.default(0.1),
    })
    .default({ by: 'time', validation_fraction: 0.1 }),
  search: z
    .strictObject({
      method: z.enum(['grid', 'random']),
      /** Random search: how many trials. */
      trials: positiveInt.max(1000).default(10),
      /** Hyper-parameter -> values (a list), or a range {min, max, log, integer} for random search. */
      space: z.record(z.string(), searchValue),
    })
    .optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
  /** Classification threshold for accuracy, precision and recall. */
  threshold: z.number().gt(0).lt(1).default(0.5),
  register: z
    .strictObject({
      /** Registry folder, relative to this file. Default: the project's registry. */
      registry: z.string().min(1).optional(),
      aliases: z.array(z.string()).default([]),
      tags: z.array(z.string()).default([]),
    })
    .default({ aliases: [], tags: [] }),
  /** Also write the HTML report here (relative to this file). */
  report: z.string().min(1).optional(),
});

export type TrainConfigFile = z.output<typeof trainConfigSchema>;

/** A training script's algorithm: `script` resolved; `params` handed to it as they are. */
export interface PythonAlgorithm {
  type: 'python';
  script: string;
  params: Record<string, unknown>;
}

/** A validated config with resolved paths and parsed hyper-parameters. */
export interface TrainConfig extends Omit<TrainConfigFile, 'algorithm'> {
  algorithm: { type: AlgorithmName; params: GbdtParams | LinearParams } | PythonAlgorithm;
  /** The config file and the folder its relative paths start from. */
  file: string;
  baseDir: string;
  projectDir: string;
}

/** Validates `params` against the algorithm's schema; errors point at `algorithm.params.<key>`. */
export function parseParams(type: AlgorithmName, params: Record<string, unknown>, file: string, locate: YamlFile<unknown>['locate'], at: KeyPath): GbdtParams | LinearParams {
  const schema = ALGORITHMS[type];
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    throw invalidConfig(file, `unknown hyper-parameter "${key}" for algorithm ${type}; expected one of: ${Object.keys(schema.shape).join(', ')}`, [...at, key], locate([...at, key]));
  }
  const path = [...at, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
  throw invalidConfig(file, `${issue.message} (hyper-parameter of ${type})`, path, locate(path));
}

export function parseTrainConfig(file: string, text: string): TrainConfig {
  const yaml = parseYaml(file, text, trainConfigSchema);
  const raw = yaml.value;
  const type = raw.algorithm.type;
  if (type === 'python') return parsePythonConfig(file, raw, yaml.locate);
  if (!Object.hasOwn(ALGORITHMS, type)) {
    throw invalidConfig(file, `unknown algorithm "${type}"; expected one of: ${Object.keys(ALGORITHMS).join(', ')}, python`, ['algorithm', 'type'], yaml.locate(['algorithm', 'type']));
  }
  if (raw.algorithm.script !== undefined) throw invalidConfig(file, `script is for algorithm python, not ${type}`, ['algorithm', 'script'], yaml.locate(['algorithm', 'script']));
  const algorithm = type as AlgorithmName;
  const params = parseParams(algorithm, raw.algorithm.params, file, yaml.locate, ['algorithm', 'params']);
  checkSplit(file, raw, yaml.locate);
  checkSearchAndTask(file, raw, algorithm, yaml.locate);
  const baseDir = dirname(resolve(file));
  return { ...raw, algorithm: { type: algorithm, params }, file: resolve(file), baseDir, projectDir: resolve(baseDir, raw.project ?? '.') };
}

/** `algorithm: {type: python, script: train.py, params: {...}}`: a script of the user's trains (python-train.ts). */
function parsePythonConfig(file: string, raw: TrainConfigFile, locate: YamlFile<unknown>['locate']): TrainConfig {
  const script = raw.algorithm.script;
  if (script === undefined) throw invalidConfig(file, 'algorithm python needs script: the training script (train.py), relative to this file', ['algorithm'], locate(['algorithm']));
  if (!script.endsWith('.py')) throw invalidConfig(file, `script "${script}" is not a Python file (.py)`, ['algorithm', 'script'], locate(['algorithm', 'script']));
  if (raw.search) throw invalidConfig(file, 'search is not run for algorithm python (the script does its own)', ['search'], locate(['search']));
  checkSplit(file, raw, locate);
  const baseDir = dirname(resolve(file));
  return { ...raw, algorithm: { type: 'python', script: resolve(baseDir, script), params: raw.algorithm.params }, file: resolve(file), baseDir, projectDir: resolve(baseDir, raw.project ?? '.') };
}

function checkSplit(file: string, raw: TrainConfigFile, locate: YamlFile<unknown>['locate']): void {
  const split = raw.split;
  const yaml = { locate };
  if (split.test_fraction !== undefined && split.test_from !== undefined) {
    throw invalidConfig(file, 'give test_fraction or test_from, not both', ['split'], yaml.locate(['split']));
  }
  if (split.test_from !== undefined && Number.isNaN(Date.parse(split.test_from))) {
    throw invalidConfig(file, `"${split.test_from}" is not a date (expected ISO 8601, like 2001-11-01)`, ['split', 'test_from'], yaml.locate(['split', 'test_from']));
  }
  if (split.by === 'random' && split.test_from !== undefined) {
    throw invalidConfig(file, 'test_from needs a time split (by: time)', ['split', 'test_from'], yaml.locate(['split', 'test_from']));
  }
}

function checkSearchAndTask(file: string, raw: TrainConfigFile, algorithm: AlgorithmName, locate: YamlFile<unknown>['locate']): void {
  const yaml = { locate };
  if (raw.search) {
    for (const [key, value] of Object.entries(raw.search.space)) {
      const at: KeyPath = ['search', 'space', key];
      if (!Object.hasOwn(ALGORITHMS[algorithm].shape, key)) {
        throw invalidConfig(file, `unknown hyper-parameter "${key}" for algorithm ${algorithm}; expected one of: ${Object.keys(ALGORITHMS[algorithm].shape).join(', ')}`, at, yaml.locate(at));
      }
      const candidates = Array.isArray(value) ? value : [value.min, value.max];
      if (!Array.isArray(value) && raw.search.method === 'grid') throw invalidConfig(file, 'a grid search needs a list of values', at, yaml.locate(at));
      if (!Array.isArray(value) && !(value.min <= value.max)) throw invalidConfig(file, 'min must be <= max', at, yaml.locate(at));
      candidates.forEach((v, i) => {
        const result = ALGORITHMS[algorithm].safeParse({ ...raw.algorithm.params, [key]: v });
        if (!result.success) {
          const where: KeyPath = Array.isArray(value) ? [...at, i] : at;
          throw invalidConfig(file, `${JSON.stringify(v)} is not a valid ${key}: ${result.error.issues[0]!.message}`, where, yaml.locate(where));
        }
      });
    }
    if (algorithm !== 'gbdt' && Object.keys(raw.search.space).length === 0) throw invalidConfig(file, 'the search space is empty', ['search', 'space'], yaml.locate(['search', 'space']));
  }
  if ((raw.task === 'binary') !== (algorithm !== 'linear') && algorithm !== 'gbdt') {
    throw invalidConfig(file, `algorithm ${algorithm} does not fit task ${raw.task}: use logistic for binary, linear for regression (gbdt does both)`, ['algorithm', 'type'], yaml.locate(['algorithm', 'type']));
  }
}

export function loadTrainConfig(file: string): TrainConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no such training config`, { location: { file } });
  }
  return parseTrainConfig(file, text);
}
