/**
 * A model version's input contract: what a client of a served ref sends. A hot swap, an alias
 * move or a traffic split to a version with another contract would make every request that fit
 * the serving version fail, so the manager refuses it (FRESCO_ERR_CONTRACT_CHANGED) unless the
 * caller forces it (`force: true` in the admin API). The contract is:
 *   - the input kind (`tensor` or `dataframe`);
 *   - a tensor model's inputs: name, dtype and shape (a symbolic dimension matches any symbol);
 *   - a dataframe model's caller inputs, as its KServe metadata lists them (dataframe-contract.ts):
 *     the entity keys its looked-up tables need (as the feature lookup names them) and its
 *     request fields, each with its datatype. Same plan inputs can still need other keys when a
 *     table was redeclared with another key.
 * A dataframe model's plan inputs are not compared: which features the server looks up, and
 * whether a name reaches the plan as a lookup key or a request field, is the server's business
 * (a version that reads `origin` as a field can replace one that looks features up by the
 * `origin` key: callers send the same). Its ONNX signature is the server's business too (the
 * plan feeds it), and outputs may change (a client asks for outputs by name, and an unknown one
 * is its own clear error).
 */
import { FrescoError } from '../errors/index.js';
import type { ModelPackage } from '../models/index.js';
import { contractMetadata, type DataframeContract, describeContract } from './dataframe-contract.js';
import type { FeatureLookup } from './feature-lookup.js';

type Contract = { kind: string; inputs: string[] };

/** What a caller of `pkg` sends, one `name: type` line an input. */
async function contractOf(pkg: ModelPackage, lookup: FeatureLookup | undefined, described?: DataframeContract): Promise<Contract> {
  const m = pkg.manifest;
  if (m.input_kind === 'tensor') {
    return { kind: 'tensor', inputs: m.signature.inputs.map((t) => `${t.name}: ${t.dtype}[${t.shape.map((d) => (typeof d === 'number' ? d : '?')).join(', ')}]`) };
  }
  if (!pkg.plan) return { kind: 'dataframe', inputs: [] };
  const contract = described ?? (await describeContract(pkg.plan, lookup));
  return { kind: 'dataframe', inputs: contractMetadata(contract).inputs.map((i) => `${i.name}: ${i.datatype}`) };
}

/** How contract `b` differs from `a`, in words; undefined when it is the same. */
export function contractChange(a: Contract, b: Contract): string | undefined {
  if (a.kind !== b.kind) return `input kind ${a.kind} -> ${b.kind}`;
  const list = (xs: string[]) => xs.slice(0, 5).join('; ') + (xs.length > 5 ? `; and ${xs.length - 5} more` : '');
  const removed = a.inputs.filter((x) => !b.inputs.includes(x));
  const added = b.inputs.filter((x) => !a.inputs.includes(x));
  const parts = [removed.length ? `inputs removed or changed: ${list(removed)}` : '', added.length ? `inputs added: ${list(added)}` : ''];
  return parts.filter(Boolean).join('; ') || undefined;
}

/**
 * Throws FRESCO_ERR_CONTRACT_CHANGED when moving `ref` from `current` to `next` would change what
 * its clients send, unless `force`.
 */
export async function checkContract(
  ref: string,
  current: { version: number; pkg: ModelPackage; contract?: DataframeContract | undefined },
  next: { version: number; pkg: ModelPackage },
  force: boolean | undefined,
  lookup?: FeatureLookup,
): Promise<void> {
  if (force) return;
  // The serving version's contract was described when it loaded; the next one's as its load would.
  const change = contractChange(await contractOf(current.pkg, lookup, current.contract), await contractOf(next.pkg, lookup));
  if (!change) return;
  throw new FrescoError(
    'FRESCO_ERR_CONTRACT_CHANGED',
    `"${ref}" serves version ${current.version}; version ${next.version} takes other inputs (${change}), so requests that fit version ${current.version} would fail. Pass force: true (admin API) to move it anyway`,
    { location: { key: ref } },
  );
}
