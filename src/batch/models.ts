/**
 * The models a batch job scores with: refs (`name`, `name@version`, `name@alias`) resolved
 * through the registry, materialized as verified packages, and their frozen plans compiled once.
 * Batch runs exactly what serving runs: the registry's package, its plan, its ONNX file.
 */
import { join } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { compilePlan, type CompiledPlan, type Plan } from '../plan/index.js';
import { parseRef } from '../registry/ref.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { PoolModel } from './worker-pool.js';

export interface OutputColumn {
  /** Output column name in the scored file. */
  column: string;
  /** Model output tensor and the index in its last dimension. */
  tensor: string;
  index: number;
}

export interface BatchModel {
  /** The ref as given (`flights-delay@production`). */
  ref: string;
  name: string;
  version: number;
  /** The alias the ref named, or null for a version or latest ref. */
  alias: string | null;
  /** Pool key: `name@version`. */
  key: string;
  packageChecksum: string;
  plan: Plan;
  compiled: CompiledPlan;
  /** The plan's output width: the model's input tensor is rows x width float32. */
  width: number;
  pool: PoolModel;
  outputs: OutputColumn[];
}

/** Output columns of a tensor of shape [batch] or [batch, 1] -> `name`; [batch, k] -> `name_0..name_{k-1}`. */
function outputColumns(name: string, shape: (number | string | null)[]): OutputColumn[] {
  const last = shape.length >= 2 ? shape[shape.length - 1] : 1;
  if (shape.length > 2 || typeof last !== 'number') {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `model output "${name}" has shape [${shape.join(', ')}]; batch scoring writes outputs of shape [batch] or [batch, k] with a fixed k`);
  }
  if (last === 1) return [{ column: name, tensor: name, index: 0 }];
  return Array.from({ length: last }, (_, i) => ({ column: `${name}_${i}`, tensor: name, index: i }));
}

export async function loadBatchModels(registry: ModelRegistry, refs: string[]): Promise<BatchModel[]> {
  if (!refs.length) throw new FrescoError('FRESCO_ERR_USAGE', 'name at least one model to score with');
  const models: BatchModel[] = [];
  for (const ref of refs) {
    const parsed = parseRef(ref);
    const v = registry.resolve(ref);
    const key = `${v.name}@${v.version}`;
    if (models.some((m) => m.key === key && m.alias === ('alias' in parsed ? parsed.alias : null))) {
      throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `model ${ref} is named twice`);
    }
    if ((v.backend !== 'onnx' && v.backend !== 'python') || v.inputKind !== 'dataframe') {
      throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${ref} (${key}) is a ${v.backend} model with ${v.inputKind} input; batch scoring runs ONNX and Python models that take a feature plan's columns ("input_kind": "dataframe")`);
    }
    const pkg = await registry.materialize(ref);
    const plan = pkg.plan!;
    const manifest = pkg.manifest;
    const outputs = manifest.signature.outputs.flatMap((o) => outputColumns(o.name, o.shape));
    models.push({
      ref,
      name: v.name,
      version: v.version,
      alias: 'alias' in parsed ? parsed.alias : null,
      key,
      packageChecksum: v.packageChecksum,
      plan,
      compiled: compilePlan(plan),
      width: plan.outputs.length,
      pool: { key, path: join(pkg.dir, manifest.model), input: manifest.signature.inputs[0]!.name, outputs: manifest.signature.outputs.map((o) => o.name), ...(manifest.backend === 'python' ? { python: pkg } : {}) },
      outputs,
    });
  }
  return models;
}

/** The input columns the models' plans read, by name, with the slot type each needs (a name used as both is an error). */
export function planInputs(models: BatchModel[]): Map<string, 'num' | 'str'> {
  const inputs = new Map<string, 'num' | 'str'>();
  for (const m of models) {
    for (const input of m.plan.inputs) {
      const seen = inputs.get(input.name);
      if (seen && seen !== input.type) {
        throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `plan input "${input.name}" is a ${input.type === 'num' ? 'number' : 'string'} in ${m.ref} but a ${seen === 'num' ? 'number' : 'string'} in another model`);
      }
      inputs.set(input.name, input.type);
    }
  }
  return inputs;
}

/**
 * The plan inputs that name offline-store features (`table.feature`), as feature refs; `request.*`
 * inputs and plain names are the input rows' own fields.
 */
export function planFeatureRefs(inputs: Map<string, 'num' | 'str'>): string[] {
  return [...inputs.keys()].filter((name) => name.includes('.') && !name.startsWith('request.'));
}
