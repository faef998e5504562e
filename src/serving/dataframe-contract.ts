/**
 * What a caller sends to a dataframe model: its entity keys and request fields, not the
 * feature-store columns the server looks up itself. The model's KServe metadata (and so Triton's
 * model config and gRPC's ModelMetadata, which derive from it) lists these as its inputs, so a
 * client built from the metadata sends what the model needs (docs/serving.md, "Dataframe models").
 *
 * - Request fields are the plan's `request.<field>` inputs and plain names without a dot.
 * - Entity keys are the request keys of every looked-up table (`<table>.<feature>` inputs), as
 *   the feature lookup names them: the project's join_key_map (`origin`, `destination` for two
 *   tables keyed by `airport`), else the table's join keys.
 * - A request field is a timestamp when the plan reads it as one: an argument of hour,
 *   day_of_week or days_between, directly or through fill_null, coalesce or if. Such a field
 *   takes epoch milliseconds or ISO 8601 text (timestamp.ts).
 */
import type { Plan } from '../plan/index.js';
import { featureTables, type FeatureLookup, type LookupTable } from './feature-lookup.js';

export interface ContractField {
  name: string;
  /** The plan's slot type: `num` (numbers; timestamps in epoch ms) or `str`. */
  type: 'num' | 'str';
  timestamp: boolean;
}

export interface DataframeContract {
  /** Request keys of the looked-up tables, each once, in order of first use. */
  keys: string[];
  fields: ContractField[];
  /** The looked-up tables with their request keys and features. */
  tables: (LookupTable & { features: string[] })[];
  /** Every `<table>.<feature>` the server looks up. */
  features: string[];
}

/** A plan input's request field name, or undefined for a looked-up `<table>.<feature>`. */
export function fieldName(input: string): string | undefined {
  if (input.startsWith('request.')) return input.slice('request.'.length);
  return input.includes('.') ? undefined : input;
}

/**
 * Which plan inputs are timestamps (by input index): the slots that reach a timestamp argument
 * (hour, day_of_week, days_between), followed back through the ops that pass a value on unchanged
 * (fill_null, coalesce, the branches of if). One backward pass over the ops.
 */
export function timestampInputs(plan: Plan): boolean[] {
  const base: number[] = [];
  let slot = plan.inputs.length;
  for (const op of plan.ops) {
    base.push(slot);
    slot += op.op === 'one_hot' ? op.categories.length + 1 : 1;
  }
  const ts = new Array<boolean>(slot).fill(false);
  for (let i = plan.ops.length - 1; i >= 0; i--) {
    const op = plan.ops[i]!;
    const out = ts[base[i]!];
    const args = op.args as number[];
    switch (op.op) {
      case 'hour':
      case 'day_of_week':
      case 'days_between':
        for (const a of args) ts[a] = true;
        break;
      case 'fill_null':
      case 'coalesce':
        if (out) for (const a of args) ts[a] = true;
        break;
      case 'if':
        if (out) {
          ts[args[1]!] = true;
          ts[args[2]!] = true;
        }
        break;
      default:
    }
  }
  return plan.inputs.map((_, i) => ts[i] === true);
}

/** The contract of a dataframe plan, with the keys the lookup names (called once, when a version loads). */
export async function describeContract(plan: Plan, lookup: FeatureLookup | undefined): Promise<DataframeContract> {
  const timestamps = timestampInputs(plan);
  const fields: ContractField[] = [];
  const features: string[] = [];
  plan.inputs.forEach((input, i) => {
    const field = fieldName(input.name);
    if (field === undefined) features.push(input.name);
    else if (!fields.some((f) => f.name === field)) fields.push({ name: field, type: input.type, timestamp: timestamps[i] === true });
  });
  const grouped = featureTables(features);
  const described = features.length && lookup?.describe ? await lookup.describe(features) : [];
  const tables = grouped.names.map((table, t) => ({
    table,
    keys: described.find((d) => d.table === table)?.keys ?? [],
    features: features.filter((_, i) => grouped.of[i] === t),
  }));
  const keys = [...new Set(tables.flatMap((t) => t.keys))];
  return { keys, fields, tables, features };
}

/**
 * The KServe metadata of a contract: one input per entity key and request field, each a column
 * of shape [-1] (one element per row). Keys and `str` fields are BYTES, timestamps INT64 (epoch
 * ms; BYTES ISO 8601 text is taken too), other numbers FP64. A name that is both a key and a
 * field (a row's `origin`) is one input, typed as the field. `parameters` says which is which,
 * and what the server looks up.
 */
export function contractMetadata(c: DataframeContract): { inputs: { name: string; datatype: string; shape: number[] }[]; parameters: Record<string, string> } {
  const datatype = (f: ContractField | undefined) => (!f || f.type === 'str' ? 'BYTES' : f.timestamp ? 'INT64' : 'FP64');
  const names = [...c.keys, ...c.fields.map((f) => f.name).filter((n) => !c.keys.includes(n))];
  const inputs = names.map((name) => ({ name, datatype: datatype(c.fields.find((f) => f.name === name)), shape: [-1] }));
  return {
    inputs,
    parameters: {
      entity_keys: c.keys.join(','),
      request_fields: c.fields.map((f) => f.name).join(','),
      timestamp_fields: c.fields.filter((f) => f.timestamp).map((f) => f.name).join(','),
      looked_up_features: c.features.join(','),
    },
  };
}
