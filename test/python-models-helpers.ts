// Python model packages for the tests (backend `python`, docs/python-models.md). Their
// environment (numpy + pandas, pinned) is built once by Fresco itself and cached under
// $FRESCO_TOOLS/python-envs (default ~/.cache/fresco-tools), shared by every package here: they
// have the same requirements.txt, so the same environment key.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ManifestDraft, writeManifest } from '../src/models/index.js';
import { ensurePythonEnv } from '../src/python/index.js';
import { toolsDir } from './helpers/triton-client.js';

const run = promisify(execFile);

process.env.FRESCO_PYTHON_ENVS ??= join(toolsDir(), 'python-envs');

export const REQUIREMENTS = 'numpy==2.2.6\npandas==2.2.3\n';

/** A tensor model: y = x @ W + b (float32 [batch, 2]) and n = the row's count of positives (int64). -1 in x[0,0] raises; -2 ends the process. */
export const TENSOR_MODEL = `
import numpy as np

class Model:
    def load(self, context):
        self.w = np.load(context.artifacts + "/weights.npy")
        self.b = np.float32(float(open(context.artifacts + "/bias.txt").read()))

    def predict(self, inputs):
        x = inputs["x"]
        if x[0, 0] == -1:
            raise ValueError("x[0, 0] is -1, which this model refuses")
        if x[0, 0] == -2:
            __import__("os")._exit(1)  # a worker that dies in the middle of a batch
        return {"y": (x @ self.w + self.b).astype(np.float32), "n": (x > 0).sum(axis=1).astype(np.int64)}
`;

/** Writes a tensor package (x float32 [batch, 4] -> y float32 [batch, 2], n int64 [batch]). */
export async function writeTensorPackage(dir: string, options: { model?: string; name?: string } = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.py'), options.model ?? TENSOR_MODEL);
  writeFileSync(join(dir, 'requirements.txt'), REQUIREMENTS);
  // A .npy artifact: written by numpy's format by hand (header + float32 little-endian data).
  const w = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 1.5, 1, -2]);
  const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }";
  const padded = header.padEnd(64 - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93]).copy(head, 0);
  head.write('NUMPY', 1, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(padded.length, 8);
  writeFileSync(join(dir, 'weights.npy'), Buffer.concat([head, Buffer.from(padded, 'latin1'), Buffer.from(w.buffer)]));
  writeFileSync(join(dir, 'bias.txt'), '0.125');
  const draft: ManifestDraft = {
    name: options.name ?? 'py-tensor',
    backend: 'python',
    model: 'model.py',
    input_kind: 'tensor',
    signature: {
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
      outputs: [
        { name: 'y', dtype: 'float32', shape: ['batch', 2] },
        { name: 'n', dtype: 'int64', shape: ['batch'] },
      ],
    },
  };
  await writeManifest(dir, draft);
  return dir;
}

/**
 * Calls the package's predict() inside one Python process (the package's environment), the way a
 * data scientist would, on `inputs` (name -> [dtype, shape, flat values]); returns name -> flat values.
 */
export async function predictInPython(dir: string, inputs: Record<string, [string, number[], number[]]>, dataframeColumns?: string[]): Promise<Record<string, number[]>> {
  const { python } = await ensurePythonEnv(dir, (await import('../src/models/index.js').then((m) => m.loadPackage(dir))).manifest);
  const script = `
import importlib.util, json, sys, types
import numpy as np
pkg, spec_json, columns = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, pkg)
spec = importlib.util.spec_from_file_location("m", pkg + "/model.py")
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
model = mod.Model()
model.load(types.SimpleNamespace(artifacts=pkg, dir=pkg, manifest=json.load(open(pkg + "/fresco.json")), settings={}))
inputs = {k: np.array(v[2], dtype=v[0]).reshape(v[1]) for k, v in json.loads(spec_json).items()}
if columns:
    import pandas as pd
    inputs = pd.DataFrame(next(iter(inputs.values())), columns=columns)
out = model.predict(inputs)
print(json.dumps({k: np.asarray(v).ravel().tolist() for k, v in out.items()}))
`;
  const { stdout } = await run(python, ['-c', script, dir, JSON.stringify(inputs), JSON.stringify(dataframeColumns ?? null)]);
  return JSON.parse(stdout) as Record<string, number[]>;
}
