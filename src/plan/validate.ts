import { FrescoError } from '../errors/index.js';
import { PLAN_FORMAT, PLAN_VERSION, type OpName, type Plan, type SlotType } from './types.js';

type ParamKind = 'number' | 'number|null' | 'integer>=1' | 'ascending-numbers' | 'distinct-strings' | 'string';

interface OpSpec {
  args: SlotType[];
  params: Record<string, ParamKind>;
  /** Result type; one_hot's width depends on its categories. */
  result: SlotType;
}

const NUM1: SlotType[] = ['num'];
const NUM2: SlotType[] = ['num', 'num'];

/** Every op's signature: the single table both the validator and the docs follow. */
export const OP_SPECS: Record<OpName, OpSpec> = {
  const: { args: [], params: { value: 'number|null' }, result: 'num' },
  add: { args: NUM2, params: {}, result: 'num' },
  sub: { args: NUM2, params: {}, result: 'num' },
  mul: { args: NUM2, params: {}, result: 'num' },
  div: { args: NUM2, params: {}, result: 'num' },
  neg: { args: NUM1, params: {}, result: 'num' },
  abs: { args: NUM1, params: {}, result: 'num' },
  eq: { args: NUM2, params: {}, result: 'num' },
  ne: { args: NUM2, params: {}, result: 'num' },
  lt: { args: NUM2, params: {}, result: 'num' },
  le: { args: NUM2, params: {}, result: 'num' },
  gt: { args: NUM2, params: {}, result: 'num' },
  ge: { args: NUM2, params: {}, result: 'num' },
  and: { args: NUM2, params: {}, result: 'num' },
  or: { args: NUM2, params: {}, result: 'num' },
  not: { args: NUM1, params: {}, result: 'num' },
  if: { args: ['num', 'num', 'num'], params: {}, result: 'num' },
  is_null: { args: NUM1, params: {}, result: 'num' },
  fill_null: { args: NUM1, params: { value: 'number' }, result: 'num' },
  coalesce: { args: NUM2, params: {}, result: 'num' },
  log1p: { args: NUM1, params: {}, result: 'num' },
  clip: { args: NUM1, params: { lo: 'number|null', hi: 'number|null' }, result: 'num' },
  standardize: { args: NUM1, params: { mean: 'number', std: 'number' }, result: 'num' },
  min_max: { args: NUM1, params: { min: 'number', max: 'number' }, result: 'num' },
  bucketize: { args: NUM1, params: { boundaries: 'ascending-numbers' }, result: 'num' },
  hour: { args: NUM1, params: {}, result: 'num' },
  day_of_week: { args: NUM1, params: {}, result: 'num' },
  days_between: { args: NUM2, params: {}, result: 'num' },
  one_hot: { args: ['str'], params: { categories: 'distinct-strings' }, result: 'num' },
  hash_bucket: { args: ['str'], params: { n: 'integer>=1' }, result: 'num' },
  lower: { args: ['str'], params: {}, result: 'str' },
  str_eq: { args: ['str'], params: { value: 'string' }, result: 'num' },
};

function invalid(message: string): FrescoError {
  return new FrescoError('FRESCO_ERR_PLAN_INVALID', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkParam(where: string, name: string, kind: ParamKind, value: unknown): void {
  const fail = (expected: string) => invalid(`${where}: parameter "${name}" must be ${expected}, got ${JSON.stringify(value) ?? 'nothing'}`);
  switch (kind) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw fail('a finite number');
      return;
    case 'number|null':
      if (value !== null && (typeof value !== 'number' || Number.isNaN(value))) throw fail('a number or null');
      return;
    case 'integer>=1':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 0xffffffff) throw fail('an integer from 1 to 2^32-1');
      return;
    case 'string':
      if (typeof value !== 'string') throw fail('a string');
      return;
    case 'ascending-numbers':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw fail('a list of finite numbers');
      for (let i = 1; i < value.length; i++) {
        if (!((value[i] as number) > (value[i - 1] as number))) throw fail('strictly ascending');
      }
      return;
    case 'distinct-strings':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw fail('a list of strings');
      if (new Set(value).size !== value.length) throw fail('a list of distinct strings');
      return;
  }
}

/** How many slots an op appends. */
export function opWidth(op: { op: string; categories?: unknown }): number {
  return op.op === 'one_hot' && Array.isArray(op.categories) ? op.categories.length + 1 : 1;
}

/**
 * Checks that `value` is a well-formed plan and returns it typed, with the type of every slot.
 * Throws FRESCO_ERR_PLAN_INVALID naming the op (or input, or output) and what was wrong.
 */
export function validatePlan(value: unknown): { plan: Plan; slotTypes: SlotType[] } {
  if (!isRecord(value)) throw invalid('a plan must be a JSON object');
  if (value.format !== PLAN_FORMAT) throw invalid(`plan "format" must be "${PLAN_FORMAT}", got ${JSON.stringify(value.format)}`);
  if (value.version !== PLAN_VERSION) throw invalid(`plan "version" must be ${PLAN_VERSION}, got ${JSON.stringify(value.version)}`);
  if (!Array.isArray(value.inputs)) throw invalid('plan "inputs" must be a list');
  if (!Array.isArray(value.ops)) throw invalid('plan "ops" must be a list');
  if (!Array.isArray(value.outputs)) throw invalid('plan "outputs" must be a list');

  const slotTypes: SlotType[] = [];
  value.inputs.forEach((input: unknown, i: number) => {
    if (!isRecord(input) || typeof input.name !== 'string' || (input.type !== 'num' && input.type !== 'str')) {
      throw invalid(`input ${i}: must be { "name": string, "type": "num" | "str" }`);
    }
    slotTypes.push(input.type);
  });

  value.ops.forEach((op: unknown, i: number) => {
    if (!isRecord(op) || typeof op.op !== 'string') throw invalid(`op ${i}: must be an object with an "op" name`);
    const spec = Object.hasOwn(OP_SPECS, op.op) ? OP_SPECS[op.op as OpName] : undefined;
    const where = `op ${i} (${op.op})`;
    if (!spec) throw invalid(`op ${i}: unknown op "${op.op}"; known ops: ${Object.keys(OP_SPECS).join(', ')}`);
    const args = op.args;
    if (!Array.isArray(args) || args.length !== spec.args.length) {
      throw invalid(`${where}: takes ${spec.args.length} arg(s), got ${Array.isArray(args) ? args.length : JSON.stringify(args)}`);
    }
    args.forEach((slot: unknown, a: number) => {
      if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= slotTypes.length) {
        throw invalid(`${where}: arg ${a} refers to slot ${JSON.stringify(slot)}, but only slots 0..${slotTypes.length - 1} are defined`);
      }
      if (slotTypes[slot] !== spec.args[a]) {
        throw invalid(`${where}: arg ${a} (slot ${slot}) must be ${spec.args[a]}, but slot ${slot} is ${slotTypes[slot]}`);
      }
    });
    for (const [name, kind] of Object.entries(spec.params)) checkParam(where, name, kind, op[name]);
    for (let w = opWidth(op as { op: string; categories?: unknown }); w > 0; w--) slotTypes.push(spec.result);
  });

  value.outputs.forEach((slot: unknown, j: number) => {
    if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= slotTypes.length) {
      throw invalid(`output ${j} refers to slot ${JSON.stringify(slot)}, but only slots 0..${slotTypes.length - 1} are defined`);
    }
    if (slotTypes[slot] !== 'num') throw invalid(`output ${j} (slot ${slot}) is a str slot; outputs must be num`);
  });

  if (value.output_names !== undefined) {
    const names = value.output_names;
    if (!Array.isArray(names) || names.length !== value.outputs.length || names.some((n) => typeof n !== 'string') || new Set(names).size !== names.length) {
      throw invalid(`plan "output_names" must be ${value.outputs.length} distinct string(s), one per output`);
    }
  }

  return { plan: value as unknown as Plan, slotTypes };
}
