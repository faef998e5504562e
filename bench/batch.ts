/**
 * Batch scoring end to end on the 3M flights (vega-datasets): read Parquet, join features
 * point-in-time from the offline store (the GBDT case), run the frozen plan natively, run the
 * ONNX model in the worker pool, write one Parquet file with keys and model columns.
 *
 * Baseline, measured in the same run: the model alone, ONNX Runtime on the main thread with one
 * intra-op thread (as each worker uses), over the same pre-built tensor at the same batch size.
 * The issue's bar: the pipeline reaches at least 50% of that rate.
 * Memory: each size runs in its own process, which reports its peak RSS (VmHWM), for 0.3M, 1M and
 * 3M input rows: it should stay flat, since a job holds at most two parts at a time (a 0.3M input
 * is only two parts, so its job never runs the full pipeline; 1M shows where the plateau is).
 *
 * Three models:
 * - flights-gbdt: the quickstart's model. The GBDT the training step trains (examples/
 *   flights-train.yaml, the same labels: one flight in 8, features point-in-time from all 3M
 *   flights), trained here in the temp folder; scored with its 16 feature-store inputs joined
 *   point-in-time from the offline store (the features inferred from its plan). Its tensor for
 *   the baseline is built by the dataset builder (the same join) before the timing starts.
 * - flights-delay (MLP 13-32-1, request fields only, ~55 ns/row): so cheap that reading and
 *   writing the files bound the ratio; reported so that the figure is honest about a tiny model.
 * - flights-wide, built here (MLP 13-1024-1, same plan), a model that does real work.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { setUpFlightsProject, writeFlightLabels } from '../examples/steps/offline.js';
import { datasetColumnName } from '../src/dsl/dataset.js';
import { applyProject } from '../src/features/project.js';
import { buildDataset } from '../src/offline/dataset-builder.js';
import { openEngine } from '../src/offline/engine.js';
import { readColumns } from '../src/offline/read-columns.js';
import { loadTrainConfig } from '../src/training/config.js';
import { trainFromConfig } from '../src/training/train.js';
import { packageRoot } from '../src/package-root.js';
import { compilePlan, type Plan } from '../src/plan/index.js';
import { ModelRegistry } from '../src/registry/index.js';
import { mlpOnnx } from '../models/generate.js';
import { writeManifest, type ManifestDraft } from '../src/models/package.js';
import type { BenchRow } from './row.js';

const BATCH = 32_768;
/** Part size of the memory series (see the end of runBatchBenchmarks). */
const MEMORY_PART_ROWS = 65_536;
const vega = (name: string) => join(packageRoot(), 'node_modules', 'vega-datasets', 'data', name);
const FLIGHTS = vega('flights-3m.parquet');
/** The training step's label sample (examples/steps/training.ts): one flight in 8. */
const TRAIN_SAMPLE_EVERY = 8;

interface ChildResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakMiB: number;
  timingsMs: Record<string, number>;
}

/** Runs one batch job in a fresh process (so its peak memory is its own) and returns its figures. */
function scoreInChild(registry: string, model: string, input: string, output: string, featureJoin?: { project: string; timestamp: string }, partRows?: number): ChildResult {
  const batchModule = pathToFileURL(join(packageRoot(), 'dist', 'src', 'batch', 'index.js')).href;
  const script = `
    import { readFileSync } from 'node:fs';
    const { batchScore } = await import(${JSON.stringify(batchModule)});
    const r = await batchScore({ registry: ${JSON.stringify(registry)}, models: [${JSON.stringify(model)}], input: [${JSON.stringify(input)}], output: ${JSON.stringify(output)}, batchSize: ${BATCH}, overwrite: true${featureJoin ? `, join: ${JSON.stringify(featureJoin)}` : ''}${partRows ? `, partRows: ${partRows}` : ''} });
    const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
    console.log(JSON.stringify({ rows: r.rows, seconds: r.seconds, rowsPerSecond: r.rowsPerSecond, peakMiB: hwm, timingsMs: r.timingsMs }));`;
  const file = join(dirname(output), 'child.mjs');
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`batch child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

/** ORT alone over `rows` x `width` float32 features, batch by batch, one intra-op thread. */
async function ortAlone(modelPath: string, matrix: Float32Array, rows: number, width: number, warmUpRows = rows): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const input = session.inputNames[0]!;
  try {
    const run = async (upTo: number) => {
      for (let at = 0; at < upTo; at += BATCH) {
        const n = Math.min(BATCH, upTo - at);
        await session.run({ [input]: new ort.Tensor('float32', matrix.subarray(at * width, (at + n) * width), [n, width]) });
      }
    };
    await run(warmUpRows);
    const t = performance.now();
    await run(rows);
    return rows / ((performance.now() - t) / 1000);
  } finally {
    await session.release();
  }
}

/** A timer for the model alone on the flights file's own columns (request fields only), the tensor built once. */
async function modelAlone(plan: Plan, modelPath: string): Promise<() => Promise<number>> {
  const table = await readColumns(FLIGHTS, { columns: plan.inputs.map((i) => i.name) });
  const matrix = compilePlan(plan).run(table.columns, table.rows);
  return () => ortAlone(modelPath, matrix, table.rows, plan.outputs.length);
}

/** flights-wide: the flights-delay package with a wider MLP (13-HIDDEN-1), same plan and signature. */
const WIDE_HIDDEN = 1024;
async function writeWidePackage(dir: string): Promise<string> {
  const source = join(packageRoot(), 'models', 'flights-delay');
  const manifest = JSON.parse(readFileSync(join(source, 'fresco.json'), 'utf8')) as ManifestDraft & { files?: unknown; plan_hash?: unknown; format_version?: unknown };
  const { files: _files, plan_hash: _hash, format_version: _version, ...draft } = manifest;
  const width = (draft.plan as unknown as Plan).outputs.length;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), mlpOnnx({ inputs: width, hidden: WIDE_HIDDEN, outputs: 1, seed: 7, input: 'features', output: 'delay_probability', sigmoid: true }));
  await writeManifest(dir, { ...draft, name: 'flights-wide', description: `flights-delay's plan feeding an MLP ${width}-${WIDE_HIDDEN}-1 (seeded weights; a benchmark model)` });
  return dir;
}

/**
 * flights-gbdt: the quickstart's GBDT, trained as the training step trains it (same yaml, same
 * label sample), in a flights project set up in `dir`. Returns the project and its registry.
 */
async function trainGbdt(dir: string, log: (line: string) => void): Promise<{ project: string; registry: string }> {
  const project = join(dir, 'flights-project');
  setUpFlightsProject(project, { flightsParquet: FLIGHTS, airportsCsv: vega('airports.csv') });
  applyProject(project);
  for (const file of ['flights-train.yaml', 'flights-train.features']) copyFileSync(join(packageRoot(), 'examples', file), join(project, file));
  await writeFlightLabels(FLIGHTS, join(project, 'data', 'flight-labels-sample.parquet'), undefined, TRAIN_SAMPLE_EVERY);
  const config = loadTrainConfig(join(project, 'flights-train.yaml'));
  delete config.report;
  const registry = join(dir, 'registry-gbdt');
  config.register = { ...config.register, registry };
  const t = performance.now();
  const r = await trainFromConfig(config, {});
  log(`flights-gbdt: trained as the quickstart does (one flight in ${TRAIN_SAMPLE_EVERY}, examples/flights-train.yaml): ${r.model.summary.trees} trees, test AUC ${r.metrics.auc?.toFixed(4)}, in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return { project, registry };
}

/** A timer for the GBDT alone on its tensor: the 3M flights with features joined by the dataset builder (the same point-in-time join), through the plan. */
async function gbdtAlone(dir: string, project: string, plan: Plan, modelPath: string): Promise<() => Promise<number>> {
  const features = plan.inputs.map((i) => i.name).filter((n) => n.includes('.') && !n.startsWith('request.'));
  const dataset = join(dir, 'gbdt-features.parquet');
  await buildDataset({ project, labels: FLIGHTS, timestamp: 'date', features, out: dataset });
  const table = await readColumns(dataset, { columns: plan.inputs.map((i) => datasetColumnName(i.name)) });
  rmSync(dataset, { force: true });
  const matrix = compilePlan(plan).run(table.columns, table.rows);
  return () => ortAlone(modelPath, matrix, table.rows, plan.outputs.length, 8 * BATCH);
}

interface ModelCase {
  ref: string;
  label: string;
  registry: string;
  join?: { project: string; timestamp: string };
  /** Builds the model's tensor; the timer it returns runs ORT alone over it (rows/s). */
  alone(): Promise<() => Promise<number>>;
}

export async function runBatchBenchmarks(log: (line: string) => void): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-bench-batch-'));
  try {
    const registry = join(dir, 'registry');
    const reg = ModelRegistry.open(registry);
    await reg.register(join(packageRoot(), 'models', 'flights-delay'), { aliases: ['production'] });
    await reg.register(await writeWidePackage(join(dir, 'flights-wide')), { aliases: ['production'] });
    const mlp = async (ref: string) => {
      const pkg = await reg.materialize(ref);
      return () => modelAlone(pkg.plan!, join(pkg.dir, pkg.manifest.model));
    };
    const gbdt = await trainGbdt(dir, log);
    const gbdtReg = ModelRegistry.open(gbdt.registry);
    const gbdtPkg = await gbdtReg.materialize('flights-delay@production');
    gbdtReg.close();
    const cases: ModelCase[] = [
      {
        ref: 'flights-delay@production',
        label: `flights-gbdt (the quickstart's GBDT, ${gbdtPkg.plan!.outputs.length} plan outputs), 16 features joined point-in-time`,
        registry: gbdt.registry,
        join: { project: gbdt.project, timestamp: 'date' },
        alone: () => gbdtAlone(dir, gbdt.project, gbdtPkg.plan!, join(gbdtPkg.dir, gbdtPkg.manifest.model)),
      },
      { ref: 'flights-delay@production', label: 'flights-delay, MLP 13-32-1, no join', registry, alone: await mlp('flights-delay@production') },
      { ref: 'flights-wide@production', label: `flights-wide, MLP 13-${WIDE_HIDDEN}-1, no join`, registry, alone: await mlp('flights-wide@production') },
    ];
    reg.close();
    const small = join(dir, 'flights-300k.parquet');
    const middle = join(dir, 'flights-1m.parquet');
    const engine = await openEngine();
    await engine.run(`COPY (SELECT * FROM read_parquet('${FLIGHTS}') LIMIT 300000) TO '${small}' (FORMAT parquet)`);
    await engine.run(`COPY (SELECT * FROM read_parquet('${FLIGHTS}') LIMIT 1000000) TO '${middle}' (FORMAT parquet)`);
    engine.close();

    const rows: BenchRow[] = [];
    for (const c of cases) {
      const load = loadavg()[0]!;
      const timeAlone = await c.alone();
      // The machine is shared and its load drifts: the model alone is timed right before and right
      // after the 3M run, and the pipeline is compared with the mean of the two.
      const r300k = scoreInChild(c.registry, c.ref, small, join(dir, 'out-300k.parquet'), c.join);
      const r1m = scoreInChild(c.registry, c.ref, middle, join(dir, 'out-1m.parquet'), c.join);
      log(`${c.label}: batch score 0.3M: ${Math.round(r300k.rowsPerSecond)} rows/s, peak RSS ${r300k.peakMiB.toFixed(0)} MiB; 1M: ${Math.round(r1m.rowsPerSecond)} rows/s, peak RSS ${r1m.peakMiB.toFixed(0)} MiB`);
      const before = await timeAlone();
      const r3m = scoreInChild(c.registry, c.ref, FLIGHTS, join(dir, 'out-3m.parquet'), c.join);
      const after = await timeAlone();
      const alone = (before + after) / 2;
      log(`${c.label}: model alone (ORT, 1 thread, batch ${BATCH}, pre-built tensor): ${Math.round(before)} rows/s before, ${Math.round(after)} after the 3M run (load ${load.toFixed(2)} at the start)`);
      log(
        `${c.label}: batch score 3M:   ${Math.round(r3m.rowsPerSecond)} rows/s, peak RSS ${r3m.peakMiB.toFixed(0)} MiB (${((100 * r3m.rowsPerSecond) / alone).toFixed(1)}% of the model alone); ` +
          `ms: ${Object.entries(r3m.timingsMs).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      );
      rows.push({
        name: `batch score 3M flights end to end (read, ${c.join ? 'join, ' : ''}plan, model, write one Parquet file): ${c.label}`,
        baseline: `ONNX Runtime alone on the pre-built tensor, batch ${BATCH}, 1 thread (mean of before and after)`,
        nativeNs: 1e9 / r3m.rowsPerSecond,
        baselineNs: 1e9 / alone,
        speedup: r3m.rowsPerSecond / alone,
        extra: {
          pipelineRowsPerSec: Math.round(r3m.rowsPerSecond),
          modelAloneRowsPerSec: Math.round(alone),
          modelAloneBeforeRowsPerSec: Math.round(before),
          modelAloneAfterRowsPerSec: Math.round(after),
          fractionOfModelAlone: r3m.rowsPerSecond / alone,
          pipelineSeconds_3M: r3m.seconds,
          ...Object.fromEntries(Object.entries(r3m.timingsMs).map(([k, v]) => [`${k}Ms_3M`, v])),
          peakMiB_0_3M: Math.round(r300k.peakMiB),
          peakMiB_1M: Math.round(r1m.peakMiB),
          peakMiB_3M: Math.round(r3m.peakMiB),
          peakRatio_3M_over_0_3M: r3m.peakMiB / r300k.peakMiB,
          // The machine's 1-minute load average before this case (a shared machine: figures are noisy).
          loadAverage1m: Math.round(load * 100) / 100,
        },
      });
    }

    // Memory against input size at a fixed part size small enough that the 0.3M input already
    // fills the pipeline (a job holds at most two parts plus the feature tables): with the
    // default 262,144-row parts a 0.3M input is barely more than one part, so its peak is lower
    // only because the pipeline never fills. Same GBDT job with the join, smaller parts.
    const m = cases[0]!;
    const mem = [small, middle, FLIGHTS].map((input, i) => scoreInChild(m.registry, m.ref, input, join(dir, `out-mem-${i}.parquet`), m.join, MEMORY_PART_ROWS));
    log(`${m.label}: parts of ${MEMORY_PART_ROWS} rows: peak RSS 0.3M ${mem[0]!.peakMiB.toFixed(0)} MiB, 1M ${mem[1]!.peakMiB.toFixed(0)} MiB, 3M ${mem[2]!.peakMiB.toFixed(0)} MiB`);
    // Memory is no time: it goes with the GBDT row's figures, not in a row of its own.
    Object.assign(rows[0]!.extra!, {
      memoryPartRows: MEMORY_PART_ROWS,
      memoryPeakMiB_0_3M: Math.round(mem[0]!.peakMiB),
      memoryPeakMiB_1M: Math.round(mem[1]!.peakMiB),
      memoryPeakMiB_3M: Math.round(mem[2]!.peakMiB),
      memoryPeakRatio_3M_over_0_3M: Math.round((100 * mem[2]!.peakMiB) / mem[0]!.peakMiB) / 100,
    });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
