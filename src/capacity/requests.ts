/**
 * Request shapes from the model's signature, read from the server's KServe metadata
 * (`GET /v2/models/{name}`), so the bench sends what the real path takes: a tensor model gets
 * random tensors of its input shapes (a dynamic dimension is 1 row), a dataframe model gets its
 * entity keys and request fields. Keys come from the project's data (project-keys.ts: the most
 * frequent values present in the online store, weighted by frequency) or from
 * `--key name=v1,v2,...` drawn with a Zipf-like skew (the first value listed is the hottest), so
 * hot keys are in the mix as in production; request fields not given with --field are filled by
 * datatype.
 */
import { toRequest, type PredictInput } from '../client/index.js';
import { FrescoError } from '../errors/index.js';
import { encodeFrame } from '../serving/protocol/codec.js';

export type Transport = 'ws' | 'http' | 'kserve';

interface TensorSpec {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelShape {
  name: string;
  kind: 'tensor' | 'dataframe';
  inputs: TensorSpec[];
  entityKeys: string[];
  timestampFields: string[];
}

export async function readModelShape(httpBase: string, ref: string): Promise<ModelShape> {
  const name = ref.split('@')[0]!;
  const url = `${httpBase}/v2/models/${encodeURIComponent(name)}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_UNAVAILABLE', `GET ${url}: ${(error as Error).message} (is the server running?)`, { cause: error });
  }
  if (!res.ok) throw new FrescoError(res.status === 404 ? 'FRESCO_ERR_MODEL_NOT_FOUND' : 'FRESCO_ERR_UNAVAILABLE', `GET ${url}: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const m = (await res.json()) as { inputs: TensorSpec[]; parameters?: Record<string, unknown> };
  const list = (v: unknown) => (typeof v === 'string' && v ? v.split(',') : []);
  return {
    name,
    kind: m.parameters?.input_kind === 'dataframe' ? 'dataframe' : 'tensor',
    inputs: m.inputs,
    entityKeys: list(m.parameters?.entity_keys),
    timestampFields: list(m.parameters?.timestamp_fields),
  };
}

/** A small deterministic generator: the same run sends the same requests. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Index into `n` values by `weights`, or with weight 1/(i+1) (Zipf: value 0 is the hottest key). */
function weightedPicker(n: number, rand: () => number, weights?: readonly number[]): () => number {
  const cum: number[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) cum.push((total += weights?.[i] ?? 1 / (i + 1)));
  return () => {
    const u = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface ShapeOptions {
  /** Entity key values: key name -> values (first hottest). */
  keys?: Record<string, string[]>;
  /** Per key, the values' sampling weights (default: Zipf, 1/(rank+1)). */
  keyWeights?: Record<string, number[]>;
  /** Request field values given by the user. */
  fields?: Record<string, string | number>;
  /** Rows per request (default 1). */
  rows?: number;
}

type Row = { keys: Record<string, string>; fields: Record<string, string | number> };

/** Builds `count` inputs for the model (deterministic). */
export function makeInputs(shape: ModelShape, count: number, o: ShapeOptions = {}): PredictInput[] {
  const rand = rng(42);
  const rows = o.rows ?? 1;
  if (shape.kind === 'tensor') {
    return Array.from({ length: count }, () => ({
      tensors: Object.fromEntries(
        shape.inputs.map((t) => {
          const dims = t.shape.map((d, i) => (d >= 0 ? d : i === 0 ? rows : 1));
          const n = dims.reduce((a, b) => a * b, 1);
          if (t.datatype !== 'FP32') throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `input "${t.name}" is ${t.datatype}: fresco bench generates FP32 tensors only`);
          return [t.name, { data: Float32Array.from({ length: n }, () => rand()), shape: dims }];
        }),
      ),
    }));
  }
  const keys = shape.entityKeys;
  for (const k of keys) {
    if (!o.keys?.[k]?.length) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `model ${shape.name} looks features up by entity key "${k}": give the values to draw from with --key ${k}=v1,v2,... (the first is the hottest)`);
  }
  const pickers = Object.fromEntries(keys.map((k) => [k, weightedPicker(o.keys![k]!.length, rand, o.keyWeights?.[k])]));
  const fields = shape.inputs.filter((t) => !keys.includes(t.name));
  const row = (): Row => ({
    keys: Object.fromEntries(keys.map((k) => [k, o.keys![k]![pickers[k]!()]!])),
    fields: Object.fromEntries(
      fields.map((f) => {
        const given = o.fields?.[f.name];
        if (given !== undefined) return [f.name, given];
        if (shape.timestampFields.includes(f.name)) return [f.name, Date.now() - Math.floor(rand() * 86_400_000 * 30)];
        return [f.name, f.datatype === 'BYTES' ? 'x' : Math.round(rand() * 1000)];
      }),
    ),
  });
  return Array.from({ length: count }, () => ({ rows: Array.from({ length: rows }, row) }));
}

/** The body of a KServe v2 JSON infer request for one input. */
export function kserveBody(shape: ModelShape, input: PredictInput): Uint8Array {
  let inputs: unknown[];
  if (input.tensors) {
    inputs = Object.entries(input.tensors).map(([name, t]) => ({ name, datatype: 'FP32', shape: t.shape, data: Array.from(t.data as Float32Array) }));
  } else {
    const rows = input.rows ?? [];
    inputs = shape.inputs.map((t) => {
      const values = rows.map((r) => (shape.entityKeys.includes(t.name) ? r.keys?.[t.name] : r.fields?.[t.name]) ?? null);
      return { name: t.name, datatype: t.datatype, shape: [rows.length], data: t.datatype === 'BYTES' ? values.map(String) : values };
    });
  }
  return new TextEncoder().encode(JSON.stringify({ inputs }));
}

/**
 * The bodies a run sends: Fresco frames (ws and http; over WebSocket every request needs its own
 * id, so every request gets its own frame) or KServe JSON (a cycle of distinct bodies).
 */
export function bodiesFor(transport: Transport, ref: string, shape: ModelShape, o: ShapeOptions, timeoutMs: number): (total: number) => Uint8Array[] {
  const DISTINCT = 512;
  return (total) => {
    const inputs = makeInputs(shape, Math.min(total, DISTINCT), o);
    if (transport === 'kserve') return inputs.map((i) => kserveBody(shape, i));
    const n = transport === 'ws' ? total : inputs.length;
    return Array.from({ length: n }, (_, i) => encodeFrame(toRequest(i + 1, ref, inputs[i % inputs.length]!, timeoutMs)));
  };
}
