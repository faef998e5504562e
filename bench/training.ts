/**
 * Training on the real flights data: the quickstart's delay classifier (examples/flights-train.yaml)
 * on the 3M-row point-in-time training set, against LightGBM from PyPI trained in the same run on
 * exactly the same rows and feature matrix, with comparable settings (same leaves, learning rate,
 * bins, L2, min hessian, early stopping on the same validation rows, 2 threads each). Reports
 * training time and test AUC (both computed by the same code on the same June rows).
 *
 * The peer needs Python with lightgbm: `pip install -r bench/peers/requirements.txt`; set
 * FRESCO_PYTHON to that interpreter (default python3). FRESCO_BENCH_ROWS limits the label rows.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setUpFlightsProject, writeFlightLabels } from '../examples/steps/offline.js';
import { applyProject } from '../src/features/project.js';
import { buildDataset } from '../src/offline/dataset-builder.js';
import { packageRoot } from '../src/package-root.js';
import { type GbdtParams, loadTrainConfig } from '../src/training/config.js';
import { auc } from '../src/training/metrics.js';
import { trainFromConfig } from '../src/training/train.js';
import type { BenchRow } from './row.js';

const vega = (name: string) => join(packageRoot(), 'node_modules', 'vega-datasets', 'data', name);
const THREADS = 2;

export async function runTrainingBenchmarks(log: (line: string) => void = console.log): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-bench-training-'));
  try {
    setUpFlightsProject(dir, { flightsParquet: vega('flights-3m.parquet'), airportsCsv: vega('airports.csv') });
    applyProject(dir);
    const labels = join(dir, 'data', 'flight-labels.parquet');
    const limit = process.env.FRESCO_BENCH_ROWS ? Number(process.env.FRESCO_BENCH_ROWS) : undefined;
    await writeFlightLabels(vega('flights-3m.parquet'), labels, limit);
    log('building the flights training set ...');
    await buildDataset({ project: dir, labels, timestamp: 'date', features: ['delay_model'], out: join(dir, 'data', 'training.parquet') });
    for (const file of ['flights-train.yaml', 'flights-train.features']) copyFileSync(join(packageRoot(), 'examples', file), join(dir, file));
    const config = loadTrainConfig(join(dir, 'flights-train.yaml'));
    delete config.report;
    // The quickstart's yaml trains on a label sample; the benchmark trains on the set built above.
    config.dataset = { file: join(dir, 'data', 'training.parquet') };
    // A limited run covers January only: test on its latest fifth instead of June.
    if (limit) config.split = { by: 'time', validation_fraction: config.split.validation_fraction, test_fraction: 0.2 };
    const params = { ...(config.algorithm.params as GbdtParams), threads: THREADS };
    config.algorithm.params = params;

    log('training with Fresco (forust-ml) ...');
    const fresco = await trainFromConfig(config, { register: false, keepMatrices: true, log });
    const m = fresco.matrices!;
    const k = m.names.length;
    for (const [name, part] of Object.entries({ train: m.train, valid: m.valid, test: m.test })) {
      writeFileSync(join(dir, `${name}.f32`), part.x);
      writeFileSync(join(dir, `${name}.y`), part.y);
    }
    writeFileSync(join(dir, 'params.json'), JSON.stringify({ ...params, columns: k, seed: config.seed }));

    log('training with LightGBM (PyPI) on the same matrices ...');
    const python = process.env.FRESCO_PYTHON ?? 'python3';
    let peer: { seconds: number; trees: number; version: string };
    try {
      peer = JSON.parse(execFileSync(python, [join(packageRoot(), 'bench', 'peers', 'lightgbm_baseline.py'), dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!);
    } catch (error) {
      throw new Error(`the LightGBM peer failed (${(error as Error).message.split('\n')[0]}); install it: ${python} -m pip install -r bench/peers/requirements.txt, or set FRESCO_PYTHON`);
    }
    const bytes = readFileSync(join(dir, 'lightgbm.pred.f64'));
    const peerPred = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    const peerAuc = auc(peerPred, m.test.y);
    const frescoAuc = fresco.metrics.auc as number;
    const frescoSeconds = fresco.seconds.train as number;
    log(`  Fresco: ${frescoSeconds.toFixed(1)} s, ${fresco.model.summary.trees} trees, test AUC ${frescoAuc.toFixed(4)}; LightGBM ${peer.version}: ${peer.seconds.toFixed(1)} s, ${peer.trees} trees, test AUC ${peerAuc.toFixed(4)}`);
    return [
      {
        name: `GBDT delay classifier, ${m.train.rows + m.valid.rows} training rows x ${k} features (train + early stopping)`,
        baseline: `LightGBM ${peer.version} (PyPI), same rows and settings, ${THREADS} threads`,
        nativeNs: frescoSeconds * 1e9,
        baselineNs: peer.seconds * 1e9,
        speedup: peer.seconds / frescoSeconds,
        extra: {
          fresco_auc: frescoAuc,
          lightgbm_auc: peerAuc,
          auc_gap: peerAuc - frescoAuc,
          time_ratio: frescoSeconds / peer.seconds,
          fresco_trees: fresco.model.summary.trees as number,
          lightgbm_trees: peer.trees,
          test_rows: m.test.rows,
          onnx_max_abs_diff: fresco.onnxMaxAbsDiff,
        },
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
