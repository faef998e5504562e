/**
 * Turning requests into a model's input tensors, with every check a request can fail: for tensor
 * models the named tensors against the signature (names, dtypes, ranks, fixed dimensions, one
 * batch size); for dataframe models each row's request fields and looked-up features, gathered
 * into the plan's input matrix (typed arrays, no object per row), and the frozen plan run once per
 * coalesced batch straight into the worker's shared slot (batchInputs). Errors are
 * FRESCO_ERR_INPUT_INVALID naming the tensor, row, key or field.
 */
import { FrescoError } from '../errors/index.js';
import type { Manifest, TensorSpec } from '../models/index.js';
import { compilePlan, type CompiledPlan, type Plan } from '../plan/index.js';
import { FEATURES_EXPIRED, FEATURES_MISSING, FeatureBlock, type FeatureLookup, featureTables, TAG_BOOL, TAG_NUMBER, TAG_STRING } from './feature-lookup.js';
import { timestampInputs } from './dataframe-contract.js';
import { allPresent, featuresMissing, type MissingFeaturesPolicy, rowSummary } from './feature-status.js';
import { parseTimestamp, TIMESTAMP_FORMATS } from './timestamp.js';
import { dtypeInfo } from './protocol/dtypes.js';
import type { PredictRequestMsg, Scalar, TensorMsg } from './protocol/messages.js';
import type { SlotInput } from './pool/inference-worker.js';

/** A request ready for batching: its rows and its inputs (tensor bytes, or the plan's gathered inputs). */
export interface Prepared {
  rows: number;
  /** Tensor models: per model input, its contiguous bytes. */
  parts: Uint8Array[];
  /** Non-batch dimensions per input (for coalescing, they must be equal across a batch). */
  tails: number[][];
  /** Dataframe rows that failed (their features are NaN and their outputs are not to be used). */
  rowErrors: (FrescoError | undefined)[] | undefined;
  /** Dataframe models: each row's plan inputs, row-major (rows x plan inputs; NaN is null, and str slots are NaN). */
  numeric?: Float64Array;
  /** Dataframe models: each row's str inputs in slot order (rows x str inputs; null is null). */
  strings?: (string | null)[];
  /** Dataframe models: per row, its FeatureState (feature-status.ts); a shared all-present array when every row is. */
  featureSummary?: Uint8Array;
  /** Dataframe models: per row and looked-up table, FEATURES_*; undefined when every row is present. */
  featureStates?: Uint8Array | undefined;
}

/**
 * A dataframe request's Prepared, always built here with every field present, so that each
 * request, warm-up included, and each version's, has one shape: the hot path's optimized code
 * does not deoptimize when a new version's first batch (its warm-up) goes through it.
 */
function prepared(rows: number, tails: number[][], rowErrors: Prepared['rowErrors'], numeric: Float64Array, strings: (string | null)[] | undefined, featureSummary: Uint8Array, featureStates: Uint8Array | undefined): Prepared {
  return { rows, parts: [], tails, rowErrors, numeric, strings, featureSummary, featureStates };
}

const bad = (message: string, key?: string) => new FrescoError('FRESCO_ERR_INPUT_INVALID', message, key ? { location: { key } } : {});

export interface InputPreparer {
  prepare(request: PredictRequestMsg): Prepared | Promise<Prepared>;
  /** Warm-up rows: zeros for tensor models, all-null inputs for dataframe models. */
  warmup(rows: number): Prepared;
  /** A batch's model inputs (requests prepared by this preparer, `rows` in all), written straight into the slot. */
  batchInputs(batch: readonly Prepared[], rows: number): SlotInput[];
  /** Dataframe models: the looked-up tables, in the order of `Prepared.featureStates`' columns. */
  readonly featureTables?: readonly string[];
}

export interface DataframeOptions {
  /** What a row with a missing or expired table gets (feature-status.ts). Default `serve`. */
  missingFeatures?: MissingFeaturesPolicy;
  /** Per looked-up table, the request keys naming its entity (for the `fail` policy's messages). */
  tableKeys?: Record<string, readonly string[]>;
}

/** `compiled`: the plan compiled already (a load compiles it as a step of its own); else compiled here. */
export function inputPreparer(manifest: Manifest, plan: Plan | undefined, maxRows: number, lookup: FeatureLookup | undefined, compiled?: CompiledPlan, options: DataframeOptions = {}): InputPreparer {
  if (manifest.input_kind === 'dataframe') {
    if (!plan) throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `model "${manifest.name}" is a dataframe model without a plan`);
    return new DataframePreparer(manifest.name, plan, maxRows, lookup, compiled ?? compilePlan(plan), options);
  }
  return new TensorPreparer(manifest.signature.inputs, maxRows);
}

class TensorPreparer implements InputPreparer {
  readonly #names: Set<string>;

  constructor(readonly specs: TensorSpec[], readonly maxRows: number) {
    this.#names = new Set(specs.map((s) => s.name));
    for (const spec of specs) {
      if (spec.dtype === 'string') throw new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', `input "${spec.name}" is a string tensor, which the serving runtime does not support yet`);
    }
  }

  prepare(request: PredictRequestMsg): Prepared {
    if (request.rows.length) throw bad('this is a tensor model: send named tensors, not rows of entity keys and fields');
    // Plain loops over the few tensors (no Map or closures per request: this runs for every request).
    for (const t of request.tensors) {
      if (!this.#names.has(t.name)) throw bad(`unknown input tensor "${t.name}"; the model takes ${this.specs.map((s) => `"${s.name}"`).join(', ')}`, t.name);
    }
    let rows = -1;
    const parts: Uint8Array[] = [];
    const tails: number[][] = [];
    for (const spec of this.specs) {
      let t: TensorMsg | undefined;
      for (const x of request.tensors) {
        if (x.name === spec.name) {
          t = x;
          break;
        }
      }
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

  warmup(rows: number): Prepared {
    const tensors: TensorMsg[] = this.specs.map((spec) => {
      const shape = spec.shape.map((d, i) => (i === 0 ? rows : typeof d === 'number' ? d : 1));
      const info = dtypeInfo(spec.dtype)!;
      return { name: spec.name, dtype: spec.dtype, shape, data: new info.array(shape.reduce((a, b) => a * b, 1)) };
    });
    return this.prepare({ type: 'predict_request', id: 0, model: '', rows: [], tensors, timeoutUs: 0, outputs: [] });
  }

  /** Each request's bytes written one after another straight into the slot. */
  batchInputs(batch: readonly Prepared[], rows: number): SlotInput[] {
    const first = batch[0] as Prepared;
    return this.specs.map((spec, i) => {
      let byteLength = 0;
      for (const p of batch) byteLength += (p.parts[i] as Uint8Array).byteLength;
      return {
        dtype: spec.dtype,
        shape: [rows, ...(first.tails[i] as number[])],
        byteLength,
        write(target: Uint8Array) {
          let at = 0;
          for (const p of batch) {
            const part = p.parts[i] as Uint8Array;
            target.set(part, at);
            at += part.byteLength;
          }
        },
      };
    });
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


/** A plan input: a request field (`ts`: a timestamp, which also takes ISO 8601 text) or a looked-up feature. */
type Source = { slot: number; str: boolean; strIndex: number; ts: boolean } & ({ kind: 'field'; field: string } | { kind: 'feature'; feature: string });

const NO_STRINGS: (string | null)[] = [];

/**
 * Request-sized Float64Arrays cut from 64 KiB slabs: a typed array above 64 bytes gets its own
 * off-heap backing store, which took a third of `prepare` (~1 µs) per request. A view into a slab
 * costs an object. Slabs are never reused: one lives while any of its views does.
 */
class Float64Slab {
  #slab = new Float64Array(8192);
  #at = 0;

  take(length: number): Float64Array {
    if (this.#at + length > this.#slab.length) {
      this.#slab = new Float64Array(Math.max(8192, length));
      this.#at = 0;
    }
    const view = this.#slab.subarray(this.#at, this.#at + length);
    this.#at += length;
    return view;
  }
}

class DataframePreparer implements InputPreparer {
  readonly compiled: CompiledPlan;
  readonly sources: Source[];
  /** The `table.feature` inputs, in slot order (the same array every lookup: a cache key). */
  readonly features: string[];
  /** Feature i's plan slot (its column in the gathered matrix). */
  readonly featureSlot: Int32Array;
  /** For the quick check of a row: numeric features' slots, str features, request fields. */
  readonly #numFeatureSlots: Int32Array;
  readonly #strFeatures: Source[];
  readonly #fields: (Source & { kind: 'field' })[];
  readonly #slab = new Float64Slab();
  readonly inputs: number;
  readonly width: number;
  readonly strCount: number;
  /** The looked-up tables (FeatureBlock.states' columns) and each feature's table. */
  readonly featureTables: readonly string[];
  readonly #tables: { of: Int32Array; count: number };
  readonly #failMissing: boolean;
  readonly #tableKeys: (readonly string[])[];

  constructor(readonly model: string, readonly plan: Plan, readonly maxRows: number, readonly lookup: FeatureLookup | undefined, compiled: CompiledPlan, options: DataframeOptions) {
    this.compiled = compiled;
    this.width = this.compiled.outputCount;
    this.inputs = plan.inputs.length;
    let strIndex = 0;
    const timestamps = timestampInputs(plan);
    this.sources = plan.inputs.map((input, slot) => {
      const str = input.type === 'str';
      const base = { slot, str, strIndex: str ? strIndex++ : -1, ts: timestamps[slot] === true };
      if (input.name.startsWith('request.')) return { ...base, kind: 'field', field: input.name.slice('request.'.length) };
      if (!input.name.includes('.')) return { ...base, kind: 'field', field: input.name };
      return { ...base, kind: 'feature', feature: input.name };
    });
    this.strCount = strIndex;
    const featureSources = this.sources.filter((s): s is Source & { kind: 'feature' } => s.kind === 'feature');
    this.features = featureSources.map((s) => s.feature);
    this.featureSlot = Int32Array.from(featureSources, (s) => s.slot);
    this.#numFeatureSlots = Int32Array.from(featureSources.filter((s) => !s.str), (s) => s.slot);
    this.#strFeatures = featureSources.filter((s) => s.str);
    this.#fields = this.sources.filter((s): s is Source & { kind: 'field' } => s.kind === 'field');
    const tables = featureTables(this.features);
    this.featureTables = tables.names;
    this.#tables = { of: tables.of, count: tables.count };
    this.#failMissing = options.missingFeatures === 'fail';
    this.#tableKeys = tables.names.map((t) => options.tableKeys?.[t] ?? []);
    if (this.features.length && !lookup) {
      throw new FrescoError(
        'FRESCO_ERR_MODEL_LOAD_FAILED',
        `model "${model}" reads features from the online store (${this.features.slice(0, 3).join(', ')}${this.features.length > 3 ? ', ...' : ''}), but the server has no feature lookup configured`,
      );
    }
    if (this.features.length) lookup?.prepare?.(this.features);
  }

  async prepare(request: PredictRequestMsg): Promise<Prepared> {
    if (request.tensors.length) throw bad('this is a dataframe model: send rows of entity keys and request fields, not tensors');
    const rows = request.rows.length;
    if (rows < 1) throw bad('a request needs at least one row');
    if (rows > this.maxRows) throw bad(`${rows} rows in one request; at most ${this.maxRows} (the model's max batch size)`);
    const n = this.inputs;
    // The lookup writes the features straight into their plan slots of the gathered matrix.
    const numeric = this.#slab.take(rows * n).fill(NaN);
    const tags = new Uint8Array(rows * n);
    const block = new FeatureBlock(rows, this.features.length, { values: numeric, tags, stride: n, column: this.featureSlot }, this.#tables);
    if (this.features.length) {
      const keys = rows === 1 ? [request.rows[0]!.keys] : request.rows.map((r) => r.keys);
      await this.lookup!.getFeatures(this.features, keys, block);
    }
    const strings = this.strCount ? new Array<string | null>(rows * this.strCount).fill(null) : undefined;
    let rowErrors: (FrescoError | undefined)[] | undefined;
    for (let r = 0; r < rows; r++) {
      const fields = request.rows[r]!.fields;
      // Most rows are fine: check them in one pass over typed arrays; a row with a problem is
      // checked again in slot order, so that its error is the first problem, as it always was.
      if (!block.errors?.[r] && this.#quickRow(r, fields, block, numeric, strings)) continue;
      const error = this.#gatherRow(r, fields, block, numeric, strings);
      if (error) rowErrors = this.#failRow(rowErrors, rows, r, error, numeric, strings);
    }
    // Every entity present (the common answer): a shared summary, nothing allocated.
    let summary = allPresent(rows);
    if (block.states || block.errors) {
      summary = rowSummary(block, rows);
      if (this.#failMissing && block.states) {
        for (let r = 0; r < rows; r++) {
          if ((summary[r] === FEATURES_MISSING || summary[r] === FEATURES_EXPIRED) && !rowErrors?.[r]) {
            rowErrors = this.#failRow(rowErrors, rows, r, featuresMissing(r, block.states, this.featureTables, this.#tableKeys, request.rows[r]!.keys), numeric, strings);
          }
        }
      }
    }
    if (rowErrors && rowErrors.every((e) => e)) throw rowErrors[0] as FrescoError;
    return prepared(rows, [[this.width]], rowErrors, numeric, strings, summary, block.states);
  }

  /** Fails row r alone: its error, and all-null inputs (its output row is NaN: batchInputs). */
  #failRow(rowErrors: (FrescoError | undefined)[] | undefined, rows: number, r: number, error: FrescoError, numeric: Float64Array, strings: (string | null)[] | undefined): (FrescoError | undefined)[] {
    const errors = rowErrors ?? new Array<FrescoError | undefined>(rows).fill(undefined);
    errors[r] = error;
    numeric.fill(NaN, r * this.inputs, (r + 1) * this.inputs);
    if (strings) strings.fill(null, r * this.strCount, (r + 1) * this.strCount);
    return errors;
  }

  /** Completes row r's gathered values; false when the row has a problem (#gatherRow says which). */
  #quickRow(r: number, fields: Record<string, Scalar>, block: FeatureBlock, numeric: Float64Array, strings: (string | null)[] | undefined): boolean {
    const base = r * this.inputs;
    const tags = block.tags;
    const slots = this.#numFeatureSlots;
    for (let i = 0; i < slots.length; i++) if (tags[base + (slots[i] as number)] === TAG_STRING) return false;
    const strBase = r * this.strCount;
    for (const s of this.#strFeatures) {
      const tag = tags[base + s.slot];
      if (tag === TAG_NUMBER || tag === TAG_BOOL) return false;
      if (tag === TAG_STRING) strings![strBase + s.strIndex] = block.strings![base + s.slot] as string;
    }
    for (const s of this.#fields) {
      const value = Object.hasOwn(fields, s.field) ? fields[s.field] : undefined;
      if (value === undefined) return false;
      if (s.str) {
        if (value !== null && typeof value !== 'string') return false;
        strings![strBase + s.strIndex] = value;
        numeric[base + s.slot] = NaN;
      } else if (typeof value === 'string') {
        // A timestamp as text (ISO 8601, or epoch ms as digits): the one parser of every transport.
        const t = s.ts ? parseTimestamp(value) : NaN;
        if (Number.isNaN(t)) return false;
        numeric[base + s.slot] = t;
      } else {
        numeric[base + s.slot] = value === null ? NaN : Number(value);
      }
    }
    return true;
  }

  /** Checks row r's inputs in slot order (the first problem is the row's error) and completes its gathered values. */
  #gatherRow(r: number, fields: Record<string, Scalar>, block: FeatureBlock, numeric: Float64Array, strings: (string | null)[] | undefined): FrescoError | undefined {
    const looked = block.errors?.[r];
    if (looked) return new FrescoError(looked.code, `row ${r}: ${looked.message}`, { location: looked.location ?? {} });
    const base = r * this.inputs;
    const strBase = r * this.strCount;
    for (const s of this.sources) {
      const at = base + s.slot;
      if (s.kind === 'field') {
        const value = Object.hasOwn(fields, s.field) ? fields[s.field] : undefined;
        if (value === undefined) return bad(`row ${r}: missing request field "${s.field}"`, s.field);
        if (s.str) {
          if (value !== null && typeof value !== 'string') return bad(`row ${r}: request field "${s.field}" must be a string, got ${typeof value}`);
          strings![strBase + s.strIndex] = value;
          numeric[at] = NaN;
        } else if (typeof value === 'string' && s.ts) {
          const t = parseTimestamp(value);
          if (Number.isNaN(t)) return bad(`row ${r}: request field "${s.field}" is a timestamp: ${JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value)} is not one of ${TIMESTAMP_FORMATS}`, s.field);
          numeric[at] = t;
        } else {
          if (value !== null && typeof value !== 'number' && typeof value !== 'boolean') return bad(`row ${r}: request field "${s.field}" must be a number, got a string`);
          numeric[at] = value === null ? NaN : Number(value);
        }
        continue;
      }
      // A looked-up feature: already in numeric[at] (NaN when null or a string); check its kind.
      const tag = block.tags[at];
      if (s.str) {
        if (tag === TAG_NUMBER || tag === TAG_BOOL) return bad(`row ${r}: feature "${s.feature}" must be a string, got ${tag === TAG_BOOL ? 'boolean' : 'number'}`);
        if (tag === TAG_STRING) strings![strBase + s.strIndex] = block.strings![at] as string;
      } else if (tag === TAG_STRING) {
        return bad(`row ${r}: feature "${s.feature}" must be a number, got a string`);
      }
    }
    return undefined;
  }

  warmup(rows: number): Prepared {
    const numeric = new Float64Array(rows * this.inputs).fill(NaN);
    const strings = this.strCount ? new Array<string | null>(rows * this.strCount).fill(null) : undefined;
    return prepared(rows, [[this.width]], undefined, numeric, strings, allPresent(rows), undefined);
  }

  /**
   * One float32 [rows, width] input: the plan's rows written straight into the slot. Row by row
   * (`runRow`), not one `run` over columns: with 50 inputs the batch call costs ~100 µs of
   * marshalling per call on this machine, `runRow` ~0.6 µs per row, so even a full batch of 64
   * rows is cheaper row by row (bench/load/main-path.ts, docs/serving.md).
   */
  batchInputs(batch: readonly Prepared[], rows: number): SlotInput[] {
    const width = this.width;
    return [{ dtype: 'float32', shape: [rows, width], byteLength: rows * width * 4, write: (target) => this.#writeBatch(batch, rows, target) }];
  }

  #writeBatch(batch: readonly Prepared[], rows: number, target: Uint8Array): void {
    const width = this.width;
    const size = rows * width;
    // The slot's tensors are 8-byte aligned (pool/layout.ts); anything else goes through a copy.
    const direct = target.byteOffset % 4 === 0;
    const out = direct ? new Float32Array(target.buffer, target.byteOffset, size) : new Float32Array(size);
    if (rows === 1) {
      const p = batch[0] as Prepared;
      this.compiled.runRow(p.numeric as Float64Array, p.strings ?? NO_STRINGS, out);
    } else {
      const n = this.inputs;
      const sc = this.strCount;
      let row = 0;
      for (const p of batch) {
        const numeric = p.numeric as Float64Array;
        for (let r = 0; r < p.rows; r++, row++) {
          // A failed row's output is NaN, whatever the plan would make of its all-null inputs.
          if (p.rowErrors?.[r]) {
            out.fill(NaN, row * width, (row + 1) * width);
            continue;
          }
          const strings = p.strings && sc ? p.strings.slice(r * sc, (r + 1) * sc) : NO_STRINGS;
          this.compiled.runRow(p.rows === 1 ? numeric : numeric.subarray(r * n, (r + 1) * n), strings, out.subarray(row * width, (row + 1) * width));
        }
      }
    }
    if (!direct) target.set(new Uint8Array(out.buffer, 0, size * 4));
  }
}
