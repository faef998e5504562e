/**
 * Encoding and decoding Fresco frames. decodeFrame verifies the frame's structure first
 * (verify.ts), then checks every value: protocol major version, known enums, valid UTF-8,
 * tensor shapes that match their data, no duplicate names. Anything wrong is a FrescoError
 * FRESCO_ERR_FRAME_INVALID naming what and where, with the request id when it could be read.
 */
import * as flatbuffers from 'flatbuffers';
import { FrescoError } from '../../errors/index.js';
import { dtypeFromWire, dtypeInfo, type NumericArray } from './dtypes.js';
import {
  Body, Error as ErrorT, FeatureDetail, Frame, PredictRequest, PredictResponse, Row, RowStatus, Status, Tensor, Value, ValueKind,
} from './fresco-generated.js';
import {
  type ErrorMsg, FEATURE_STATES, type FeatureDetailMsg, type Message, PROTOCOL_MAJOR, PROTOCOL_MINOR, type PredictRequestMsg, type PredictResponseMsg, type RowMsg,
  type RowStatusMsg, type Scalar, type StatusName, type TensorMsg,
} from './messages.js';
import { FrameVerifyError, verifyFrame } from './verify.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Elements per tensor at most (2^31 - 1): larger shapes are refused before any allocation. */
const MAX_ELEMENTS = 0x7fff_ffff;

const STATUS_NAMES = Object.keys(Status).filter((k) => Number.isNaN(Number(k))) as StatusName[];
export function statusName(value: number): StatusName | undefined {
  return (Status as unknown as Record<number, StatusName>)[value];
}
export function statusValue(name: StatusName): Status {
  return (Status as unknown as Record<StatusName, Status>)[name];
}
export { STATUS_NAMES };

class Invalid extends Error {}
const invalid = (message: string): never => {
  throw new Invalid(message);
};

let lastModelBytes = new Uint8Array(0);
let lastModel = '';

/** The request's model ref: the same in most frames, so the last one is kept and reused when the bytes match. */
function modelRef(bytes: Uint8Array | string | null): string {
  if (bytes instanceof Uint8Array && bytes.length === lastModelBytes.length) {
    let same = true;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== lastModelBytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastModel;
  }
  const model = str(bytes, 'model');
  if (bytes instanceof Uint8Array && bytes.length <= 256) {
    lastModelBytes = bytes.slice();
    lastModel = model;
  }
  return model;
}

function str(bytes: Uint8Array | string | null, what: string): string {
  if (bytes === null) return '';
  if (typeof bytes === 'string') return bytes;
  // Names, keys and short values are mostly ASCII: no decoder call for them.
  const n = bytes.length;
  if (n <= 64) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if ((bytes[i] as number) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return invalid(`${what} is not valid UTF-8`);
  }
}

const RAW = flatbuffers.Encoding.UTF8_BYTES;

/** Whether tensor data may stay a view over the frame (the caller owns the frame's memory). */
let viewTensors = false;

function readTensor(t: Tensor, what: string): TensorMsg {
  const name = str(t.name(RAW), `${what} name`);
  if (!name) invalid(`${what} has no name`);
  const info = dtypeFromWire(t.dtype());
  if (!info) return invalid(`${what} "${name}": unknown dtype ${t.dtype()}`);
  const shape: number[] = [];
  let count = 1;
  const rank = t.shapeLength();
  // The int64 dimensions read as two int32 halves (a BigInt per dimension showed in the profile):
  // a valid dimension has a zero high half and a non-negative low half.
  const bb = t.bb as flatbuffers.ByteBuffer;
  const dims = rank ? bb.__vector(t.bb_pos + bb.__offset(t.bb_pos, 8)) : 0;
  for (let i = 0; i < rank; i++) {
    const low = bb.readInt32(dims + i * 8);
    if (low < 0 || bb.readInt32(dims + i * 8 + 4) !== 0) invalid(`${what} "${name}": dimension ${i} is ${t.shape(i)}; expected 0 to ${MAX_ELEMENTS}`);
    shape.push(low);
    count *= low;
    if (count > MAX_ELEMENTS) invalid(`${what} "${name}": shape [${shape.join(', ')}...] has more than ${MAX_ELEMENTS} elements`);
  }
  if (info.name === 'string') {
    if (t.dataLength() !== 0) invalid(`${what} "${name}": a string tensor carries its values in "strings", not "data"`);
    if (t.stringsLength() !== count) invalid(`${what} "${name}": shape [${shape.join(', ')}] needs ${count} strings, got ${t.stringsLength()}`);
    const strings: string[] = [];
    for (let i = 0; i < count; i++) strings.push(str(t.strings(i, RAW), `${what} "${name}" string ${i}`));
    return { name, dtype: 'string', shape, data: new Uint8Array(0), strings };
  }
  const bytes = t.dataArray() ?? new Uint8Array(0);
  if (bytes.byteLength !== count * info.size) {
    invalid(`${what} "${name}": shape [${shape.join(', ')}] of ${info.name} needs ${count * info.size} bytes of data, got ${bytes.byteLength}`);
  }
  if (t.stringsLength() !== 0) invalid(`${what} "${name}": only string tensors carry "strings"`);
  // A view over the frame when its owner allows it and the data is aligned for its type (a
  // FlatBuffers byte vector is only 4-byte aligned); otherwise a copy into an aligned buffer.
  if (viewTensors && (bytes.byteOffset % (info.size || 1)) === 0) return { name, dtype: info.name, shape, data: new info.array(bytes.buffer, bytes.byteOffset, count) };
  const copy = bytes.slice();
  return { name, dtype: info.name, shape, data: new info.array(copy.buffer, 0, count) };
}

function readValues(row: Row, which: 'keys' | 'fields', what: string): Record<string, Scalar> {
  const out: Record<string, Scalar> = Object.create(null);
  const n = which === 'keys' ? row.keysLength() : row.fieldsLength();
  const v = new Value();
  for (let i = 0; i < n; i++) {
    (which === 'keys' ? row.keys(i, v) : row.fields(i, v)) as Value;
    const name = str(v.name(RAW), `${what} ${which}[${i}] name`);
    if (!name) invalid(`${what} ${which}[${i}] has no name`);
    if (Object.hasOwn(out, name)) invalid(`${what}: ${which === 'keys' ? 'entity key' : 'field'} "${name}" appears twice`);
    switch (v.kind()) {
      case ValueKind.NULL:
        out[name] = null;
        break;
      case ValueKind.NUMBER:
        out[name] = v.number();
        break;
      case ValueKind.STRING:
        out[name] = str(v.text(RAW), `${what} "${name}"`);
        break;
      case ValueKind.BOOL:
        out[name] = v.number() !== 0;
        break;
      default:
        invalid(`${what} "${name}": unknown value kind ${v.kind()}`);
    }
  }
  return out;
}

function readRequest(r: PredictRequest, id: number): PredictRequestMsg {
  const model = modelRef(r.model(RAW));
  if (!model) invalid('the request names no model');
  const rows: RowMsg[] = [];
  const nRows = r.rowsLength();
  if (nRows) {
    const row = new Row();
    for (let i = 0; i < nRows; i++) {
      r.rows(i, row);
      rows.push({ keys: readValues(row, 'keys', `row ${i}`), fields: readValues(row, 'fields', `row ${i}`) });
    }
  }
  const tensors: TensorMsg[] = [];
  const nTensors = r.tensorsLength();
  if (nTensors) {
    const t = new Tensor();
    // Duplicate names: a scan for the usual one or few tensors, a Set past that (linear in the frame).
    const seen = nTensors > 8 ? new Set<string>() : undefined;
    for (let i = 0; i < nTensors; i++) {
      const tensor = readTensor(r.tensors(i, t) as Tensor, `tensor ${i}`);
      if (seen ? seen.has(tensor.name) : tensors.some((other) => other.name === tensor.name)) invalid(`tensor "${tensor.name}" appears twice`);
      seen?.add(tensor.name);
      tensors.push(tensor);
    }
  }
  if (rows.length > 0 && tensors.length > 0) invalid('a request carries either rows (dataframe models) or tensors (tensor models), not both');
  const outputs: string[] = [];
  const nOutputs = r.outputsLength();
  for (let i = 0; i < nOutputs; i++) outputs.push(str(r.outputs(i, RAW), `outputs[${i}]`));
  return { type: 'predict_request', id, model, rows, tensors, timeoutUs: r.timeoutUs(), outputs };
}

function readResponse(r: PredictResponse, id: number): PredictResponseMsg {
  const outputs: TensorMsg[] = [];
  const t = new Tensor();
  for (let i = 0; i < r.outputsLength(); i++) outputs.push(readTensor(r.outputs(i, t) as Tensor, `output ${i}`));
  const rowStatus: RowStatusMsg[] = [];
  const s = new RowStatus();
  for (let i = 0; i < r.rowStatusLength(); i++) {
    r.rowStatus(i, s);
    const status = statusName(s.status()) ?? invalid(`row_status ${i}: unknown status ${s.status()}`);
    rowStatus.push({ status, code: str(s.code(RAW), 'code'), message: str(s.message(RAW), 'message') });
  }
  // A copy: the frame's memory may be reused once decoded.
  const featureStatus = (r.featureStatusArray() ?? new Uint8Array(0)).slice();
  for (let i = 0; i < featureStatus.length; i++) if ((featureStatus[i] as number) >= FEATURE_STATES.length) invalid(`feature_status ${i}: unknown feature state ${featureStatus[i]}`);
  const featureDetails: FeatureDetailMsg[] = [];
  const d = new FeatureDetail();
  for (let i = 0; i < r.featureDetailsLength(); i++) {
    r.featureDetails(i, d);
    if (d.state() >= FEATURE_STATES.length) invalid(`feature_details ${i}: unknown feature state ${d.state()}`);
    featureDetails.push({ row: d.row(), table: str(d.table(RAW), 'feature_details table'), state: d.state() });
  }
  const msg: PredictResponseMsg = { type: 'predict_response', id, model: str(r.model(RAW), 'model'), version: r.version(), outputs, rowStatus };
  // Present only when sent (a dataframe answer; a 1.0 server sends neither).
  if (featureStatus.length) msg.featureStatus = featureStatus;
  if (featureDetails.length) msg.featureDetails = featureDetails;
  return msg;
}

function frameId(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) invalid(`request id ${value} is above 2^53 - 1`);
  return Number(value);
}

/**
 * Decodes and validates one frame. Throws FrescoError FRESCO_ERR_FRAME_INVALID (with
 * `location.requestId` once the id is known) for anything malformed. Tensor data is copied out of
 * the frame unless `options.owned` says the caller owns `bytes` and will not change or reuse them:
 * then aligned tensors are views over the frame (no copy).
 */
export function decodeFrame(bytes: Uint8Array, options: { owned?: boolean } = {}): Message {
  let id: number | undefined;
  viewTensors = options.owned === true;
  try {
    verifyFrame(bytes);
    const frame = Frame.getRootAsFrame(new flatbuffers.ByteBuffer(bytes));
    const major = frame.major();
    switch (frame.bodyType()) {
      case Body.PredictRequest: {
        const body = frame.body(new PredictRequest()) as PredictRequest;
        id = frameId(body.id());
        checkMajor(major);
        return readRequest(body, id);
      }
      case Body.PredictResponse: {
        const body = frame.body(new PredictResponse()) as PredictResponse;
        id = frameId(body.id());
        checkMajor(major);
        return readResponse(body, id);
      }
      case Body.Error: {
        const body = frame.body(new ErrorT()) as ErrorT;
        id = frameId(body.id());
        checkMajor(major);
        const status = statusName(body.status()) ?? invalid(`unknown status ${body.status()}`);
        return { type: 'error', id, status, code: str(body.code(RAW), 'code'), message: str(body.message(RAW), 'message') };
      }
      default:
        return invalid('the frame has no body');
    }
  } catch (error) {
    if (error instanceof Invalid || error instanceof FrameVerifyError) {
      throw new FrescoError('FRESCO_ERR_FRAME_INVALID', `invalid frame: ${error.message}`, id === undefined ? {} : { location: { requestId: String(id) } });
    }
    // The verifier should make this unreachable; a reader that still trips is a malformed frame.
    if (error instanceof RangeError) throw new FrescoError('FRESCO_ERR_FRAME_INVALID', `invalid frame: ${error.message}`);
    throw error;
  }
}

function checkMajor(major: number): void {
  if (major !== PROTOCOL_MAJOR) invalid(`protocol version ${major}.x is not supported; this server speaks ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`);
}

/** UTF-8 of strings that recur in every answer (model, tensor and code names): encoded once. */
const utf8Cache = new Map<string, Uint8Array>();
const encoder = new TextEncoder();

function name(b: flatbuffers.Builder, s: string): flatbuffers.Offset {
  let bytes = utf8Cache.get(s);
  if (!bytes) {
    bytes = encoder.encode(s);
    // Bounded: names are few; anything beyond is encoded each time.
    if (utf8Cache.size < 1024) utf8Cache.set(s, bytes);
  }
  return b.createString(bytes);
}

function tensorBytes(t: TensorMsg): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function writeTensor(b: flatbuffers.Builder, t: TensorMsg): flatbuffers.Offset {
  const info = dtypeInfo(t.dtype);
  if (!info) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `tensor "${t.name}": unknown dtype "${t.dtype}"`);
  const tensorName = name(b, t.name);
  b.startVector(8, t.shape.length, 8);
  for (let i = t.shape.length - 1; i >= 0; i--) b.addInt64(BigInt(t.shape[i] as number));
  const shape = b.endVector();
  let data = 0;
  let strings = 0;
  if (info.name === 'string') strings = Tensor.createStringsVector(b, (t.strings ?? []).map((s) => b.createString(s)));
  else data = b.createByteVector(tensorBytes(t));
  Tensor.startTensor(b);
  Tensor.addName(b, tensorName);
  Tensor.addDtype(b, info.wire);
  Tensor.addShape(b, shape);
  if (data) Tensor.addData(b, data);
  if (strings) Tensor.addStrings(b, strings);
  return Tensor.endTensor(b);
}

function writeValue(b: flatbuffers.Builder, name: string, value: Scalar): flatbuffers.Offset {
  const n = b.createString(name);
  const text = typeof value === 'string' ? b.createString(value) : 0;
  Value.startValue(b);
  Value.addName(b, n);
  if (value === null || value === undefined) Value.addKind(b, ValueKind.NULL);
  else if (typeof value === 'number') {
    Value.addKind(b, ValueKind.NUMBER);
    Value.addNumber(b, value);
  } else if (typeof value === 'boolean') {
    Value.addKind(b, ValueKind.BOOL);
    Value.addNumber(b, value ? 1 : 0);
  } else {
    Value.addKind(b, ValueKind.STRING);
    Value.addText(b, text);
  }
  return Value.endValue(b);
}

function writeBody(b: flatbuffers.Builder, msg: Message): [Body, flatbuffers.Offset] {
  switch (msg.type) {
    case 'predict_request': {
      const model = b.createString(msg.model);
      const rows = msg.rows.map((row) => {
        const keys = Row.createKeysVector(b, Object.entries(row.keys).map(([k, v]) => writeValue(b, k, v)));
        const fields = Row.createFieldsVector(b, Object.entries(row.fields).map(([k, v]) => writeValue(b, k, v)));
        return Row.createRow(b, keys, fields);
      });
      const rowsVec = rows.length ? PredictRequest.createRowsVector(b, rows) : 0;
      const tensors = msg.tensors.length ? PredictRequest.createTensorsVector(b, msg.tensors.map((t) => writeTensor(b, t))) : 0;
      const outputs = msg.outputs.length ? PredictRequest.createOutputsVector(b, msg.outputs.map((o) => b.createString(o))) : 0;
      PredictRequest.startPredictRequest(b);
      PredictRequest.addId(b, BigInt(msg.id));
      PredictRequest.addModel(b, model);
      if (rowsVec) PredictRequest.addRows(b, rowsVec);
      if (tensors) PredictRequest.addTensors(b, tensors);
      PredictRequest.addTimeoutUs(b, msg.timeoutUs >>> 0);
      if (outputs) PredictRequest.addOutputs(b, outputs);
      return [Body.PredictRequest, PredictRequest.endPredictRequest(b)];
    }
    case 'predict_response': {
      const model = name(b, msg.model);
      const tensors: flatbuffers.Offset[] = [];
      for (const t of msg.outputs) tensors.push(writeTensor(b, t));
      const outputs = PredictResponse.createOutputsVector(b, tensors);
      const statuses = msg.rowStatus.length
        ? PredictResponse.createRowStatusVector(
            b,
            msg.rowStatus.map((s) => RowStatus.createRowStatus(b, statusValue(s.status), name(b, s.code), b.createString(s.message))),
          )
        : 0;
      const featureStatus = msg.featureStatus?.length ? b.createByteVector(msg.featureStatus) : 0;
      const featureDetails = msg.featureDetails?.length
        ? PredictResponse.createFeatureDetailsVector(b, msg.featureDetails.map((f) => FeatureDetail.createFeatureDetail(b, f.row, name(b, f.table), f.state)))
        : 0;
      PredictResponse.startPredictResponse(b);
      PredictResponse.addId(b, BigInt(msg.id));
      PredictResponse.addModel(b, model);
      PredictResponse.addVersion(b, msg.version);
      PredictResponse.addOutputs(b, outputs);
      if (statuses) PredictResponse.addRowStatus(b, statuses);
      if (featureStatus) PredictResponse.addFeatureStatus(b, featureStatus);
      if (featureDetails) PredictResponse.addFeatureDetails(b, featureDetails);
      return [Body.PredictResponse, PredictResponse.endPredictResponse(b)];
    }
    case 'error': {
      const code = b.createString(msg.code);
      const message = b.createString(msg.message);
      return [Body.Error, ErrorT.createError(b, BigInt(msg.id), statusValue(msg.status), code, message)];
    }
  }
}

const shared = new flatbuffers.Builder(1024);

/**
 * Answers of one model version with the same output names, dtypes and shapes differ only in
 * their id and their output bytes. So each such answer is built once with the builder (a
 * template), and later ones are that frame with the id and the data written in place: the
 * builder's per-field work (BigInt shape dimensions, vtable search) was a fifth of the event
 * loop's own work per request. Only answers without row statuses whose rows all had their
 * features present (the template carries that status vector of zeros); a few templates per model.
 */
interface ResponseTemplate {
  version: number;
  /** Rows of the feature status vector (0: none). */
  featureRows: number;
  outputs: { name: string; dtype: string; shape: number[]; bytes: number }[];
  frame: Uint8Array;
  view: DataView;
  idAt: number;
  dataAt: number[];
}

const TEMPLATES_PER_MODEL = 8;
const TEMPLATE_MAX_DATA = 16 << 10;
const templates = new Map<string, ResponseTemplate[]>();

function matches(t: ResponseTemplate, msg: PredictResponseMsg): boolean {
  if (t.version !== msg.version || t.outputs.length !== msg.outputs.length || t.featureRows !== (msg.featureStatus?.length ?? 0)) return false;
  for (let i = 0; i < t.outputs.length; i++) {
    const a = t.outputs[i]!;
    const b = msg.outputs[i]!;
    if (a.name !== b.name || a.dtype !== b.dtype || a.bytes !== b.data.byteLength || a.shape.length !== b.shape.length) return false;
    for (let d = 0; d < a.shape.length; d++) if (a.shape[d] !== b.shape[d]) return false;
  }
  return true;
}

function allPresent(status: Uint8Array | undefined): boolean {
  if (status) for (let i = 0; i < status.length; i++) if (status[i] !== 0) return false;
  return true;
}

function responseTemplate(msg: PredictResponseMsg): ResponseTemplate | undefined {
  if (msg.rowStatus.length || msg.featureDetails?.length || !allPresent(msg.featureStatus)) return undefined;
  let bytes = 0;
  for (const o of msg.outputs) {
    if (o.dtype === 'string') return undefined;
    bytes += o.data.byteLength;
  }
  // Small answers only: a template is kept, and large outputs gain little from one.
  if (bytes > TEMPLATE_MAX_DATA) return undefined;
  let list = templates.get(msg.model);
  if (list) for (const t of list) if (matches(t, msg)) return t;
  // Full (or too many models): this answer goes through the builder. Evicting instead would build
  // a template for every answer once more shapes than that rotate (varying row counts).
  if (list ? list.length >= TEMPLATES_PER_MODEL : templates.size >= 1024) return undefined;
  // Built with id 1 (a default 0 would leave the field out), then located with the reader.
  const b = new flatbuffers.Builder(256);
  const [type, body] = writeBody(b, { ...msg, id: 1 });
  Frame.finishFrameBuffer(b, Frame.createFrame(b, PROTOCOL_MAJOR, PROTOCOL_MINOR, type, body));
  const frame = b.asUint8Array().slice();
  const bb = new flatbuffers.ByteBuffer(frame);
  const response = Frame.getRootAsFrame(bb).body(new PredictResponse()) as PredictResponse;
  const idField = bb.__offset(response.bb_pos, 4);
  if (!idField || response.id() !== 1n || response.outputsLength() !== msg.outputs.length) return undefined;
  const dataAt: number[] = [];
  const t = new Tensor();
  for (let i = 0; i < msg.outputs.length; i++) {
    const data = (response.outputs(i, t) as Tensor).dataArray();
    if (!data || data.byteLength !== msg.outputs[i]!.data.byteLength) return undefined;
    dataAt.push(data.byteOffset - frame.byteOffset);
  }
  const template: ResponseTemplate = {
    version: msg.version,
    featureRows: msg.featureStatus?.length ?? 0,
    outputs: msg.outputs.map((o) => ({ name: o.name, dtype: o.dtype, shape: [...o.shape], bytes: o.data.byteLength })),
    frame,
    view: new DataView(frame.buffer, frame.byteOffset, frame.byteLength),
    idAt: response.bb_pos + idField,
    dataAt,
  };
  if (!list) templates.set(msg.model, (list = []));
  list.push(template);
  return template;
}

function fromTemplate(t: ResponseTemplate, msg: PredictResponseMsg): Uint8Array {
  t.view.setUint32(t.idAt, msg.id % 0x1_0000_0000, true);
  t.view.setUint32(t.idAt + 4, Math.floor(msg.id / 0x1_0000_0000), true);
  for (let i = 0; i < t.dataAt.length; i++) t.frame.set(tensorBytes(msg.outputs[i]!), t.dataAt[i]);
  return t.frame;
}

/**
 * Encodes one frame. The result is a fresh copy, safe to keep; pass `reuse: true` to get a view
 * into a shared builder instead (valid until the next encode: for handing straight to a socket).
 */
export function encodeFrame(msg: Message, options: { reuse?: boolean; major?: number; minor?: number } = {}): Uint8Array {
  if (msg.type === 'predict_response' && options.major === undefined && options.minor === undefined && Number.isSafeInteger(msg.id) && msg.id >= 0) {
    const template = responseTemplate(msg);
    if (template) {
      const frame = fromTemplate(template, msg);
      return options.reuse ? frame : frame.slice();
    }
  }
  const b = shared;
  b.clear();
  const [type, body] = writeBody(b, msg);
  Frame.finishFrameBuffer(b, Frame.createFrame(b, options.major ?? PROTOCOL_MAJOR, options.minor ?? PROTOCOL_MINOR, type, body));
  const view = b.asUint8Array();
  return options.reuse ? view : view.slice();
}

/** An error frame for a FrescoError-like value. */
export function errorMessage(id: number, status: StatusName, code: string, message: string): ErrorMsg {
  return { type: 'error', id, status, code, message };
}

export type { NumericArray };
