/**
 * A model version's input contract: what a client of a served ref sends. A hot swap, an alias
 * move or a traffic split to a version with another contract would make every request that fit
 * the serving version fail, so the manager refuses it (FRESCO_ERR_CONTRACT_CHANGED) unless the
 * caller forces it (`force: true` in the admin API). The contract is:
 *   - the input kind (`tensor` or `dataframe`);
 *   - a tensor model's inputs: name, dtype and shape (a symbolic dimension matches any symbol);
 *   - a dataframe model's plan inputs: name and type (request fields and looked-up features).
 * A dataframe model's ONNX signature is the server's business (the plan feeds it), and outputs
 * may change (a client asks for outputs by name, and an unknown one is its own clear error).
 */
import { FrescoError } from '../errors/index.js';
import type { ModelPackage } from '../models/index.js';

type Contract = { kind: string; inputs: string[] };

function contractOf(pkg: ModelPackage): Contract {
  const m = pkg.manifest;
  if (m.input_kind === 'tensor') {
    return { kind: 'tensor', inputs: m.signature.inputs.map((t) => `${t.name}: ${t.dtype}[${t.shape.map((d) => (typeof d === 'number' ? d : '?')).join(', ')}]`) };
  }
  return { kind: 'dataframe', inputs: (pkg.plan?.inputs ?? []).map((i) => `${i.name}: ${i.type}`) };
}

/** How `next`'s contract differs from `current`'s, in words; undefined when it is the same. */
export function contractChange(current: ModelPackage, next: ModelPackage): string | undefined {
  const a = contractOf(current);
  const b = contractOf(next);
  if (a.kind !== b.kind) return `input kind ${a.kind} -> ${b.kind}`;
  const removed = a.inputs.filter((x) => !b.inputs.includes(x));
  const added = b.inputs.filter((x) => !a.inputs.includes(x));
  if (!removed.length && !added.length) return undefined;
  const list = (xs: string[]) => xs.slice(0, 5).join('; ') + (xs.length > 5 ? `; and ${xs.length - 5} more` : '');
  const what = a.kind === 'tensor' ? 'inputs' : 'plan inputs';
  return [removed.length ? `${what} removed or changed: ${list(removed)}` : '', added.length ? `${what} added: ${list(added)}` : ''].filter(Boolean).join('; ');
}

/**
 * Throws FRESCO_ERR_CONTRACT_CHANGED when moving `ref` from `current` to `next` would change what
 * its clients send, unless `force`.
 */
export function checkContract(ref: string, current: { version: number; pkg: ModelPackage }, next: { version: number; pkg: ModelPackage }, force: boolean | undefined): void {
  if (force) return;
  const change = contractChange(current.pkg, next.pkg);
  if (!change) return;
  throw new FrescoError(
    'FRESCO_ERR_CONTRACT_CHANGED',
    `"${ref}" serves version ${current.version}; version ${next.version} takes other inputs (${change}), so requests that fit version ${current.version} would fail. Pass force: true (admin API) to move it anyway`,
    { location: { key: ref } },
  );
}
