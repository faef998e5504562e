/** Model references, as clients write them (Michelangelo's rule): `name`, `name@<version>`, `name@<alias>`. */
import { FrescoError } from '../errors/index.js';
import { MODEL_NAME_PATTERN } from '../models/manifest.js';

/** Alias names start with a letter, so `name@3` is always version 3. `latest` is reserved. */
export const ALIAS_PATTERN = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
export const LATEST = 'latest';

export type ModelRef = { name: string; version: number } | { name: string; alias: string } | { name: string; latest: true };

export function checkModelName(name: string): string {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `model name "${name}" is invalid: use letters, digits, ".", "_" or "-" (at most 128, starting with a letter or digit)`);
  }
  return name;
}

export function checkAliasName(alias: string): string {
  if (!ALIAS_PATTERN.test(alias) || alias === LATEST) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `alias "${alias}" is invalid: use a letter then letters, digits, ".", "_" or "-" (at most 64), not "${LATEST}"`);
  }
  return alias;
}

export function parseVersion(text: string): number {
  const version = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(version) || version < 1) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `version "${text}" is invalid: expected a positive integer`);
  return version;
}

export function parseRef(ref: string): ModelRef {
  const at = ref.indexOf('@');
  const name = checkModelName(at < 0 ? ref : ref.slice(0, at));
  if (at < 0) return { name, latest: true };
  const rest = ref.slice(at + 1);
  if (/^\d+$/.test(rest)) return { name, version: parseVersion(rest) };
  if (rest === LATEST) return { name, latest: true };
  return { name, alias: checkAliasName(rest) };
}
