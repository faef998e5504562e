import { FrescoError } from '../errors/index.js';

/**
 * A plan is a JSON document: this is the one way a plan object becomes the text both executors
 * read. JSON has no NaN, Infinity or -0, so NaN and infinities are rejected (naming where they
 * are) rather than silently turned into null, and -0 becomes 0 for both engines alike.
 */
export function planToJson(plan: unknown): string {
  // The common case (every number finite) is checked without building paths: serving compiles
  // a plan on the event loop during a hot swap, where every 0.1 ms shows in the tail latency.
  const bad = allFinite(plan, new Set()) ? undefined : nonFinite(plan, '', new Set());
  if (bad !== undefined) {
    const op = /^ops\[(\d+)\]/.exec(bad);
    const where = op ? `op ${op[1]}: ${bad}` : bad || 'the plan';
    throw new FrescoError('FRESCO_ERR_PLAN_INVALID', `${where} is not a finite number; plans are JSON, which has no NaN or Infinity`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(plan);
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_PLAN_INVALID', `plan cannot be serialized to JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (json === undefined) throw new FrescoError('FRESCO_ERR_PLAN_INVALID', `plan must be a JSON object, got ${typeof plan}`);
  return json;
}

/** Whether every number in a plan is finite (no strings built: the fast check). */
function allFinite(value: unknown, seen: Set<unknown>): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || value === null || seen.has(value)) return true;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const v of value) if (!allFinite(v, seen)) return false;
    return true;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && !allFinite((value as Record<string, unknown>)[key], seen)) return false;
  }
  return true;
}

/** The path (`ops[3].value`) of the first NaN or infinite number in a plan, which JSON cannot carry. */
function nonFinite(value: unknown, path: string, seen: Set<unknown>): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nonFinite(value[i], `${path}[${i}]`, seen);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    const found = nonFinite(v, path ? `${path}.${key}` : key, seen);
    if (found) return found;
  }
  return undefined;
}
