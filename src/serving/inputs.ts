/**
 * Turning a request into a model's input bytes, with every check a request can fail: for tensor
 * models the named tensors against the signature (names, dtypes, ranks, fixed dimensions, one
 * batch size); for dataframe models each row's request fields and looked-up features, through
 * the frozen plan (natively, row by row) into float32 rows. Errors are FRESCO_ERR_INPUT_INVALID
 * naming the tensor, row, key or field.
 */
import { FrescoError } from '../errors/index.js';
import type { Manifest, TensorSpec } from '../models/index.js';
import { compilePlan, type CompiledPlan, type Plan } from '../plan/index.js';
import type { FeatureLookup } from './feature-lookup.js';
import { dtypeInfo } from './protocol/dtypes.js';
import type { PredictRequestMsg, Scalar, TensorMsg } from './protocol/messages.js';

/** A request ready for batching: its rows and, per model input, its contiguous bytes. */
export interface Prepared {
  rows: number;
  parts: Uint8Array[];
  /** Non-batch dimensions per input (for coalescing, they must be equal across a batch). */
  tails: number[][];
  /** Dataframe rows that failed (their features are NaN and their outputs are not to be used). */
  rowErrors: (FrescoError | undefined)[] | undefined;
}

const bad = (message: string, key?: string) => new FrescoError('FRESCO_ERR_INPUT_INVALID', message, key ? { location: { key } } : {});

export interface InputPreparer {
  prepare(request: PredictRequestMsg): Prepared | Promise<Prepared>;
  /** One warm-up row: zeros for tensor models, all-null inputs through the plan for dataframe models. */
  warmup(): Prepared;
}

export function inputPreparer(manifest: Manifest, plan: Plan | undefined, maxRows: number, lookup: FeatureLookup | undefined): InputPreparer {
  if (manifest.input_kind === 'dataframe') {
    if (!plan) throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `model "${manifest.name}" is a dataframe model without a plan`);
    return new DataframePreparer(manifest.name, plan, maxRows, lookup);
  }
  return new TensorPreparer(manifest.signature.inputs, maxRows);
}

class TensorPreparer implements InputPreparer {
  constructor(readonly specs: TensorSpec[], readonly maxRows: number) {
    for (const spec of specs) {
      if (spec.dtype === 'string') throw new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', `input "${spec.name}" is a string tensor, which the serving runtime does not support yet`);
    }
  }

  prepare(request: PredictRequestMsg): Prepared {
    if (request.rows.length) throw bad('this is a tensor model: send named tensors, not rows of entity keys and fields');
    const byName = new Map(request.tensors.map((t) => [t.name, t]));
    for (const t of request.tensors) {
      if (!this.specs.some((s) => s.name === t.name)) throw bad(`unknown input tensor "${t.name}"; the model takes ${this.specs.map((s) => `"${s.name}"`).join(', ')}`, t.name);
    }
    let rows = -1;
    const parts: Uint8Array[] = [];
    const tails: number[][] = [];
    for (const spec of this.specs) {
      const t = byName.get(spec.name);
      if (!t) throw bad(`missing input tensor "${spec.name}"`, spec.name);
      checkTensor(spec, t);
      const batch = t.shape[0] as number;
      if (rows >= 0 && batch !== rows) throw bad(`input "${t.name}" has ${batch} rows, another input has ${rows}`, t.name);
      rows = batch;
      parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      tails.push(t.shape.slice(1));
    }
    if (rows < 1) throw bad('a request needs at least one row');
    if (rows > this.maxRows) throw bad(`${rows} rows in one request; at most ${this.maxRows} (the model's max batch size)`);
    return { rows, parts, tails, rowErrors: undefined };
  }

  warmup(): Prepared {
    const tensors: TensorMsg[] = this.specs.map((spec) => {
      const shape = spec.shape.map((d, i) => (i === 0 ? 1 : typeof d === 'number' ? d : 1));
      const info = dtypeInfo(spec.dtype)!;
      return { name: spec.name, dtype: spec.dtype, shape, data: new info.array(shape.reduce((a, b) => a * b, 1)) };
    });
    return this.prepare({ type: 'predict_request', id: 0, model: '', rows: [], tensors, timeoutUs: 0, outputs: [] });
  }
}

function checkTensor(spec: TensorSpec, t: TensorMsg): void {
  if (t.dtype !== spec.dtype) throw bad(`input "${t.name}" has dtype ${t.dtype}; the model expects ${spec.dtype}`, t.name);
  if (t.shape.length !== spec.shape.length) throw bad(`input "${t.name}" has shape [${t.shape.join(', ')}]; the model expects rank ${spec.shape.length} ([${spec.shape.map((d) => d ?? '?').join(', ')}])`, t.name);
  if (typeof spec.shape[0] === 'number') throw bad(`input "${t.name}": the model's first dimension is fixed (${spec.shape[0]}), so it cannot be batched`, t.name);
  for (let i = 1; i < spec.shape.length; i++) {
    const want = spec.shape[i];
    if (typeof want === 'number' && t.shape[i] !== want) throw bad(`input "${t.name}" has shape [${t.shape.join(', ')}]; dimension ${i} must be ${want}`, t.name);
  }
}

type Source = { slot: number; str: boolean; strIndex: number } & ({ kind: 'field'; field: string } | { kind: 'feature'; feature: string });

class DataframePreparer implements InputPreparer {
  readonly compiled: CompiledPlan;
  readonly sources: Source[];
  readonly features: string[];
  readonly width: number;
  readonly strCount: number;

  constructor(readonly model: string, readonly plan: Plan, readonly maxRows: number, readonly lookup: FeatureLookup | undefined) {
    this.compiled = compilePlan(plan);
    this.width = this.compiled.outputCount;
    let strIndex = 0;
    this.sources = plan.inputs.map((input, slot) => {
      const str = input.type === 'str';
      const base = { slot, str, strIndex: str ? strIndex++ : -1 };
      if (input.name.startsWith('request.')) return { ...base, kind: 'field', field: input.name.slice('request.'.length) };
      if (!input.name.includes('.')) return { ...base, kind: 'field', field: input.name };
      return { ...base, kind: 'feature', feature: input.name };
    });
    this.strCount = strIndex;
    this.features = this.sources.flatMap((s) => (s.kind === 'feature' ? [s.feature] : []));
    if (this.features.length && !lookup) {
      throw new FrescoError(
        'FRESCO_ERR_MODEL_LOAD_FAILED',
        `model "${model}" reads features from the online store (${this.features.slice(0, 3).join(', ')}${this.features.length > 3 ? ', ...' : ''}), but the server has no feature lookup configured`,
      );
    }
  }

  async prepare(request: PredictRequestMsg): Promise<Prepared> {
    if (request.tensors.length) throw bad('this is a dataframe model: send rows of entity keys and request fields, not tensors');
    const rows = request.rows.length;
    if (rows < 1) throw bad('a request needs at least one row');
    if (rows > this.maxRows) throw bad(`${rows} rows in one request; at most ${this.maxRows} (the model's max batch size)`);
    const looked = this.features.length ? await this.lookup!.getFeatures(this.features, request.rows.map((r) => r.keys)) : undefined;
    const out = new Float32Array(rows * this.width);
    const numeric = new Float64Array(this.sources.length);
    const strings: (string | null)[] = new Array(this.strCount).fill(null);
    let rowErrors: (FrescoError | undefined)[] | undefined;
    for (let r = 0; r < rows; r++) {
      const error = this.fillRow(r, request.rows[r]!.fields, looked?.[r], numeric, strings);
      if (error) {
        (rowErrors ??= new Array(rows).fill(undefined))[r] = error;
        out.fill(NaN, r * this.width, (r + 1) * this.width);
        continue;
      }
      this.compiled.runRow(numeric, strings, out.subarray(r * this.width, (r + 1) * this.width));
    }
    if (rowErrors && rowErrors.every((e) => e)) throw rowErrors[0] as FrescoError;
    return { rows, parts: [new Uint8Array(out.buffer)], tails: [[this.width]], rowErrors };
  }

  fillRow(r: number, fields: Record<string, Scalar>, looked: Map<string, Scalar> | FrescoError | undefined, numeric: Float64Array, strings: (string | null)[]): FrescoError | undefined {
    if (looked instanceof FrescoError) return new FrescoError(looked.code, `row ${r}: ${looked.message}`, { location: looked.location ?? {} });
    for (const s of this.sources) {
      let value: Scalar | undefined;
      let what: string;
      if (s.kind === 'field') {
        what = `request field "${s.field}"`;
        value = Object.hasOwn(fields, s.field) ? fields[s.field] : undefined;
        if (value === undefined) return bad(`row ${r}: missing ${what}`, s.field);
      } else {
        what = `feature "${s.feature}"`;
        value = looked?.get(s.feature) ?? null;
      }
      if (s.str) {
        if (value !== null && typeof value !== 'string') return bad(`row ${r}: ${what} must be a string, got ${typeof value}`);
        strings[s.strIndex] = value;
        numeric[s.slot] = NaN;
      } else {
        if (value !== null && typeof value !== 'number' && typeof value !== 'boolean') return bad(`row ${r}: ${what} must be a number, got a string`);
        numeric[s.slot] = value === null ? NaN : Number(value);
      }
    }
    return undefined;
  }

  warmup(): Prepared {
    const out = new Float32Array(this.width);
    this.compiled.runRow(new Float64Array(this.sources.length).fill(NaN), new Array(this.strCount).fill(null), out);
    return { rows: 1, parts: [new Uint8Array(out.buffer)], tails: [[this.width]], rowErrors: undefined };
  }
}
