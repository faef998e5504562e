/**
 * Reads an ONNX model's declared graph inputs and outputs (names, element types, shapes) and
 * compares them with a manifest's signature. Opening an InferenceSession would execute ONNX
 * Runtime (and leak, design.md); decoding the whole protobuf would read and copy every weight.
 * Instead the model is walked at the wire level (protobuf-file.ts): only the graph's inputs,
 * outputs and the initializers' names and external-data locations are read, and the tensors'
 * data is skipped by its length, so a 10 MB model costs a few small reads.
 */
import { FrescoError } from '../errors/index.js';
import type { Dimension, Dtype, TensorSpec } from './manifest.js';
import { checkRelativePath } from './paths.js';
import { ProtobufFile, type WireField, WireError } from './protobuf-file.js';

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

// Field numbers from onnx.proto (ONNX IR).
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const TENSOR_NAME = 8;
const TENSOR_EXTERNAL_DATA = 13;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const VALUE_NAME = 1;
const VALUE_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_TYPE_ELEM = 1;
const TENSOR_TYPE_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM_VALUE = 1;
const DIM_PARAM = 2;

/** A graph value as read from the file; `tensor` is absent unless its type is a tensor type. */
interface RawValue {
  name: string;
  tensor?: { elemType: number; shape: Dimension[] };
}

/**
 * Calls `visit` for each field of the embedded message `field`. As in protobufjs (which this
 * walker replaces), a non-repeated field given twice keeps its last value.
 */
function message(pb: ProtobufFile, field: WireField, visit: (f: WireField) => void): void {
  pb.expectLength(field);
  pb.fields(visit, field.start, field.end);
}

function readValueInfo(pb: ProtobufFile, field: WireField): RawValue {
  const value: RawValue = { name: '' };
  message(pb, field, (f) => {
    if (f.no === VALUE_NAME) value.name = pb.string(f);
    else if (f.no === VALUE_TYPE) {
      value.tensor = undefined;
      message(pb, f, (t) => {
        if (t.no !== TYPE_TENSOR) return;
        const tensor = { elemType: 0, shape: [] as Dimension[] };
        message(pb, t, (tt) => {
          if (tt.no === TENSOR_TYPE_ELEM) tensor.elemType = pb.int32(tt);
          else if (tt.no === TENSOR_TYPE_SHAPE) {
            tensor.shape = [];
            message(pb, tt, (s) => {
              if (s.no === SHAPE_DIM) tensor.shape.push(readDimension(pb, s));
            });
          }
        });
        value.tensor = tensor;
      });
    }
  });
  return value;
}

/** dim_value and dim_param are a oneof: the last one given wins; neither is a dynamic dimension. */
function readDimension(pb: ProtobufFile, field: WireField): Dimension {
  let dim: Dimension = null;
  message(pb, field, (f) => {
    if (f.no === DIM_VALUE) dim = pb.int64(f);
    else if (f.no === DIM_PARAM) dim = pb.string(f) || null;
  });
  return dim;
}

function readInitializer(pb: ProtobufFile, field: WireField): { name: string; locations: string[] } {
  let name = '';
  const locations: string[] = [];
  message(pb, field, (f) => {
    if (f.no === TENSOR_NAME) name = pb.string(f);
    else if (f.no === TENSOR_EXTERNAL_DATA) {
      let key = '';
      let value = '';
      message(pb, f, (e) => {
        if (e.no === ENTRY_KEY) key = pb.string(e);
        else if (e.no === ENTRY_VALUE) value = pb.string(e);
      });
      if (key === 'location' && value) locations.push(value);
    }
    // raw_data (9) and the typed data fields: skipped by length, never read.
  });
  return { name, locations };
}

function toSpec(file: string, value: RawValue): TensorSpec {
  const dtype = value.tensor?.elemType ? ELEMENT_TYPES[value.tensor.elemType] : undefined;
  if (!value.tensor || !dtype) {
    throw new FrescoError('FRESCO_ERR_SIGNATURE_MISMATCH', `${file}: graph value "${value.name}" is not a tensor of a supported element type`, { location: { file } });
  }
  return { name: value.name, dtype, shape: value.tensor.shape };
}

/** Reads `file` (an ONNX model) and returns its real graph inputs (initializers excluded) and outputs. */
export function readOnnxSignature(file: string, shownAs = file): OnnxSignature {
  const inputs: RawValue[] = [];
  const outputs: RawValue[] = [];
  const initializers: { name: string; locations: string[] }[] = [];
  let hasGraph = false;
  try {
    ProtobufFile.use(file, (pb) =>
      pb.fields((f) => {
        if (f.no !== MODEL_GRAPH) return;
        // A repeated graph field replaces the earlier one.
        hasGraph = true;
        inputs.length = 0;
        outputs.length = 0;
        initializers.length = 0;
        message(pb, f, (g) => {
          if (g.no === GRAPH_INITIALIZER) initializers.push(readInitializer(pb, g));
          else if (g.no === GRAPH_INPUT) inputs.push(readValueInfo(pb, g));
          else if (g.no === GRAPH_OUTPUT) outputs.push(readValueInfo(pb, g));
        });
      }),
    );
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
    throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${shownAs}: not a valid ONNX model: ${error.message}`, { location: { file: shownAs }, cause: error });
  }
  if (!hasGraph) throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${shownAs}: ONNX model has no graph`, { location: { file: shownAs } });
  const names = new Set(initializers.map((t) => t.name));
  const externalData: string[] = [];
  for (const tensor of initializers) {
    for (const location of tensor.locations) externalData.push(checkRelativePath(location, `${shownAs} (external data of "${tensor.name}": ${location})`));
  }
  return {
    inputs: inputs.filter((v) => !names.has(v.name)).map((v) => toSpec(shownAs, v)),
    outputs: outputs.map((v) => toSpec(shownAs, v)),
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
