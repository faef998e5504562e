/**
 * ONNX writers: linear models as MatMul + Add (+ Sigmoid), tree ensembles as ai.onnx.ml
 * TreeEnsembleRegressor (+ Sigmoid). Serving and batch run these with the standard runtime; a test
 * proves ONNX Runtime's predictions equal the trainer's own.
 */
import onnxProto from 'onnx-proto';
import { INPUT_NAME, outputName, type Task } from './model.js';

const { onnx } = onnxProto;
const FLOAT = 1;
const A = onnx.AttributeProto.AttributeType;

function valueInfo(name: string, dims: (number | string)[]) {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

function tensor(name: string, dims: number[], values: Float32Array) {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) };
}

const ints = (name: string, v: number[]) => ({ name, type: A.INTS, ints: v });
const floats = (name: string, v: number[]) => ({ name, type: A.FLOATS, floats: v });
const strings = (name: string, v: string[]) => ({ name, type: A.STRINGS, strings: v.map((s) => new TextEncoder().encode(s)) });
const int = (name: string, v: number) => ({ name, type: A.INT, i: v });
const str = (name: string, v: string) => ({ name, type: A.STRING, s: new TextEncoder().encode(v) });

function model(graphName: string, task: Task, columns: number, nodes: unknown[], initializer: unknown[], ml: boolean, last: string): Uint8Array {
  const out = outputName(task);
  const all = task === 'binary' ? [...nodes, { opType: 'Sigmoid', input: [last], output: [out], name: 'sigmoid' }] : nodes;
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'fresco training',
      opsetImport: [{ domain: '', version: 13 }, ...(ml ? [{ domain: 'ai.onnx.ml', version: 3 }] : [])],
      graph: { name: graphName, node: all as never, initializer: initializer as never, input: [valueInfo(INPUT_NAME, ['batch', columns])], output: [valueInfo(out, ['batch', 1])] },
    }),
  ).finish();
}

/** y = x W + b (then a sigmoid for binary). */
export function linearOnnx(task: Task, weights: Float64Array, intercept: number): Uint8Array {
  const k = weights.length;
  const last = task === 'binary' ? 'logit' : outputName(task);
  return model(
    'linear',
    task,
    k,
    [
      { opType: 'MatMul', input: [INPUT_NAME, 'W'], output: ['xw'], name: 'matmul' },
      { opType: 'Add', input: ['xw', 'B'], output: [last], name: 'add' },
    ],
    [tensor('W', [k, 1], Float32Array.from(weights)), tensor('B', [1], Float32Array.of(intercept))],
    false,
    last,
  );
}

export interface TreeNode {
  leaf: boolean;
  feature: number;
  threshold_f32: number;
  left: number;
  right: number;
  missing_left: boolean;
  value: number;
}

/**
 * A sum of trees plus a base score: TreeEnsembleRegressor with BRANCH_LT nodes (x < threshold goes
 * to the true branch) and missing values routed as the engine routes them.
 */
export function treeEnsembleOnnx(task: Task, columns: number, trees: TreeNode[][], baseScore: number): Uint8Array {
  const a = { treeIds: [] as number[], nodeIds: [] as number[], features: [] as number[], modes: [] as string[], values: [] as number[], trueIds: [] as number[], falseIds: [] as number[], missingTrue: [] as number[] };
  const t = { treeIds: [] as number[], nodeIds: [] as number[], ids: [] as number[], weights: [] as number[] };
  trees.forEach((tree, ti) => {
    tree.forEach((n, ni) => {
      a.treeIds.push(ti);
      a.nodeIds.push(ni);
      a.features.push(n.leaf ? 0 : n.feature);
      a.modes.push(n.leaf ? 'LEAF' : 'BRANCH_LT');
      a.values.push(n.leaf ? 0 : n.threshold_f32);
      a.trueIds.push(n.leaf ? 0 : n.left);
      a.falseIds.push(n.leaf ? 0 : n.right);
      a.missingTrue.push(!n.leaf && n.missing_left ? 1 : 0);
      if (n.leaf) {
        t.treeIds.push(ti);
        t.nodeIds.push(ni);
        t.ids.push(0);
        t.weights.push(n.value);
      }
    });
  });
  const last = task === 'binary' ? 'logit' : outputName(task);
  const node = {
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    input: [INPUT_NAME],
    output: [last],
    name: 'trees',
    attribute: [
      int('n_targets', 1),
      str('aggregate_function', 'SUM'),
      str('post_transform', 'NONE'),
      floats('base_values', [baseScore]),
      ints('nodes_treeids', a.treeIds),
      ints('nodes_nodeids', a.nodeIds),
      ints('nodes_featureids', a.features),
      strings('nodes_modes', a.modes),
      floats('nodes_values', a.values),
      ints('nodes_truenodeids', a.trueIds),
      ints('nodes_falsenodeids', a.falseIds),
      ints('nodes_missing_value_tracks_true', a.missingTrue),
      ints('target_treeids', t.treeIds),
      ints('target_nodeids', t.nodeIds),
      ints('target_ids', t.ids),
      floats('target_weights', t.weights),
    ],
  };
  return model('gbdt', task, columns, [node], [], true, last);
}
