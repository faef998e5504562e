/**
 * `algorithm: {type: python, script: train.py}` (docs/python-models.md, "Training from a
 * script"): Fresco builds the dataset and fits the spec as for a built-in algorithm, then hands
 * the training and validation rows to the user's script, run with the Python of the environment
 * built from the script folder's requirements.txt (src/python/env.ts, the models' own cache).
 * The script writes a package folder (model.py, artifacts, requirements.txt); Fresco writes its
 * fresco.json (backend python, the frozen plan, signature `features` -> probability/prediction)
 * and scores the validation and test rows through the serving runner (PythonModelPool), so the
 * metrics are those of the package that will be served. The test rows never reach the script.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { loadPackage, writeManifest } from '../models/index.js';
import type { Manifest } from '../models/index.js';
import type { FrozenPlan } from '../dsl/frozen.js';
import { ensurePythonEnv, type PythonEnv } from '../python/index.js';
import { PythonModelPool } from '../python/batch-pool.js';
import type { PythonAlgorithm, TrainConfig } from './config.js';
import type { Matrix } from './gbdt.js';
import { INPUT_NAME, outputName } from './model.js';

/** Lines of the script's stderr kept in the error when it fails. */
const STDERR_TAIL_LINES = 40;
/** Bytes of the script's stderr kept while it runs. */
const STDERR_KEEP_BYTES = 64 << 10;
/** Rows per hand-over when the package scores the validation and test rows. */
const EVAL_BATCH_ROWS = 4096;

const sha256 = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export interface ScriptRun {
  /** The package folder the script wrote (fresco.json written by Fresco). */
  packageDir: string;
  /** sha256 of the script file (the training code hash). */
  scriptHash: string;
  /** The environment the script ran in (key, Python version, pip freeze). */
  env: PythonEnv;
}

/** The .npy bytes of a float32 [rows, cols] or a float64 / int32 vector (numpy's format 1.0, little-endian). */
export function npy(data: Float32Array | Float64Array | Int32Array, shape: number[]): Buffer {
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Float64Array ? '<f8' : '<i4';
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  const head = Buffer.alloc(10);
  head[0] = 0x93;
  head.write('NUMPY', 1, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(total - 10, 8);
  return Buffer.concat([head, Buffer.from(header.padEnd(total - 10 - 1, ' ') + '\n', 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/**
 * Runs the script on the training and validation rows; returns the package folder it wrote
 * under `work`. A script that exits non-zero (or writes no model.py) is FRESCO_ERR_TRAINING_FAILED
 * with its stderr's last lines.
 */
export async function runTrainingScript(config: TrainConfig & { algorithm: PythonAlgorithm }, input: { datasetFile: string; names: string[]; train: Matrix; valid: Matrix; trainRows: Int32Array; validRows: Int32Array; work: string; log: (line: string) => void }): Promise<ScriptRun> {
  const script = config.algorithm.script;
  if (!existsSync(script)) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${config.file}: training script ${script} does not exist`, { location: { file: config.file, key: 'algorithm.script' } });
  const folder = dirname(script);
  // The script's environment: the models' environment cache, keyed by the folder's requirements.txt.
  const files: Record<string, string> = {};
  if (existsSync(join(folder, 'requirements.txt'))) files['requirements.txt'] = sha256(readFileSync(join(folder, 'requirements.txt')));
  const env = await ensurePythonEnv(folder, { model: basename(script), files } as unknown as Manifest);

  const { work, names, train, valid } = input;
  const k = names.length;
  const write = (name: string, data: Buffer) => {
    writeFileSync(join(work, name), data);
    return join(work, name);
  };
  const packageDir = join(work, 'package');
  mkdirSync(packageDir);
  const context = {
    dataset: input.datasetFile,
    label: config.label,
    task: config.task,
    columns: names,
    params: config.algorithm.params,
    seed: config.seed,
    train: { x: write('train-x.npy', npy(train.x, [train.rows, k])), y: write('train-y.npy', npy(train.y, [train.rows])), rows: write('train-rows.npy', npy(input.trainRows, [input.trainRows.length])) },
    validation: { x: write('valid-x.npy', npy(valid.x, [valid.rows, k])), y: write('valid-y.npy', npy(valid.y, [valid.rows])), rows: write('valid-rows.npy', npy(input.validRows, [input.validRows.length])) },
    output: packageDir,
  };
  const contextFile = join(work, 'context.json');
  writeFileSync(contextFile, JSON.stringify(context, null, 2));

  const scriptHash = sha256(readFileSync(script));
  input.log(`python: ${script} (${scriptHash.slice(0, 19)}…) in environment ${env.key}`);
  const { code, signal, stderr } = await runScript(env.python, [script, contextFile], folder, { ...process.env, FRESCO_TRAIN_CONTEXT: contextFile, PYTHONUNBUFFERED: '1' }, (line) => input.log(`  ${line}`));
  if (code !== 0) {
    const tail = stderr.trim().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
    throw new FrescoError('FRESCO_ERR_TRAINING_FAILED', `training script ${script} failed (${signal ? `killed by ${signal}` : `exit ${code}`}); nothing registered. Its stderr ends:\n${tail}`, { location: { file: script } });
  }
  if (!existsSync(join(packageDir, 'model.py'))) {
    throw new FrescoError('FRESCO_ERR_TRAINING_FAILED', `training script ${script} wrote no model.py in its output folder (context.json "output"); nothing registered`, { location: { file: script } });
  }
  // The package's environment defaults to the one it was trained in.
  if (!existsSync(join(packageDir, 'requirements.txt')) && files['requirements.txt']) copyFileSync(join(folder, 'requirements.txt'), join(packageDir, 'requirements.txt'));
  return { packageDir, scriptHash, env };
}

/**
 * Runs the script: its stdout goes to the log line by line as it comes (progress of a long fit),
 * its stderr is kept for the error, bounded to its last STDERR_KEEP_BYTES.
 */
function runScript(python: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) log(line);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP_BYTES);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (pending) log(pending);
      resolvePromise({ code, signal, stderr });
    });
  });
}

/** Writes the package's fresco.json: a python dataframe model over the frozen plan's named columns. */
export async function writePythonManifest(config: TrainConfig, dir: string, frozen: FrozenPlan, k: number, featureVersions: Record<string, unknown>): Promise<void> {
  await writeManifest(dir, {
    name: config.name,
    description: config.description ?? `python ${config.task} model trained by fresco train (${basename((config.algorithm as PythonAlgorithm).script)})`,
    backend: 'python',
    model: 'model.py',
    input_kind: 'dataframe',
    signature: { inputs: [{ name: INPUT_NAME, dtype: 'float32', shape: ['batch', k] }], outputs: [{ name: outputName(config.task), dtype: 'float32', shape: ['batch', 1] }] },
    plan: frozen.plan as unknown as Record<string, unknown>,
    feature_versions: featureVersions as Record<string, string>,
  });
}

/** Scores each matrix with the package through the serving runner (its own environment); returns one prediction per row. */
export async function scorePackage(dir: string, task: TrainConfig['task'], matrices: Matrix[], k: number): Promise<Float64Array[]> {
  const pkg = await loadPackage(dir);
  const pool = await PythonModelPool.open(pkg, 1, EVAL_BATCH_ROWS);
  try {
    const results: Float64Array[] = [];
    for (const m of matrices) {
      const out = new Float64Array(m.rows);
      for (let start = 0; start < m.rows; start += EVAL_BATCH_ROWS) {
        const rows = Math.min(EVAL_BATCH_ROWS, m.rows - start);
        const chunk = m.x.slice(start * k, (start + rows) * k);
        const { outputs } = await pool.run(chunk.buffer, rows, k);
        const values = outputs.find((o) => o.name === outputName(task))!.values;
        for (let i = 0; i < rows; i++) {
          const v = values[i] as number;
          if (!Number.isFinite(v)) throw new FrescoError('FRESCO_ERR_TRAINING_FAILED', `the trained package's ${outputName(task)} is ${v} on a row (model.py predict() must give a finite number per row)`);
          out[start + i] = v;
        }
      }
      results.push(out);
    }
    return results;
  } finally {
    await pool.close();
  }
}

export interface PythonTrainingInput {
  config: TrainConfig & { algorithm: PythonAlgorithm };
  datasetFile: string;
  frozen: FrozenPlan;
  names: string[];
  train: Matrix;
  valid: Matrix;
  test: Matrix;
  trainRows: Int32Array;
  validRows: Int32Array;
  featureVersions: Record<string, unknown>;
  work: string;
  log: (line: string) => void;
}

/** Runs the script, writes the manifest, and scores validation and test rows with the package. */
export async function trainWithScript(input: PythonTrainingInput): Promise<ScriptRun & { validation: Float64Array; test: Float64Array }> {
  const run = await runTrainingScript(input.config, input);
  const k = input.names.length;
  await writePythonManifest(input.config, run.packageDir, input.frozen, k, input.featureVersions);
  const [validation, test] = await scorePackage(run.packageDir, input.config.task, [input.valid, input.test], k);
  return { ...run, validation: validation!, test: test! };
}
