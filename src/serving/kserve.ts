/**
 * KServe v2 / Open Inference Protocol over HTTP+JSON, with the binary tensor extension
 * (https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/ and Triton's
 * binary_tensor_data extension): JSON requests and answers, or a JSON header of
 * `Inference-Header-Content-Length` bytes followed by raw tensor bytes.
 *
 * Tensor models take the named inputs as they are. Dataframe models take one input per column:
 * an input named like a request field of the plan is that field (and, like every input, an entity key).
 */
import { FrescoError } from '../errors/index.js';
import type { Dtype } from '../models/index.js';
import type { LoadedModel, PredictResult } from './loaded-model.js';
import { dtypeInfo, type NumericArray } from './protocol/dtypes.js';
import type { PredictRequestMsg, RowMsg, Scalar, TensorMsg } from './protocol/messages.js';
import { checkJsonBounds, INFER_LIMITS } from './json-limits.js';
import { withRequestId } from './request-guards.js';
import { contractMetadata } from './dataframe-contract.js';
import { featureStatusParameters } from './feature-status.js';

export const TO_KSERVE: Record<Dtype, string> = {
  bool: 'BOOL', uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64', int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  float16: 'FP16', float32: 'FP32', float64: 'FP64', string: 'BYTES',
};
export const FROM_KSERVE = new Map(Object.entries(TO_KSERVE).map(([k, v]) => [v, k as Dtype]));

const bad = (message: string) => new FrescoError('FRESCO_ERR_INPUT_INVALID', message);
const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

interface KInput {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  data?: unknown;
  parameters?: { binary_data_size?: unknown };
}

interface KRequest {
  id?: unknown;
  inputs?: unknown;
  outputs?: { name?: unknown; parameters?: { binary_data?: unknown } }[];
  parameters?: { binary_data_output?: unknown };
}

export interface KserveCall {
  request: PredictRequestMsg;
  kserveId: string | undefined;
  /** Outputs to return as binary (the extension), by name; `true`: all. */
  binary: Set<string> | true;
}

/** Parses a KServe v2 infer body (JSON, or JSON header + binary tensors) into a request. */
export function parseInfer(body: Uint8Array, headerLength: string | undefined, ref: string, model: LoadedModel): KserveCall {
  let jsonBytes = body;
  let binary: Uint8Array = new Uint8Array(0);
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!Number.isInteger(n) || n < 0 || n > body.byteLength) throw bad(`Inference-Header-Content-Length ${headerLength} is not a length within the ${body.byteLength}-byte body`);
    jsonBytes = body.subarray(0, n);
    binary = body.subarray(n);
  }
  // Depth, values and bytes bounded before JSON.parse holds the event loop (json-limits.ts).
  checkJsonBounds(jsonBytes, INFER_LIMITS, 'the infer request');
  let k: KRequest;
  try {
    k = JSON.parse(utf8.decode(jsonBytes)) as KRequest;
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_FRAME_INVALID', `the infer request is not valid JSON: ${(error as Error).message}`);
  }
  // From here on an error carries the request's `id` (the HTTP answer echoes it).
  const kserveId = k !== null && typeof k === 'object' && typeof k.id === 'string' ? k.id : undefined;
  try {
    return parseRequest(k, binary, kserveId, ref, model);
  } catch (error) {
    throw withRequestId(error, kserveId);
  }
}

function parseRequest(k: KRequest, binary: Uint8Array, kserveId: string | undefined, ref: string, model: LoadedModel): KserveCall {
  if (k === null || typeof k !== 'object' || !Array.isArray(k.inputs)) throw bad('the infer request needs an "inputs" array');
  if (k.outputs !== undefined && !Array.isArray(k.outputs)) throw bad('"outputs" must be a list of {"name": ...} objects');
  let at = 0;
  const tensors: TensorMsg[] = [];
  for (const [i, raw] of (k.inputs as KInput[]).entries()) {
    if (raw === null || typeof raw !== 'object') throw bad(`inputs[${i}] is not an object`);
    const { name, dtype, shape, count } = inputHeader(i, raw.name, raw.datatype, raw.shape);
    const size = raw.parameters?.binary_data_size;
    let tensor: TensorMsg;
    if (size !== undefined) {
      if (!Number.isInteger(size) || (size as number) < 0 || at + (size as number) > binary.byteLength) throw bad(`input "${name}": binary_data_size ${String(size)} runs past the end of the body`);
      const bytes = binary.slice(at, at + (size as number));
      at += size as number;
      tensor = fromBinary(name, dtype, shape, count, bytes);
    } else {
      tensor = fromJson(name, dtype, shape, count, raw.data);
    }
    tensors.push(tensor);
  }
  let binaryOut: Set<string> | true = new Set();
  if (k.parameters?.binary_data_output === true) binaryOut = true;
  const outputs: string[] = [];
  for (const o of k.outputs ?? []) {
    if (typeof o?.name !== 'string') throw bad('each of "outputs" needs a "name"');
    outputs.push(o.name);
    if (o.parameters?.binary_data === true && binaryOut !== true) binaryOut.add(o.name);
  }
  return { request: requestFromTensors(tensors, outputs, ref, model), kserveId, binary: binaryOut };
}

/** Input i's name, datatype and shape, checked: shared by every KServe transport (JSON, binary, gRPC). */
export function inputHeader(i: number, name: unknown, datatype: unknown, shape: unknown): { name: string; dtype: Dtype; shape: number[]; count: number } {
  if (typeof name !== 'string' || !name) throw bad(`inputs[${i}] needs a "name"`);
  const dtype = typeof datatype === 'string' ? FROM_KSERVE.get(datatype) : undefined;
  if (!dtype) throw bad(`input "${name}": unknown datatype ${JSON.stringify(datatype)}; expected one of ${[...FROM_KSERVE.keys()].join(', ')}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`input "${name}": "shape" must be a list of non-negative integers`);
  return { name, dtype, shape: shape as number[], count: (shape as number[]).reduce((a, b) => a * b, 1) };
}

/**
 * The request for `ref` from converted KServe inputs, whatever the transport (HTTP here, gRPC in
 * grpc/): a tensor model takes them as they are, a dataframe model as columns. Checks that hold
 * for every transport belong here.
 */
export function requestFromTensors(tensors: TensorMsg[], outputs: string[], ref: string, model: LoadedModel): PredictRequestMsg {
  // Two inputs of one name: which one would the model get? Refused rather than guessed.
  const names = new Set<string>();
  for (const [i, t] of tensors.entries()) {
    if (names.has(t.name)) throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `input "${t.name}" appears twice in the inputs (inputs[${i}]); send each input once`, { location: { key: t.name } });
    names.add(t.name);
  }
  checkKnownInputs(names, model);
  const base = { type: 'predict_request' as const, id: 0, model: ref, timeoutUs: 0, outputs };
  if (model.inputKind === 'tensor') return { ...base, rows: [], tensors };
  return { ...base, rows: columnsToRows(tensors, model), tensors: [] };
}

/**
 * The input names a caller of `model` sends: a tensor model's signature inputs, a dataframe
 * model's entity keys and request fields (the metadata's inputs, dataframe-contract.ts).
 * Undefined when they cannot be known: a dataframe model whose lookup does not name the keys of
 * every table it reads (a custom FeatureLookup without describe()).
 */
export function callerInputs(model: LoadedModel): string[] | undefined {
  if (model.inputKind === 'tensor') return model.pkg.manifest.signature.inputs.map((t) => t.name);
  const c = model.contract;
  if (!c || c.tables.some((t) => !t.keys.length)) return undefined;
  return contractMetadata(c).inputs.map((i) => i.name);
}

/**
 * An input the model does not have is refused (as Triton does) rather than ignored: a misspelt
 * name would otherwise reach the model as a missing input or, for a dataframe model, as a key or
 * field the row silently lacks.
 */
function checkKnownInputs(names: Set<string>, model: LoadedModel): void {
  const expected = callerInputs(model);
  if (!expected) return;
  for (const name of names) {
    if (expected.includes(name)) continue;
    throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `unexpected input "${name}": ${model.name}@${model.version} takes ${expected.map((n) => `"${n}"`).join(', ')}`, { location: { key: name } });
  }
}

/** A tensor from raw little-endian bytes (the binary extension, gRPC raw contents); BYTES: 4-byte length + bytes per element. */
export function fromBinary(name: string, dtype: Dtype, shape: number[], count: number, bytes: Uint8Array): TensorMsg {
  if (dtype === 'string') {
    const strings: string[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let p = 0;
    while (p < bytes.byteLength) {
      if (p + 4 > bytes.byteLength) throw bad(`input "${name}": truncated BYTES element`);
      const n = view.getUint32(p, true);
      if (p + 4 + n > bytes.byteLength) throw bad(`input "${name}": truncated BYTES element`);
      strings.push(new TextDecoder().decode(bytes.subarray(p + 4, p + 4 + n)));
      p += 4 + n;
    }
    if (strings.length !== count) throw bad(`input "${name}": shape [${shape.join(', ')}] needs ${count} elements, got ${strings.length}`);
    return { name, dtype, shape, data: new Uint8Array(0), strings };
  }
  const info = dtypeInfo(dtype)!;
  if (bytes.byteLength !== count * info.size) throw bad(`input "${name}": shape [${shape.join(', ')}] of ${TO_KSERVE[dtype]} needs ${count * info.size} bytes, got ${bytes.byteLength}`);
  return { name, dtype, shape, data: new info.array(bytes.buffer, bytes.byteOffset, count) };
}

/** A tensor from a (nested) list of values (KServe JSON `data`, gRPC typed contents). */
export function fromJson(name: string, dtype: Dtype, shape: number[], count: number, data: unknown): TensorMsg {
  if (!Array.isArray(data)) throw bad(`input "${name}" needs "data" (a list) or binary data`);
  const flat = (data as unknown[]).flat(Infinity as 1);
  if (flat.length !== count) throw bad(`input "${name}": shape [${shape.join(', ')}] needs ${count} elements, got ${flat.length}`);
  if (dtype === 'string') {
    if (!flat.every((v) => typeof v === 'string')) throw bad(`input "${name}": BYTES data must be strings`);
    return { name, dtype, shape, data: new Uint8Array(0), strings: flat as string[] };
  }
  if (dtype === 'float16') throw bad(`input "${name}": FP16 is accepted as binary data only`);
  const info = dtypeInfo(dtype)!;
  const out = new info.array(count);
  const big = dtype === 'int64' || dtype === 'uint64';
  for (let i = 0; i < count; i++) {
    const v = flat[i];
    // JSON has no NaN or infinities: they travel as the strings "NaN", "Infinity", "-Infinity" (jsonData).
    const n = typeof v === 'boolean' ? Number(v) : typeof v === 'string' && (dtype === 'float32' || dtype === 'float64') ? (NON_FINITE_IN.get(v) ?? v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) && !(dtype === 'float32' || dtype === 'float64')) throw bad(`input "${name}": element ${i} is not a number`);
    (out as unknown as (number | bigint)[])[i] = big ? BigInt(Math.trunc(n as number)) : (n as number);
  }
  return { name, dtype, shape, data: out };
}

function columnsToRows(columns: TensorMsg[], model: LoadedModel): RowMsg[] {
  const fields = new Set((model.pkg.plan?.inputs ?? []).map((i) => (i.name.startsWith('request.') ? i.name.slice(8) : i.name)));
  let rows = -1;
  for (const c of columns) {
    const n = c.shape[0] ?? 1;
    if (c.shape.slice(1).some((d) => d !== 1)) throw bad(`input "${c.name}": a dataframe column has shape [rows] or [rows, 1]`);
    if (rows >= 0 && n !== rows) throw bad(`input "${c.name}" has ${n} rows, another input has ${rows}`);
    rows = n;
  }
  const out: RowMsg[] = [];
  for (let r = 0; r < Math.max(rows, 0); r++) {
    const row: RowMsg = { keys: {}, fields: {} };
    for (const c of columns) {
      let v: Scalar;
      if (c.strings) v = c.strings[r] ?? null;
      else {
        const x = c.data[r] as number | bigint;
        v = c.dtype === 'bool' ? x !== 0 : Number(x);
      }
      // Every column may be an entity key (`origin` is both a request field and the key of the
      // origin tables); keys that no table joins on are ignored.
      row.keys[c.name] = v;
      if (fields.has(c.name)) row.fields[c.name] = v;
    }
    out.push(row);
  }
  return out;
}

/** The infer answer: JSON, or JSON header + binary outputs when asked. */
export function inferResponse(result: PredictResult, call: KserveCall): { body: Uint8Array | string; headers: Record<string, string>; contentType: string } {
  const blobs: Uint8Array[] = [];
  const outputs = result.outputs.map((t) => {
    const base = { name: t.name, datatype: TO_KSERVE[t.dtype], shape: t.shape };
    if (call.binary === true || call.binary.has(t.name)) {
      const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      blobs.push(bytes);
      return { ...base, parameters: { binary_data_size: bytes.byteLength } };
    }
    return { ...base, data: jsonData(t) };
  });
  const parameters = responseParameters(result);
  const json = JSON.stringify({
    model_name: result.model,
    model_version: String(result.version),
    ...(call.kserveId === undefined ? {} : { id: call.kserveId }),
    ...(parameters ? { parameters } : {}),
    outputs,
  });
  if (!blobs.length) return { body: json, headers: {}, contentType: 'application/json' };
  const header = encoder.encode(json);
  const all = new Uint8Array(header.byteLength + blobs.reduce((a, b) => a + b.byteLength, 0));
  all.set(header, 0);
  let at = header.byteLength;
  for (const b of blobs) {
    all.set(b, at);
    at += b.byteLength;
  }
  return { body: all, headers: { 'inference-header-content-length': String(header.byteLength) }, contentType: 'application/octet-stream' };
}

/**
 * The infer answer's `parameters`, the same over HTTP and gRPC; undefined when none: per-row
 * errors (`row_errors`) and, for every dataframe answer, the rows' feature status
 * (`feature_status`, `feature_details`: feature-status.ts).
 */
export function responseParameters(result: PredictResult): Record<string, string | number | boolean> | undefined {
  const rowErrors = result.rowErrors?.map((e) => (e ? { code: e.code, message: e.message } : null));
  if (!rowErrors && !result.featureStatus) return undefined;
  return { ...(rowErrors ? { row_errors: JSON.stringify(rowErrors) } : {}), ...featureStatusParameters(result.featureStatus) };
}

/**
 * JSON has no NaN or infinities (JSON.stringify would write null, and Triton writes bare `NaN`
 * tokens that strict parsers refuse), so a non-finite float output is written as the string
 * "NaN", "Infinity" or "-Infinity": valid JSON, told apart from a missing value, and turned back
 * into the float by tritonclient's `as_numpy` (numpy parses those strings). The binary tensor
 * extension carries the IEEE values as they are. docs/serving.md, "KServe v2".
 */
function jsonData(t: TensorMsg): (number | boolean | string)[] {
  if (t.strings) return t.strings;
  const data = t.data as NumericArray;
  const out: (number | boolean | string)[] = new Array(data.length);
  const float = t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16';
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    out[i] = t.dtype === 'bool' ? v !== 0 : float && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v;
  }
  return out;
}

/** The strings a JSON float input may use for the values JSON cannot write (jsonData). */
const NON_FINITE_IN = new Map([['NaN', Number.NaN], ['Infinity', Number.POSITIVE_INFINITY], ['-Infinity', Number.NEGATIVE_INFINITY]]);

/**
 * Model metadata, KServe v2 form (also Triton's config and gRPC's ModelMetadata). A dataframe
 * model's inputs are what a caller sends: its entity keys and request fields, one column each
 * (dataframe-contract.ts); `parameters` names which is which and the features looked up.
 */
export function modelMetadata(model: LoadedModel, versions: number[]): Record<string, unknown> {
  const m = model.pkg.manifest;
  const spec = (t: { name: string; dtype: Dtype; shape: (number | string | null)[] }) => ({ name: t.name, datatype: TO_KSERVE[t.dtype], shape: t.shape.map((d) => (typeof d === 'number' ? d : -1)) });
  const dataframe = m.input_kind === 'dataframe' && model.contract ? contractMetadata(model.contract) : undefined;
  return {
    name: model.name,
    versions: versions.map(String),
    platform: 'onnxruntime_onnx',
    inputs: dataframe ? dataframe.inputs : m.signature.inputs.map(spec),
    outputs: m.signature.outputs.map(spec),
    parameters: {
      fresco_version: model.version,
      input_kind: m.input_kind,
      execution_provider: model.provider,
      state: model.state,
      ...(dataframe ? { ...dataframe.parameters, missing_features: model.settings.missingFeatures } : {}),
    },
  };
}
