/**
 * Writes the example model packages in models/ (committed; a test regenerates them into a temp
 * folder and checks they are identical) and src/models/manifest.schema.json, the manifest's JSON
 * Schema rendered from the zod schema. Run: `npx tsc -p tsconfig.json && node dist/models/generate.js`.
 *
 *  - flights-delay: dataframe input; the quickstart's flights plan (13 columns) feeding an ONNX
 *    MLP 13-32-1 with a sigmoid: P(delay). Weights are fixed and seeded, not trained: the
 *    training issue replaces them; the package shape is what matters here.
 *  - mlp-50: tensor input; an ONNX MLP 50-64-1 (Gemm, Relu, Gemm), seeded weights.
 *  - custom-threshold: the custom backend; model.ts compares a score with a threshold it loads.
 *  - numpy-delay: the python backend (docs/python-models.md); model.py, a numpy logistic over the
 *    flights plan's named columns (a pandas DataFrame), weights from weights.json.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import { manifestJsonSchema } from '../src/models/manifest.js';
import { type ManifestDraft, writeManifest } from '../src/models/package.js';
import { packageRoot } from '../src/package-root.js';
import { seededRandom } from '../src/util/seeded-random.js';

const { onnx } = onnxProto;
const FLOAT = 1;

function tensor(name: string, dims: number[], values: Float32Array) {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

function valueInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** An MLP in -> hidden (ReLU) -> out as ONNX bytes; weights uniform in ±1/sqrt(fan-in). */
export function mlpOnnx(options: { inputs: number; hidden: number; outputs: number; seed: number; input: string; output: string; sigmoid: boolean }): Uint8Array {
  const random = seededRandom(options.seed);
  const init = (n: number, fanIn: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) / Math.sqrt(fanIn));
  const { inputs, hidden, outputs } = options;
  const last = options.sigmoid ? 'logit' : options.output;
  const nodes = [
    { opType: 'Gemm', input: [options.input, 'w1', 'b1'], output: ['h1'], name: 'dense1' },
    { opType: 'Relu', input: ['h1'], output: ['a1'], name: 'relu1' },
    { opType: 'Gemm', input: ['a1', 'w2', 'b2'], output: [last], name: 'dense2' },
    ...(options.sigmoid ? [{ opType: 'Sigmoid', input: ['logit'], output: [options.output], name: 'sigmoid' }] : []),
  ];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'fresco models/generate.ts',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'mlp',
      node: nodes,
      initializer: [
        tensor('w1', [inputs, hidden], init(inputs * hidden, inputs)),
        tensor('b1', [hidden], init(hidden, inputs)),
        tensor('w2', [hidden, outputs], init(hidden * outputs, hidden)),
        tensor('b2', [outputs], init(outputs, hidden)),
      ],
      input: [valueInfo(options.input, ['batch', inputs])],
      output: [valueInfo(options.output, ['batch', outputs])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

const NUMPY_MODEL = `"""A Fresco python model: P(delay) from the flights plan's columns, by a logistic in numpy.

load() reads the weights once; predict() gets a pandas DataFrame whose columns are the plan's
named outputs, and returns one float32 column per row.
"""
import json
import os

import numpy as np


class Model:
    def load(self, context):
        with open(os.path.join(context.artifacts, "weights.json")) as f:
            spec = json.load(f)
        self.columns = list(spec["weights"])
        self.weights = np.array([spec["weights"][c] for c in self.columns], dtype=np.float32)
        self.bias = np.float32(spec["bias"])

    def predict(self, frame):
        z = frame[self.columns].to_numpy(np.float32) @ self.weights + self.bias
        return {"delay_probability": (1 / (1 + np.exp(-z))).astype(np.float32).reshape(-1, 1)}
`;

/** numpy-delay's weights by plan column (hand-set, not trained): evening flights and busy hubs delay more. */
const NUMPY_WEIGHTS = {
  bias: -1.2,
  weights: { hour: 0.04, is_evening: 0.35, is_weekend: -0.1, log_distance_std: 0.08, origin_atl: 0.3, origin_ord: 0.45, origin_dfw: 0.2, origin_lax: 0.1, origin_phx: -0.05 },
};

const CUSTOM_MODEL = `/**
 * A custom Fresco model: load() runs once when the package is loaded, predict() on every call.
 * This one labels a score 1 when it reaches a threshold kept in threshold.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface State {
  threshold: number;
}

export function load(ctx: { dir: string }): State {
  return JSON.parse(readFileSync(join(ctx.dir, 'threshold.json'), 'utf8')) as State;
}

export function predict(state: State, inputs: { score: Float32Array }): { label: Float32Array } {
  return { label: inputs.score.map((s) => (s >= state.threshold ? 1 : 0)) };
}
`;

/** Builds one package in a temp folder next to `dir`, then swaps it in. */
async function writePackage(dir: string, files: Record<string, Uint8Array | string>, draft: ManifestDraft): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(tmp, name), content);
  await writeManifest(tmp, draft);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/** Writes every example package under `outDir`; returns their folders by name. */
export async function generateExamples(outDir: string): Promise<Record<string, string>> {
  const plan = JSON.parse(readFileSync(join(packageRoot(), 'examples', 'flights.plan.json'), 'utf8')) as { outputs: number[] };
  const width = plan.outputs.length;
  const out: Record<string, string> = {};

  out['flights-delay'] = join(outDir, 'flights-delay');
  await writePackage(
    out['flights-delay'],
    { 'model.onnx': mlpOnnx({ inputs: width, hidden: 32, outputs: 1, seed: 2001, input: 'features', output: 'delay_probability', sigmoid: true }) },
    {
      name: 'flights-delay',
      description: 'Probability that a 2001 US flight is delayed, from the quickstart flights plan (seeded, untrained weights).',
      backend: 'onnx',
      model: 'model.onnx',
      input_kind: 'dataframe',
      signature: {
        inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', width] }],
        outputs: [{ name: 'delay_probability', dtype: 'float32', shape: ['batch', 1] }],
      },
      plan,
    },
  );

  out['mlp-50'] = join(outDir, 'mlp-50');
  await writePackage(
    out['mlp-50'],
    { 'model.onnx': mlpOnnx({ inputs: 50, hidden: 64, outputs: 1, seed: 50, input: 'x', output: 'y', sigmoid: false }) },
    {
      name: 'mlp-50',
      description: 'An MLP 50-64-1 over a raw float tensor (seeded weights).',
      backend: 'onnx',
      model: 'model.onnx',
      input_kind: 'tensor',
      signature: { inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 50] }], outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 1] }] },
    },
  );

  out['custom-threshold'] = join(outDir, 'custom-threshold');
  await writePackage(
    out['custom-threshold'],
    {
      'model.ts': CUSTOM_MODEL,
      'threshold.json': `${JSON.stringify({ threshold: 0.5 })}\n`,
      'package.json': `${JSON.stringify({ name: 'custom-threshold-model', private: true, version: '1.0.0', dependencies: {} }, null, 2)}\n`,
    },
    {
      name: 'custom-threshold',
      description: 'A custom TypeScript model: 1 when a score reaches the threshold in threshold.json.',
      backend: 'custom',
      model: 'model.ts',
      input_kind: 'tensor',
      signature: { inputs: [{ name: 'score', dtype: 'float32', shape: ['batch'] }], outputs: [{ name: 'label', dtype: 'float32', shape: ['batch'] }] },
    },
  );
  out['numpy-delay'] = join(outDir, 'numpy-delay');
  await writePackage(
    out['numpy-delay'],
    {
      'model.py': NUMPY_MODEL,
      'requirements.txt': 'numpy==2.2.6\npandas==2.2.3\n',
      'weights.json': `${JSON.stringify(NUMPY_WEIGHTS, null, 2)}\n`,
    },
    {
      name: 'numpy-delay',
      description: 'A Python model: P(delay) of a 2001 US flight, a numpy logistic over the flights plan (hand-set weights).',
      backend: 'python',
      model: 'model.py',
      input_kind: 'dataframe',
      signature: {
        inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', width] }],
        outputs: [{ name: 'delay_probability', dtype: 'float32', shape: ['batch', 1] }],
      },
      plan,
    },
  );
  return out;
}

export function schemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = packageRoot();
  const written = await generateExamples(join(root, 'models'));
  writeFileSync(join(root, 'src', 'models', 'manifest.schema.json'), schemaText());
  for (const [name, dir] of Object.entries(written)) console.log(`wrote ${name} -> ${dir}`);
  console.log(`wrote ${join(root, 'src', 'models', 'manifest.schema.json')}`);
}
