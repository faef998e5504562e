/**
 * The Node -> Python hand-over of a `python` model (docs/python-models.md), against calling
 * predict() inside one Python process (the baseline, same environment, same model, same run).
 * Models over x float32 [batch, 16]: `sum` (y = x.sum(axis=1): the hand-over dominates) and `mlp`
 * (a 16-256-1 numpy MLP with ReLU: some work per row, as a small real model has).
 *   in-process: predict() called in a loop inside Python (time.perf_counter_ns)
 *   worker.run: PythonWorker.run (slot pwrite, doorbell byte, reply byte, pread), one in flight
 *   served:     LoadedModel.predict (input checks, batcher, worker), one in flight, no network
 * At batch 1 and 256. Run: npx tsc -p tsconfig.json && node dist/bench/python-handover.js [iterations]
 * (needs python3 with venv, and PyPI or a cached environment: FRESCO_PYTHON_ENVS).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { writeManifest } from '../src/models/index.js';
import { ensurePythonEnv, pythonWorkers } from '../src/python/index.js';
import { LoadedModel } from '../src/serving/loaded-model.js';
import { parseModelSettings } from '../src/serving/settings.js';

const run = promisify(execFile);
const N = Number(process.argv[2] ?? 5000);
const WIDTH = 16;

const MODELS: Record<string, string> = {
  sum: `
import numpy as np

class Model:
    def load(self, context):
        pass

    def predict(self, inputs):
        return {"y": inputs["x"].sum(axis=1, keepdims=True)}
`,
  mlp: `
import numpy as np

class Model:
    def load(self, context):
        rng = np.random.default_rng(7)
        self.w1 = rng.standard_normal((16, 256), dtype=np.float32)
        self.w2 = rng.standard_normal((256, 1), dtype=np.float32)

    def predict(self, inputs):
        return {"y": np.maximum(inputs["x"] @ self.w1, 0) @ self.w2}
`,
};

const IN_PROCESS = `
import importlib.util, sys, time, types, json
import numpy as np
pkg, n = sys.argv[1], int(sys.argv[2])
spec = importlib.util.spec_from_file_location("m", pkg + "/model.py")
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
model = mod.Model(); model.load(types.SimpleNamespace(artifacts=pkg))
out = {}
for rows in (1, 256):
    x = np.random.default_rng(1).random((rows, ${WIDTH}), dtype=np.float32)
    for _ in range(n // 5): model.predict({"x": x})
    t = time.perf_counter_ns()
    for _ in range(n): model.predict({"x": x})
    out[rows] = (time.perf_counter_ns() - t) / n / 1000
print(json.dumps(out))
`;

async function main(kind: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-bench-python-'));
  try {
    writeFileSync(join(dir, 'model.py'), MODELS[kind] as string);
    writeFileSync(join(dir, 'requirements.txt'), 'numpy==2.2.6\n');
    const pkg = await writeManifest(dir, {
      name: 'handover',
      backend: 'python',
      model: 'model.py',
      input_kind: 'tensor',
      signature: { inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', WIDTH] }], outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 1] }] },
    });
    const env = await ensurePythonEnv(dir, pkg.manifest);
    const inProcess = JSON.parse((await run(env.python, ['-c', IN_PROCESS, dir, String(N)])).stdout) as Record<string, number>;

    const log = pino({ level: 'warn' });
    const worker = (await pythonWorkers(pkg, 1 << 20, log, () => {}))();
    await worker.ready;
    const viaWorker: Record<number, number> = {};
    for (const rows of [1, 256]) {
      const x = Float32Array.from({ length: rows * WIDTH }, (_, i) => (i % 7) / 7);
      const bytes = new Uint8Array(x.buffer);
      const input = { dtype: 'float32', shape: [rows, WIDTH], byteLength: bytes.byteLength, write: (t: Uint8Array) => t.set(bytes) };
      for (let i = 0; i < N / 5; i++) await worker.run(rows, [input]);
      const t = performance.now();
      for (let i = 0; i < N; i++) await worker.run(rows, [input]);
      viaWorker[rows] = ((performance.now() - t) / N) * 1000;
    }
    await worker.close();

    const model = await LoadedModel.load({ name: 'handover', version: 1, pkg, settings: parseModelSettings({ maxBatchSize: 256, timeoutMs: 60_000 }), log });
    const served: Record<number, number> = {};
    for (const rows of [1, 256]) {
      const x = Float32Array.from({ length: rows * WIDTH }, (_, i) => (i % 7) / 7);
      const request = { type: 'predict_request' as const, id: 1, model: 'handover', rows: [], tensors: [{ name: 'x', dtype: 'float32' as const, shape: [rows, WIDTH], data: x }], timeoutUs: 0, outputs: [] };
      for (let i = 0; i < N / 5; i++) await model.predict(request, performance.now() + 60_000);
      const t = performance.now();
      for (let i = 0; i < N; i++) await model.predict(request, performance.now() + 60_000);
      served[rows] = ((performance.now() - t) / N) * 1000;
    }
    await model.close();

    console.log(`\nmodel ${kind}: python hand-over, ${N} calls each, one in flight (µs per call)`);
    console.log('batch | in-process predict | worker.run | added | served (LoadedModel) | added | throughput vs in-process (worker.run / served)');
    for (const rows of [1, 256]) {
      const base = inProcess[rows] as number;
      const w = viaWorker[rows] as number;
      const s = served[rows] as number;
      console.log(`${String(rows).padStart(5)} | ${base.toFixed(1).padStart(18)} | ${w.toFixed(1).padStart(10)} | ${(w - base).toFixed(1).padStart(5)} | ${s.toFixed(1).padStart(20)} | ${(s - base).toFixed(1).padStart(5)} | ${((base / w) * 100).toFixed(0)}% / ${((base / s) * 100).toFixed(0)}%`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of ['sum', 'mlp']) await main(kind);
