/**
 * `fresco models try <dir> --input rows.json`: runs a package folder without a server or a
 * registry, through the serving runtime's own path (LoadedModel: environment, workers, warm-up,
 * input checks, batcher), once, and returns its outputs. Works for every backend.
 *
 * Input file: for tensor packages an object of nested arrays by input name
 * (`{"x": [[1, 2, 3, 4]]}`, dtypes from the signature); for dataframe packages a list of rows,
 * each `{"keys": {...}, "fields": {...}}` or a plain object of request fields. No online store is
 * read: a plan that looks up feature tables gets null features (its fill_null/coalesce decide).
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { FrescoError } from '../errors/index.js';
import { loadPackage, type ModelPackage } from '../models/index.js';
import { LoadedModel } from '../serving/loaded-model.js';
import { dtypeInfo, type NumericArray } from '../serving/protocol/dtypes.js';
import type { PredictRequestMsg, RowMsg, Scalar, TensorMsg } from '../serving/protocol/messages.js';
import { parseModelSettings } from '../serving/settings.js';

export interface TryResult {
  model: string;
  backend: string;
  outputs: Record<string, { shape: number[]; data: number[] }>;
}

export async function tryPackage(dir: string, inputFile: string): Promise<TryResult> {
  const pkg = await loadPackage(dir);
  const request = readRequest(pkg, inputFile);
  const rows = request.rows.length || (request.tensors[0]?.shape[0] ?? 1);
  const settings = parseModelSettings({ maxBatchSize: Math.max(1, rows), timeoutMs: 600_000 });
  const model = await LoadedModel.load({ name: pkg.manifest.name, version: 0, pkg, settings, log: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    const result = await model.predict(request, performance.now() + settings.timeoutMs);
    const rowError = result.rowErrors?.find((e) => e);
    if (rowError) throw rowError;
    const outputs: TryResult['outputs'] = {};
    for (const o of result.outputs) outputs[o.name] = { shape: o.shape, data: Array.from(o.data as ArrayLike<number | bigint>, Number) };
    return { model: pkg.manifest.name, backend: pkg.manifest.backend, outputs };
  } finally {
    await model.close();
  }
}

function readRequest(pkg: ModelPackage, file: string): PredictRequestMsg {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: not a readable JSON file: ${(error as Error).message}`, { location: { file } });
  }
  const request: PredictRequestMsg = { type: 'predict_request', id: 1, model: pkg.manifest.name, rows: [], tensors: [], timeoutUs: 0, outputs: [] };
  if (pkg.manifest.input_kind === 'dataframe') {
    if (!Array.isArray(value)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: a dataframe package takes a list of rows ({"keys": {...}, "fields": {...}} or an object of request fields)`, { location: { file } });
    request.rows = value.map((row: unknown, i): RowMsg => {
      if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: row ${i} is not an object`, { location: { file, key: `[${i}]` } });
      const r = row as Record<string, unknown>;
      const structured = 'keys' in r || 'fields' in r;
      return { keys: (structured ? r.keys ?? {} : {}) as Record<string, Scalar>, fields: (structured ? r.fields ?? {} : r) as Record<string, Scalar> };
    });
    return request;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: a tensor package takes an object of nested arrays by input name, like {"x": [[1, 2]]}`, { location: { file } });
  for (const [name, nested] of Object.entries(value as Record<string, unknown>)) {
    const spec = pkg.manifest.signature.inputs.find((s) => s.name === name);
    if (!spec) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: unknown input "${name}"; the model takes ${pkg.manifest.signature.inputs.map((s) => `"${s.name}"`).join(', ')}`, { location: { file, key: name } });
    request.tensors.push(tensorOf(name, spec.dtype, nested, file));
  }
  return request;
}

function tensorOf(name: string, dtype: string, nested: unknown, file: string): TensorMsg {
  const shape: number[] = [];
  for (let v = nested; Array.isArray(v); v = v[0]) shape.push(v.length);
  const flat = (nested as unknown[]).flat(Infinity) as unknown[];
  const info = dtypeInfo(dtype);
  if (!info || info.name === 'string' || flat.some((x) => typeof x !== 'number' && typeof x !== 'boolean')) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: input "${name}" must be nested arrays of numbers (dtype ${dtype})`, { location: { file, key: name } });
  }
  const big = info.array === BigInt64Array || info.array === BigUint64Array;
  const data = (info.array as unknown as { from(a: unknown[], f: (x: unknown) => unknown): NumericArray }).from(flat, (x) => (big ? BigInt(Math.trunc(Number(x))) : Number(x)));
  return { name, dtype: info.name, shape, data };
}
