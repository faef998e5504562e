/**
 * Reads an ONNX model's declared graph inputs and outputs (names, element types, shapes) by
 * decoding its protobuf with onnx-proto, and compares them with a manifest's signature. Decoding
 * the protobuf rather than opening an InferenceSession keeps registration free of ONNX Runtime's
 * session create/release leak (design.md) and of any model execution.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { FrescoError } from '../errors/index.js';
import type { Dimension, Dtype, TensorSpec } from './manifest.js';
import { checkRelativePath } from './paths.js';

const { onnx } = onnxProto;

/** ONNX TensorProto.DataType -> the manifest's dtype names. */
const ELEMENT_TYPES: Record<number, Dtype> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64',
  8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
};

export interface OnnxSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Files the model's initializers keep their data in (ONNX external data), package-relative. */
  externalData: string[];
}

type ValueInfo = InstanceType<typeof onnx.ValueInfoProto>;
type Dim = InstanceType<typeof onnx.TensorShapeProto.Dimension>;

function toSpec(file: string, value: ValueInfo): TensorSpec {
  const tensor = value.type?.tensorType;
  const dtype = tensor?.elemType ? ELEMENT_TYPES[tensor.elemType] : undefined;
  if (!tensor || !dtype) {
    throw new FrescoError('FRESCO_ERR_SIGNATURE_MISMATCH', `${file}: graph value "${value.name}" is not a tensor of a supported element type`, { location: { file } });
  }
  // `value` is protobufjs's oneof discriminator: which of dim_value / dim_param is set, if any.
  const shape: Dimension[] = ((tensor.shape?.dim ?? []) as Dim[]).map((d) => {
    if (d.value === 'dimValue') return Number(d.dimValue);
    if (d.dimParam) return d.dimParam;
    return null;
  });
  return { name: value.name, dtype, shape };
}

/** Decodes `file` (an ONNX model) and returns its real graph inputs (initializers excluded) and outputs. */
export function readOnnxSignature(file: string, shownAs = file): OnnxSignature {
  let model;
  try {
    model = onnx.ModelProto.decode(readFileSync(file));
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${shownAs}: not a valid ONNX model: ${(error as Error).message}`, { location: { file: shownAs }, cause: error });
  }
  const graph = model.graph;
  if (!graph) throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${shownAs}: ONNX model has no graph`, { location: { file: shownAs } });
  const initializer = graph.initializer ?? [];
  const initializers = new Set(initializer.map((t) => t.name));
  const externalData: string[] = [];
  for (const tensor of initializer) {
    for (const entry of tensor.externalData ?? []) {
      if (entry.key === 'location' && entry.value) externalData.push(checkRelativePath(entry.value, `${shownAs} (external data of "${tensor.name}": ${entry.value})`));
    }
  }
  return {
    inputs: ((graph.input ?? []) as ValueInfo[]).filter((v) => !initializers.has(v.name)).map((v) => toSpec(shownAs, v)),
    outputs: ((graph.output ?? []) as ValueInfo[]).map((v) => toSpec(shownAs, v)),
    externalData,
  };
}

const isDynamic = (d: Dimension) => d === null || typeof d === 'string';
const showShape = (shape: Dimension[]) => `[${shape.map((d) => (d === null ? '?' : typeof d === 'string' ? d : String(d))).join(', ')}]`;

/**
 * Compares declared with actual tensors, by name. A fixed dimension must match exactly; a
 * dynamic one (null or a symbolic name) must be dynamic in the model too, whatever its name.
 * Returns every difference, so one error can list them all.
 */
export function signatureDifferences(kind: 'input' | 'output', declared: TensorSpec[], actual: TensorSpec[]): string[] {
  const problems: string[] = [];
  const actualByName = new Map(actual.map((t) => [t.name, t]));
  const declaredNames = new Set(declared.map((t) => t.name));
  for (const d of declared) {
    const a = actualByName.get(d.name);
    if (!a) {
      problems.push(`declared ${kind} "${d.name}" is not a graph ${kind} (the model has ${actual.map((t) => `"${t.name}"`).join(', ') || 'none'})`);
      continue;
    }
    if (a.dtype !== d.dtype) problems.push(`${kind} "${d.name}" is ${a.dtype} in the model, declared ${d.dtype}`);
    const same = a.shape.length === d.shape.length && a.shape.every((dim, i) => (isDynamic(dim) ? isDynamic(d.shape[i] as Dimension) : dim === d.shape[i]));
    if (!same) problems.push(`${kind} "${d.name}" has shape ${showShape(a.shape)} in the model, declared ${showShape(d.shape)}`);
  }
  for (const a of actual) if (!declaredNames.has(a.name)) problems.push(`graph ${kind} "${a.name}" is not declared in the signature`);
  return problems;
}

/** Throws FRESCO_ERR_SIGNATURE_MISMATCH naming the model file and every difference. */
export function checkOnnxSignature(file: string, shownAs: string, declared: { inputs: TensorSpec[]; outputs: TensorSpec[] }): OnnxSignature {
  const actual = readOnnxSignature(file, shownAs);
  const problems = [...signatureDifferences('input', declared.inputs, actual.inputs), ...signatureDifferences('output', declared.outputs, actual.outputs)];
  if (problems.length) {
    throw new FrescoError('FRESCO_ERR_SIGNATURE_MISMATCH', `${shownAs}: the model does not match the declared signature: ${problems.join('; ')}`, { location: { file: shownAs } });
  }
  return actual;
}
