/**
 * The frozen plan: a fitted, plain plan plus its content hash and a record of what was learned.
 * This is what model packages store; `loadFrozenPlan` re-checks the hash, so a plan edited by
 * hand (or corrupted) is refused instead of silently serving different features.
 */
import { createHash } from 'node:crypto';
import { FrescoError } from '../errors/index.js';
import type { Plan } from '../plan/types.js';
import { validatePlan } from '../plan/validate.js';
import type { FitKind } from './graph.js';

export const FROZEN_FORMAT = 'fresco.frozen-plan';

/** One fitted function's learned parameters, where it was written, and the op it became. */
export interface FittedParam {
  /** The output line it belongs to. */
  output: string;
  function: FitKind;
  /** The call as written in the spec, and where. */
  expression: string;
  line: number;
  column: number;
  /** Index of the op it became in plan.ops. */
  op: number;
  /** The learned parameters (mean/std, min/max, value, categories) and the rows they came from. */
  params: Record<string, number | string[]>;
  rows: number;
}

export interface FrozenPlan {
  format: typeof FROZEN_FORMAT;
  /** `sha256:<hex>` of the canonical JSON of `plan`. */
  hash: string;
  plan: Plan;
  fitted: FittedParam[];
  /** The spec file it was compiled from (informational). */
  spec?: string;
}

/** JSON with object keys sorted at every level: the same plan always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

export function planHash(plan: Plan): string {
  return `sha256:${createHash('sha256').update(canonicalJson(plan)).digest('hex')}`;
}

export function freezePlan(plan: Plan, fitted: FittedParam[], spec?: string): FrozenPlan {
  validatePlan(plan);
  return { format: FROZEN_FORMAT, hash: planHash(plan), plan, fitted, ...(spec === undefined ? {} : { spec }) };
}

export function serializeFrozenPlan(frozen: FrozenPlan): string {
  return `${JSON.stringify(frozen, null, 2)}\n`;
}

/** Parses and checks a frozen plan (format, plan validity, hash). Throws FRESCO_ERR_PLAN_INVALID. */
export function loadFrozenPlan(json: string | unknown, where = 'frozen plan'): FrozenPlan {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new FrescoError('FRESCO_ERR_PLAN_INVALID', `${where}: not valid JSON: ${(error as Error).message}`);
    }
  }
  const v = value as Partial<FrozenPlan> | null;
  if (!v || typeof v !== 'object' || v.format !== FROZEN_FORMAT) throw new FrescoError('FRESCO_ERR_PLAN_INVALID', `${where}: "format" must be "${FROZEN_FORMAT}"`);
  const { plan } = validatePlan(v.plan);
  const hash = planHash(plan);
  if (v.hash !== hash) throw new FrescoError('FRESCO_ERR_PLAN_INVALID', `${where}: content hash mismatch: recorded ${v.hash}, computed ${hash}; the plan was changed after it was frozen`);
  if (!Array.isArray(v.fitted)) throw new FrescoError('FRESCO_ERR_PLAN_INVALID', `${where}: "fitted" must be a list`);
  return v as FrozenPlan;
}
