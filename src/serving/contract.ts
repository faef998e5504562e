/**
 * A model version's input contract: what a client of a served ref sends. A hot swap, an alias
 * move or a traffic split to a version with another contract would make every request that fit
 * the serving version fail, so the manager refuses it (FRESCO_ERR_CONTRACT_CHANGED) unless the
 * caller forces it (`force: true` in the admin API). The contract is:
 *   - the input kind (`tensor` or `dataframe`);
 *   - a tensor model's inputs: name, dtype and shape (a symbolic dimension matches any symbol);
 *   - a dataframe model's plan inputs: name and type (request fields and looked-up features);
 *   - a dataframe model's entity keys: the request keys its looked-up tables need, as the
 *     feature lookup names them (describe(): join_key_map names, else the store's join keys).
 *     Same plan inputs can still need other keys when a table was redeclared with another key.
 * A dataframe model's ONNX signature is the server's business (the plan feeds it), and outputs
 * may change (a client asks for outputs by name, and an unknown one is its own clear error).
 */
import { FrescoError } from '../errors/index.js';
import type { ModelPackage } from '../models/index.js';
import { type DataframeContract, describeContract } from './dataframe-contract.js';
import type { FeatureLookup } from './feature-lookup.js';

type Contract = { kind: string; inputs: string[] };

function contractOf(pkg: ModelPackage): Contract {
  const m = pkg.manifest;
  if (m.input_kind === 'tensor') {
    return { kind: 'tensor', inputs: m.signature.inputs.map((t) => `${t.name}: ${t.dtype}[${t.shape.map((d) => (typeof d === 'number' ? d : '?')).join(', ')}]`) };
  }
  return { kind: 'dataframe', inputs: (pkg.plan?.inputs ?? []).map((i) => `${i.name}: ${i.type}`) };
}

/**
 * How `next`'s contract differs from `current`'s, in words; undefined when it is the same.
 * `keys`: both dataframe versions' entity keys (compared as sets), when known.
 */
export function contractChange(current: ModelPackage, next: ModelPackage, keys?: { current: string[]; next: string[] }): string | undefined {
  const a = contractOf(current);
  const b = contractOf(next);
  if (a.kind !== b.kind) return `input kind ${a.kind} -> ${b.kind}`;
  const list = (xs: string[]) => xs.slice(0, 5).join('; ') + (xs.length > 5 ? `; and ${xs.length - 5} more` : '');
  const diff = (what: string, from: string[], to: string[]) => {
    const removed = from.filter((x) => !to.includes(x));
    const added = to.filter((x) => !from.includes(x));
    return [removed.length ? `${what} removed or changed: ${list(removed)}` : '', added.length ? `${what} added: ${list(added)}` : ''];
  };
  const parts = diff(a.kind === 'tensor' ? 'inputs' : 'plan inputs', a.inputs, b.inputs);
  if (keys) parts.push(...diff('entity keys', keys.current, keys.next));
  const change = parts.filter(Boolean).join('; ');
  return change || undefined;
}

/**
 * Throws FRESCO_ERR_CONTRACT_CHANGED when moving `ref` from `current` to `next` would change what
 * its clients send, unless `force`. A dataframe version's entity keys come from `current`'s
 * contract (described when it loaded) and from `lookup` for `next` (as its load would describe them).
 */
export async function checkContract(
  ref: string,
  current: { version: number; pkg: ModelPackage; contract?: DataframeContract | undefined },
  next: { version: number; pkg: ModelPackage },
  force: boolean | undefined,
  lookup?: FeatureLookup,
): Promise<void> {
  if (force) return;
  const plan = next.pkg.manifest.input_kind === 'dataframe' ? next.pkg.plan : undefined;
  const keys = current.contract && plan ? { current: current.contract.keys, next: (await describeContract(plan, lookup)).keys } : undefined;
  const change = contractChange(current.pkg, next.pkg, keys);
  if (!change) return;
  throw new FrescoError(
    'FRESCO_ERR_CONTRACT_CHANGED',
    `"${ref}" serves version ${current.version}; version ${next.version} takes other inputs (${change}), so requests that fit version ${current.version} would fail. Pass force: true (admin API) to move it anyway`,
    { location: { key: ref } },
  );
}
