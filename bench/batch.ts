/**
 * Batch scoring end to end on the 3M flights (vega-datasets): read Parquet, run the frozen
 * flights plan natively, run the flights-delay ONNX model in the worker pool, write Parquet with
 * keys and model columns. (The flights-delay plan reads request fields only, so no feature join
 * runs here; test/batch-score.test.ts covers the join.)
 *
 * Baseline, measured in the same run: the model alone, ONNX Runtime on the main thread with one
 * intra-op thread (as each worker uses), over the same pre-built tensor at the same batch size.
 * The bar: the pipeline reaches at least 50% of that rate.
 * Memory: each size runs in its own process, which reports its peak RSS (VmHWM), for 0.3M and
 * 3M input rows: it should stay flat, since a job holds one part at a time.
 *
 * Two models, same plan: flights-delay (MLP 13-32-1, ~55 ns/row, so cheap that reading and
 * writing the files bound the ratio), and flights-wide, built here in the temp folder (MLP
 * 13-1024-1, a size closer to a production scorer), so the ratio says what the pipeline costs
 * next to a model that does real work.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { openEngine } from '../src/offline/engine.js';
import { readColumns } from '../src/offline/read-columns.js';
import { packageRoot } from '../src/package-root.js';
import { compilePlan, type Plan } from '../src/plan/index.js';
import { ModelRegistry } from '../src/registry/index.js';
import { mlpOnnx } from '../models/generate.js';
import { writeManifest, type ManifestDraft } from '../src/models/package.js';
import type { BenchRow } from './row.js';

const BATCH = 32_768;
const FLIGHTS = join(packageRoot(), 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');

interface ChildResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakMiB: number;
}

/** Runs one batch job in a fresh process (so its peak memory is its own) and returns its figures. */
function scoreInChild(registry: string, model: string, input: string, output: string): ChildResult {
  const batchModule = pathToFileURL(join(packageRoot(), 'dist', 'src', 'batch', 'index.js')).href;
  const script = `
    import { readFileSync } from 'node:fs';
    const { batchScore } = await import(${JSON.stringify(batchModule)});
    const r = await batchScore({ registry: ${JSON.stringify(registry)}, models: [${JSON.stringify(model)}], input: [${JSON.stringify(input)}], output: ${JSON.stringify(output)}, batchSize: ${BATCH}, overwrite: true });
    const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
    console.log(JSON.stringify({ rows: r.rows, seconds: r.seconds, rowsPerSecond: r.rowsPerSecond, peakMiB: hwm }));`;
  const file = join(dirname(output), 'child.mjs');
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`batch child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

async function modelAlone(plan: Plan, modelPath: string): Promise<{ rowsPerSecond: number; rows: number }> {
  const table = await readColumns(FLIGHTS, { columns: plan.inputs.map((i) => i.name) });
  const matrix = compilePlan(plan).run(table.columns, table.rows);
  const width = plan.outputs.length;
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    const run = async () => {
      for (let at = 0; at < table.rows; at += BATCH) {
        const n = Math.min(BATCH, table.rows - at);
        await session.run({ features: new ort.Tensor('float32', matrix.subarray(at * width, (at + n) * width), [n, width]) });
      }
    };
    await run(); // warm-up
    const t = performance.now();
    await run();
    return { rows: table.rows, rowsPerSecond: table.rows / ((performance.now() - t) / 1000) };
  } finally {
    await session.release();
  }
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

interface ModelCase {
  ref: string;
  label: string;
}

export async function runBatchBenchmarks(log: (line: string) => void): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-bench-batch-'));
  try {
    const registry = join(dir, 'registry');
    const reg = ModelRegistry.open(registry);
    await reg.register(join(packageRoot(), 'models', 'flights-delay'), { aliases: ['production'] });
    await reg.register(await writeWidePackage(join(dir, 'flights-wide')), { aliases: ['production'] });
    const cases: (ModelCase & { pkg: Awaited<ReturnType<typeof reg.materialize>> })[] = [];
    for (const c of [
      { ref: 'flights-delay@production', label: 'flights-delay, MLP 13-32-1' },
      { ref: 'flights-wide@production', label: `flights-wide, MLP 13-${WIDE_HIDDEN}-1` },
    ]) {
      cases.push({ ...c, pkg: await reg.materialize(c.ref) });
    }
    reg.close();
    const small = join(dir, 'flights-300k.parquet');
    const engine = await openEngine();
    await engine.run(`COPY (SELECT * FROM read_parquet('${FLIGHTS}') LIMIT 300000) TO '${small}' (FORMAT parquet)`);
    engine.close();

    const rows: BenchRow[] = [];
    for (const c of cases) {
      const alone = await modelAlone(c.pkg.plan!, join(c.pkg.dir, c.pkg.manifest.model));
      log(`${c.label}: model alone (ORT, 1 thread, batch ${BATCH}, pre-built tensor): ${Math.round(alone.rowsPerSecond)} rows/s`);
      const r300k = scoreInChild(registry, c.ref, small, join(dir, 'out-300k.parquet'));
      log(`${c.label}: batch score 0.3M: ${Math.round(r300k.rowsPerSecond)} rows/s, peak RSS ${r300k.peakMiB.toFixed(0)} MiB`);
      const r3m = scoreInChild(registry, c.ref, FLIGHTS, join(dir, 'out-3m.parquet'));
      log(`${c.label}: batch score 3M:   ${Math.round(r3m.rowsPerSecond)} rows/s, peak RSS ${r3m.peakMiB.toFixed(0)} MiB (${((100 * r3m.rowsPerSecond) / alone.rowsPerSecond).toFixed(1)}% of the model alone)`);
      rows.push({
        name: `batch score 3M flights end to end (read, plan, model, write Parquet): ${c.label}`,
        baseline: `ONNX Runtime alone on the pre-built tensor, batch ${BATCH}, 1 thread`,
        nativeNs: 1e9 / r3m.rowsPerSecond,
        baselineNs: 1e9 / alone.rowsPerSecond,
        speedup: r3m.rowsPerSecond / alone.rowsPerSecond,
        extra: {
          pipelineRowsPerSec: Math.round(r3m.rowsPerSecond),
          modelAloneRowsPerSec: Math.round(alone.rowsPerSecond),
          fractionOfModelAlone: r3m.rowsPerSecond / alone.rowsPerSecond,
          peakMiB_0_3M: Math.round(r300k.peakMiB),
          peakMiB_3M: Math.round(r3m.peakMiB),
          peakRatio_3M_over_0_3M: r3m.peakMiB / r300k.peakMiB,
        },
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
