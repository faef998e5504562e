/**
 * The reference evaluator: the plan semantics of docs/plan-format.md written as plainly as
 * possible, one whole column at a time. It is the yardstick the native core is tested against
 * (and benchmarked against), so clarity beats speed here.
 */
import { FrescoError } from '../errors/index.js';
import { checkColumns, isValid } from './columns.js';
import { planToJson } from './json.js';
import type { Column, Plan, PlanOp } from './types.js';
import { validatePlan } from './validate.js';

type NumColumn = Float64Array; // NaN = null
type StrColumn = (string | null)[];
type Slot = NumColumn | StrColumn;

const DAY_MS = 86_400_000;
/** JavaScript's Date range; beyond it timestamps have no calendar meaning, so hour/day are null. */
const MAX_TS = 8.64e15;
const HOUR_MS = 3_600_000;

function toNumbers(column: Column, rows: number): NumColumn {
  const out = new Float64Array(rows);
  if (column.kind === 'dict' || column.kind === 'utf8') throw new Error('unreachable: checked by checkColumns');
  for (let i = 0; i < rows; i++) {
    out[i] = isValid(column.validity, i) ? Number(column.values[i]) : NaN;
  }
  if (column.kind === 'bool') for (let i = 0; i < rows; i++) if (out[i] !== 0 && !Number.isNaN(out[i])) out[i] = 1;
  return out;
}

function toStrings(column: Column, rows: number): StrColumn {
  const decoder = new TextDecoder();
  const out: StrColumn = new Array(rows);
  if (column.kind === 'dict') {
    for (let i = 0; i < rows; i++) {
      const code = column.codes[i] as number;
      out[i] = code < 0 ? null : (column.dictionary[code] as string);
    }
  } else if (column.kind === 'utf8') {
    for (let i = 0; i < rows; i++) {
      out[i] = isValid(column.validity, i) ? decoder.decode(column.data.subarray(column.offsets[i], column.offsets[i + 1])) : null;
    }
  }
  return out;
}

/** Applies f to each row; NaN results are null by construction. */
function map1(a: NumColumn, f: (x: number) => number): NumColumn {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isNaN(a[i]) ? NaN : f(a[i] as number);
  return out;
}

function map2(a: NumColumn, b: NumColumn, f: (x: number, y: number) => number): NumColumn {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    out[i] = Number.isNaN(x) || Number.isNaN(y) ? NaN : f(x, y);
  }
  return out;
}

const truth = (x: number): boolean => x !== 0;
const bool = (b: boolean): number => (b ? 1 : 0);

/** Floor-mod on integers held in doubles: exact for |t| < 2^53. */
function floorMod(t: number, m: number): number {
  return ((t % m) + m) % m;
}

function hourOfDay(ts: number): number {
  if (!(Math.abs(ts) <= MAX_TS)) return NaN;
  return Math.floor(floorMod(Math.floor(ts), DAY_MS) / HOUR_MS);
}

function dayOfWeek(ts: number): number {
  if (!(Math.abs(ts) <= MAX_TS)) return NaN;
  const t = Math.floor(ts);
  const days = (t - floorMod(t, DAY_MS)) / DAY_MS;
  return floorMod(days + 3, 7); // 1970-01-01 was a Thursday (3 when Monday is 0)
}

export function fnv1a32(s: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(s)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function bucketOf(x: number, boundaries: number[]): number {
  let count = 0;
  for (const b of boundaries) if (b <= x) count++;
  return count;
}

function evalOp(op: PlanOp, slots: Slot[], rows: number): Slot[] {
  const num = (k: number) => slots[op.args[k] as number] as NumColumn;
  const str = (k: number) => slots[op.args[k] as number] as StrColumn;
  switch (op.op) {
    case 'const':
      return [new Float64Array(rows).fill(op.value === null ? NaN : op.value)];
    case 'add':
      return [map2(num(0), num(1), (x, y) => x + y)];
    case 'sub':
      return [map2(num(0), num(1), (x, y) => x - y)];
    case 'mul':
      return [map2(num(0), num(1), (x, y) => x * y)];
    case 'div':
      return [map2(num(0), num(1), (x, y) => (y === 0 ? NaN : x / y))];
    case 'neg':
      return [map1(num(0), (x) => -x)];
    case 'abs':
      return [map1(num(0), Math.abs)];
    case 'eq':
      return [map2(num(0), num(1), (x, y) => bool(x === y))];
    case 'ne':
      return [map2(num(0), num(1), (x, y) => bool(x !== y))];
    case 'lt':
      return [map2(num(0), num(1), (x, y) => bool(x < y))];
    case 'le':
      return [map2(num(0), num(1), (x, y) => bool(x <= y))];
    case 'gt':
      return [map2(num(0), num(1), (x, y) => bool(x > y))];
    case 'ge':
      return [map2(num(0), num(1), (x, y) => bool(x >= y))];
    case 'and':
    case 'or': {
      const a = num(0);
      const b = num(1);
      const out = new Float64Array(rows);
      const decisive = op.op === 'and' ? false : true; // the value that settles the result alone
      for (let i = 0; i < rows; i++) {
        const x = a[i] as number;
        const y = b[i] as number;
        const xKnown = !Number.isNaN(x);
        const yKnown = !Number.isNaN(y);
        if ((xKnown && truth(x) === decisive) || (yKnown && truth(y) === decisive)) out[i] = bool(decisive);
        else out[i] = xKnown && yKnown ? bool(!decisive) : NaN;
      }
      return [out];
    }
    case 'not':
      return [map1(num(0), (x) => bool(!truth(x)))];
    case 'if': {
      const c = num(0);
      const a = num(1);
      const b = num(2);
      const out = new Float64Array(rows);
      for (let i = 0; i < rows; i++) out[i] = !Number.isNaN(c[i]) && truth(c[i] as number) ? (a[i] as number) : (b[i] as number);
      return [out];
    }
    case 'is_null':
      return [num(0).map((x) => bool(Number.isNaN(x)))];
    case 'fill_null':
      return [num(0).map((x) => (Number.isNaN(x) ? op.value : x))];
    case 'coalesce': {
      const b = num(1);
      return [num(0).map((x, i) => (Number.isNaN(x) ? (b[i] as number) : x))];
    }
    case 'log1p':
      return [map1(num(0), Math.log1p)];
    case 'clip':
      return [
        map1(num(0), (x) => {
          if (op.lo !== null && x < op.lo) return op.lo;
          if (op.hi !== null && x > op.hi) return op.hi;
          return x;
        }),
      ];
    case 'standardize': {
      const std = op.std === 0 ? 1 : op.std;
      return [map1(num(0), (x) => (x - op.mean) / std)];
    }
    case 'min_max': {
      const range = op.max - op.min === 0 ? 1 : op.max - op.min;
      return [map1(num(0), (x) => (x - op.min) / range)];
    }
    case 'bucketize':
      return [map1(num(0), (x) => bucketOf(x, op.boundaries))];
    case 'hour':
      return [map1(num(0), hourOfDay)];
    case 'day_of_week':
      return [map1(num(0), dayOfWeek)];
    case 'days_between':
      return [map2(num(0), num(1), (t1, t2) => (t2 - t1) / DAY_MS)];
    case 'one_hot': {
      const s = str(0);
      const k = op.categories.length;
      const outs = Array.from({ length: k + 1 }, () => new Float64Array(rows));
      for (let i = 0; i < rows; i++) {
        const v = s[i];
        if (v === null || v === undefined) continue;
        const index = op.categories.indexOf(v);
        (outs[index < 0 ? k : index] as Float64Array)[i] = 1;
      }
      return outs;
    }
    case 'hash_bucket':
      return [Float64Array.from(str(0), (v) => (v === null ? NaN : fnv1a32(v) % op.n))];
    case 'lower':
      return [str(0).map((v) => (v === null ? null : asciiLower(v)))];
    case 'str_eq':
      return [Float64Array.from(str(0), (v) => (v === null ? NaN : bool(v === op.value)))];
  }
}

/**
 * Runs a plan over `rows` rows of input columns and returns the row-major Float32 matrix
 * (rows x outputs), nulls as NaN. Validates the plan and the columns first.
 */
export function runReference(planValue: unknown, columns: Column[], rows: number): Float32Array {
  const { plan, slotTypes } = preparePlan(planValue);
  checkColumns(plan.inputs, columns, rows);
  const slots: Slot[] = columns.map((column, i) => (slotTypes[i] === 'num' ? toNumbers(column, rows) : toStrings(column, rows)));
  for (const op of plan.ops) slots.push(...evalOp(op, slots, rows));
  return assemble(plan, slots, rows);
}

const prepared = new WeakMap<object, ReturnType<typeof validatePlan>>();

/**
 * A plan is a JSON document: evaluate exactly the document the native side receives. Cached per
 * plan object (plans are values: build a new one rather than mutating one that has run), so that
 * running one plan many times (one row at a time) costs what evaluating does.
 */
function preparePlan(planValue: unknown): ReturnType<typeof validatePlan> {
  const cacheable = typeof planValue === 'object' && planValue !== null;
  const hit = cacheable ? prepared.get(planValue) : undefined;
  if (hit) return hit;
  const document = typeof planValue === 'string' ? planValue : planToJson(planValue);
  const result = validatePlan(parseJson(document));
  if (cacheable) prepared.set(planValue, result);
  return result;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_PLAN_INVALID', `plan is not valid JSON: ${(error as Error).message}`);
  }
}

function assemble(plan: Plan, slots: Slot[], rows: number): Float32Array {
  const width = plan.outputs.length;
  const matrix = new Float32Array(rows * width);
  plan.outputs.forEach((slot, j) => {
    const column = slots[slot] as NumColumn;
    for (let i = 0; i < rows; i++) matrix[i * width + j] = column[i] as number;
  });
  return matrix;
}
