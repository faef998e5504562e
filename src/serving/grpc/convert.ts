/**
 * ModelInferRequest -> the transport-independent request, and a result -> ModelInferResponse.
 * The tensor checks and conversions are KServe HTTP's (kserve.ts): only the protobuf shapes
 * (typed `contents` or `raw_input_contents`, `InferParameter`) are handled here.
 */
import type { Dtype } from '../../models/index.js';
import { FrescoError } from '../../errors/index.js';
import { fromBinary, fromJson, inputHeader, requestFromTensors, responseParameters, TO_KSERVE } from '../kserve.js';
import type { LoadedModel, PredictResult } from '../loaded-model.js';
import type { PredictRequestMsg, TensorMsg } from '../protocol/messages.js';

/** An InferParameter (a oneof): proto-loader sets only the chosen field, plus `parameter_choice` naming it. */
export interface InferParameter {
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  double_param?: number;
  uint64_param?: number;
  parameter_choice?: string;
}

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: number[];
  uint_contents: number[];
  uint64_contents: number[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Uint8Array[];
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: { name: string; datatype: string; shape: number[]; parameters: Record<string, InferParameter>; contents: InferTensorContents | null }[];
  outputs: { name: string; parameters: Record<string, InferParameter> }[];
  raw_input_contents: Uint8Array[];
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  outputs: { name: string; datatype: string; shape: number[] }[];
  raw_output_contents: Uint8Array[];
}

const bad = (message: string) => new FrescoError('FRESCO_ERR_INPUT_INVALID', message);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The typed-contents field that carries each datatype (grpc_predict_v2.proto, InferTensorContents). */
const CONTENTS: Record<Dtype, keyof InferTensorContents | undefined> = {
  bool: 'bool_contents', int8: 'int_contents', int16: 'int_contents', int32: 'int_contents', int64: 'int64_contents',
  uint8: 'uint_contents', uint16: 'uint_contents', uint32: 'uint_contents', uint64: 'uint64_contents',
  float16: undefined, float32: 'fp32_contents', float64: 'fp64_contents', string: 'bytes_contents',
};

/** The request for `ref` (already routed to `model`) from a ModelInferRequest. */
export function requestFromGrpc(req: ModelInferRequest, ref: string, model: LoadedModel): PredictRequestMsg {
  const raw = req.raw_input_contents;
  if (raw.length && raw.length !== req.inputs.length) throw bad(`raw_input_contents has ${raw.length} entries for ${req.inputs.length} inputs: send one per input, in the order of "inputs"`);
  const tensors: TensorMsg[] = req.inputs.map((input, i) => {
    const { name, dtype, shape, count } = inputHeader(i, input.name, input.datatype, input.shape);
    if (raw.length) {
      if (input.contents && hasContents(input.contents)) throw bad(`input "${name}": both "contents" and raw_input_contents are set; use one`);
      // A copy: the message's bytes are unaligned views into the received buffer, and tensors
      // are typed arrays over their bytes.
      return fromBinary(name, dtype, shape, count, new Uint8Array(raw[i] as Uint8Array));
    }
    const field = CONTENTS[dtype];
    if (!field) throw bad(`input "${name}": ${TO_KSERVE[dtype]} is accepted as raw_input_contents only`);
    const values = input.contents?.[field] ?? [];
    return fromJson(name, dtype, shape, count, dtype === 'string' ? (values as Uint8Array[]).map((b, k) => decodeString(b, name, k)) : values);
  });
  return requestFromTensors(tensors, req.outputs.map((o) => o.name), ref, model);
}

function hasContents(c: InferTensorContents): boolean {
  for (const k in c) if (Array.isArray(c[k as keyof InferTensorContents]) && c[k as keyof InferTensorContents].length) return true;
  return false;
}

function decodeString(bytes: Uint8Array, name: string, k: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw bad(`input "${name}": element ${k} of bytes_contents is not UTF-8 text`);
  }
}

/** The answer with every output as raw_output_contents (as Triton answers, and tritonclient reads). */
export function responseToGrpc(result: PredictResult, id: string): ModelInferResponse {
  const params = responseParameters(result);
  return {
    model_name: result.model,
    model_version: String(result.version),
    id,
    parameters: params ? Object.fromEntries(Object.entries(params).map(([k, v]) => [k, inferParameter(v)])) : {},
    outputs: result.outputs.map((t) => ({ name: t.name, datatype: TO_KSERVE[t.dtype], shape: t.shape })),
    raw_output_contents: result.outputs.map(rawBytes),
  };
}

function inferParameter(v: string | number | boolean): InferParameter {
  if (typeof v === 'string') return { string_param: v };
  if (typeof v === 'boolean') return { bool_param: v };
  return Number.isInteger(v) ? { int64_param: v } : { double_param: v };
}

/** A tensor's raw bytes: its elements as they are (little-endian), BYTES as 4-byte length + UTF-8 each. */
function rawBytes(t: TensorMsg): Uint8Array {
  if (!t.strings) return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const parts = t.strings.map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.byteLength, at);
    out.set(p, at + 4);
    at += 4 + p.byteLength;
  }
  return out;
}
