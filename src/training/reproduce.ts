/**
 * `fresco models reproduce <ref>`: rebuilds a version's dataset from its recorded lineage (label
 * files, feature definitions at the recorded versions, sources), checks the inputs still hash the
 * same, retrains with the recorded config and seed, and compares metrics and predictions.
 *
 * Tolerance: forust-ml is deterministic for a given seed, thread count aside, and so are the
 * dataset builder and the DSL; metrics must agree within 1e-9 and ONNX predictions of the
 * registered and the retrained model within 1e-6 on every test row.
 *
 * Where it writes: only inside the registry, in a folder of its own per run,
 * `<registry>/reproductions/<name>/<version>/<run>/`: the rebuilt dataset (with its manifest and
 * quality report), the retrained model's HTML report and `reproduce.json`. Never the user's
 * files (the recorded config's `report:` is the original training's), and nothing temporary that
 * a report would point at after it is gone. A run that fails is removed; one that completes,
 * reproduced or not, is kept as evidence. `reproduce.json` is written last: a folder without it
 * is a run still going, or one that was killed (swept by the next run of the same version).
 */
import { join } from 'node:path';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { FrescoError } from '../errors/index.js';
import { buildDataset, type DatasetManifest } from '../offline/dataset-builder.js';
import { ModelRegistry } from '../registry/index.js';
import { isLeftover, ownerTag } from '../util/leftovers.js';
import type { TrainConfig } from './config.js';
import { trainingCodeHash } from './code-hash.js';
import { outputName } from './model.js';
import { runOnnx } from './onnx-run.js';
import { trainFromConfig } from './train.js';

export const METRIC_TOLERANCE = 1e-9;
export const PREDICTION_TOLERANCE = 1e-6;

export interface ReproduceReport {
  ref: string;
  inputs: { path: string; recorded: string; now: string | null }[];
  metrics: { name: string; recorded: number; reproduced: number; diff: number }[];
  predictionMaxAbsDiff: number;
  rows: number;
  codeHashSame: boolean;
  planHashSame: boolean;
  ok: boolean;
  tolerance: { metrics: number; predictions: number };
  /** This run's folder in the registry, and what it holds. */
  dir: string;
  report: string;
  dataset: string;
}

/** `2026-01-31T12-00-00-000Z-<host>-<pid>-<hex>`: sortable by time; the owner tag tells the sweeper who ran it. */
const RUN_NAME = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-(.+)$/;

/** Removes runs of this host that never finished (no reproduce.json) and whose process is gone. */
function sweepKilledRuns(versionDir: string): void {
  if (!existsSync(versionDir)) return;
  for (const name of readdirSync(versionDir)) {
    const m = RUN_NAME.exec(name);
    if (m && !existsSync(join(versionDir, name, 'reproduce.json')) && isLeftover(m[1]!)) rmSync(join(versionDir, name), { recursive: true, force: true });
  }
}

function inputFiles(m: DatasetManifest): { path: string; sha256: string }[] {
  return [...(m.labels?.files ?? []), ...Object.values(m.sources).flatMap((s) => s.files)];
}

export async function reproduceVersion(registryDir: string, ref: string, log: (line: string) => void = () => {}): Promise<ReproduceReport> {
  const registry = ModelRegistry.open(registryDir);
  let recorded;
  let onnxRecorded: Uint8Array;
  try {
    recorded = registry.resolve(ref);
    const pkg = await registry.materialize(ref);
    onnxRecorded = readFileSync(join(pkg.dir, pkg.manifest.model));
  } finally {
    registry.close();
  }
  const training = recorded.trainingConfig as { config?: TrainConfig } | null;
  const manifest = (recorded.datasets as { training?: DatasetManifest } | null)?.training;
  if (!training?.config || !manifest?.labels) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${recorded.name}@${recorded.version} was not trained by fresco train (no recorded training config and dataset lineage); nothing to reproduce`);
  }
  const versionDir = join(registryDir, 'reproductions', recorded.name, String(recorded.version));
  sweepKilledRuns(versionDir);
  const dir = join(versionDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${ownerTag()}`);
  mkdirSync(dir, { recursive: true });
  const reportFile = join(dir, 'report.html');
  // The recorded config, with the report written into this run's folder instead of the user's file.
  const config: TrainConfig = { ...training.config, report: reportFile };
  let complete = false;
  try {
    log(`rebuilding the dataset of ${recorded.name}@${recorded.version} from its lineage (${manifest.labels.file}, ${manifest.features.length} features) in ${dir}`);
    const out = join(dir, 'dataset.parquet');
    const built = await buildDataset({
      project: config.projectDir,
      labels: manifest.labels.file,
      timestamp: manifest.labels.timestamp,
      features: manifest.features.map((f) => `${f.table}.${f.feature}`),
      out,
      log,
    });
    const now = new Map(inputFiles(built.manifest).map((f) => [f.path, f.sha256]));
    const inputs = inputFiles(manifest).map((f) => ({ path: f.path, recorded: f.sha256, now: now.get(f.path) ?? null }));
    const changedVersions = Object.entries(manifest.versions).filter(([t, v]) => built.manifest.versions[t] !== v);
    if (changedVersions.length) {
      throw new FrescoError('FRESCO_ERR_REPRODUCE_MISMATCH', `feature definitions changed since ${recorded.name}@${recorded.version} was trained: ${changedVersions.map(([t, v]) => `${t} ${v} -> ${built.manifest.versions[t]}`).join(', ')}`);
    }
    log('retraining with the recorded config and seed');
    const result = await trainFromConfig(config, { register: false, dataset: { file: built.out, manifest: built.manifest, built: true }, log });
    const metrics = Object.entries(recorded.metrics)
      .filter(([name]) => !name.startsWith('validation_'))
      .map(([name, value]) => {
        const reproduced = result.metrics[name] ?? NaN;
        return { name, recorded: value, reproduced, diff: Math.abs(reproduced - value) };
      });
    const recordedOut = await runOnnx(onnxRecorded, result.test.x, result.test.rows, result.model.columns, outputName(config.task));
    const retrainedOut = await runOnnx(result.onnx, result.test.x, result.test.rows, result.model.columns, outputName(config.task));
    let predictionMaxAbsDiff = 0;
    for (let i = 0; i < result.test.rows; i++) predictionMaxAbsDiff = Math.max(predictionMaxAbsDiff, Math.abs((recordedOut[i] as number) - (retrainedOut[i] as number)));
    const report: ReproduceReport = {
      ref: `${recorded.name}@${recorded.version}`,
      inputs,
      metrics,
      predictionMaxAbsDiff,
      rows: result.test.rows,
      codeHashSame: recorded.codeHash === trainingCodeHash(),
      planHashSame: recorded.planHash === result.frozen.hash,
      ok: inputs.every((i) => i.now === i.recorded) && metrics.every((m) => m.diff <= METRIC_TOLERANCE) && predictionMaxAbsDiff <= PREDICTION_TOLERANCE && recorded.planHash === result.frozen.hash,
      tolerance: { metrics: METRIC_TOLERANCE, predictions: PREDICTION_TOLERANCE },
      dir,
      report: reportFile,
      dataset: built.out,
    };
    const json = join(dir, 'reproduce.json');
    writeFileSync(`${json}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(`${json}.tmp`, json);
    complete = true;
    return report;
  } finally {
    // A run that failed leaves nothing half-written behind.
    if (!complete) rmSync(dir, { recursive: true, force: true });
  }
}
