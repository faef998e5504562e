/**
 * The DSL's functions: each checks its arguments and lowers to plan ops. Where the kernels have
 * no op of the same shape, the function is composed from existing ops (documented per function).
 */
import type { Expr } from './ast.js';
import type { Checker, Value } from './check.js';
import type { FitKind } from './graph.js';
import { closest } from './source.js';
import { type DslType, isNumeric, unify } from './types.js';

type Call = Extract<Expr, { kind: 'call' }>;

interface FunctionDef {
  /** How the function is written, for messages and docs: `clip(x, lo, hi)`. */
  signature: string;
  /** Positional argument count: [min, max] (max Infinity for variadic). */
  arity: [number, number];
  /** Named arguments it accepts. */
  named?: string[];
  lower(c: Checker, call: Call, args: Expr[]): Value;
}

const NUMBER: DslType[] = ['int', 'float'];
const FILLABLE: DslType[] = ['int', 'float', 'bool', 'timestamp'];

/** A number literal (with an optional leading minus), or null when `allowNull` says so. */
function literalNumber(c: Checker, fn: string, e: Expr, what: string, allowNull = false): number | null {
  const v = c.check(e);
  if (allowNull && v.type === 'null') return null;
  if (v.literal && typeof v.literal.value === 'number') return v.literal.value;
  return c.typeError(e.span, `${fn}: ${what} must be a number literal${allowNull ? ' or null' : ''}, not ${c.text(e.span)}`, 'these parameters are fixed in the plan, not computed per row');
}

function literalList(c: Checker, fn: string, e: Expr, kind: 'number' | 'string', what: string): { values: (number | string)[]; spans: Expr[] } {
  if (e.kind !== 'list') return c.typeError(e.span, `${fn}: ${what} must be a list of ${kind} literals like ${kind === 'number' ? '[1, 10, 100]' : '["SFO", "LAX"]'}`);
  if (e.items.length === 0) c.typeError(e.span, `${fn}: ${what} must not be empty`);
  const values = e.items.map((item) => {
    const v = c.check(item);
    if (!v.literal || typeof v.literal.value !== kind) c.typeError(item.span, `${fn}: every item of ${what} must be a ${kind} literal, not ${c.text(item.span)}`);
    return v.literal?.value as number | string;
  });
  return { values, spans: e.items };
}

function unary(type: (v: Value) => DslType, op: 'abs' | 'log1p' | 'hour' | 'day_of_week', accepts: DslType[], nullable?: boolean): FunctionDef {
  return {
    signature: `${op}(x)`,
    arity: [1, 1],
    lower(c, call, [x]) {
      const v = c.expect(x as Expr, c.value(x as Expr), accepts, `${op}(...)`);
      return { type: type(v), nullable: nullable ?? v.nullable, span: call.span, node: c.graph.op(op, [c.node(v)]) };
    },
  };
}

function fitted(fit: FitKind, type: DslType, fills: boolean): FunctionDef {
  return {
    signature: `${fit}(x)`,
    arity: [1, 1],
    lower(c, call, [x]) {
      const v = c.expect(x as Expr, c.value(x as Expr), NUMBER, `${fit}(...)`);
      return { type, nullable: fills ? false : v.nullable, span: call.span, node: c.graph.fit(fit, c.node(v), call.span, c.currentOutput) };
    },
  };
}

/** Checks branch values that must share a type (if, coalesce, fill_null). */
function common(c: Checker, fn: string, values: Value[], exprs: Expr[]): DslType {
  let type: DslType = 'null';
  values.forEach((v, i) => {
    if (v.type === 'string') c.typeError((exprs[i] as Expr).span, `${fn}: strings cannot be chosen between`, 'encode the string first (one_hot, hash_bucket), then choose between the numbers');
    const u = unify(type, v.type);
    if (u === undefined) c.typeError((exprs[i] as Expr).span, `${fn}: ${c.text((exprs[i] as Expr).span)} is ${v.type === 'int' ? 'an' : 'a'} ${v.type}, but the earlier argument is ${type === 'int' ? 'an' : 'a'} ${type}`, 'all choices must have the same type (int and float mix as float)');
    type = u as DslType;
  });
  return type;
}

export const FUNCTIONS: Record<string, FunctionDef> = {
  if: {
    signature: 'if(condition, then, else)',
    arity: [3, 3],
    lower(c, call, [cond, a, b]) {
      const cv = c.expect(cond as Expr, c.value(cond as Expr), ['bool'], 'the condition of if(...)');
      const av = c.value(a as Expr);
      const bv = c.value(b as Expr);
      const type = common(c, 'if', [av, bv], [a as Expr, b as Expr]);
      return { type, nullable: av.nullable || bv.nullable, span: call.span, node: c.graph.op('if', [c.node(cv), c.node(av), c.node(bv)]) };
    },
  },
  coalesce: {
    signature: 'coalesce(a, b, ...)',
    arity: [2, Infinity],
    // The kernel's coalesce is binary: coalesce(a, b, c) = coalesce(coalesce(a, b), c).
    lower(c, call, args) {
      const values = args.map((a) => c.value(a));
      const type = common(c, 'coalesce', values, args);
      let node = c.node(values[0] as Value);
      for (const v of values.slice(1)) node = c.graph.op('coalesce', [node, c.node(v)]);
      return { type, nullable: values.every((v) => v.nullable), span: call.span, node };
    },
  },
  fill_null: {
    signature: 'fill_null(x, value)',
    arity: [2, 2],
    // A literal value is the fill_null op; a column value is coalesce.
    lower(c, call, [x, fill]) {
      const xv = c.expect(x as Expr, c.value(x as Expr), FILLABLE, 'fill_null(...)', 'a null string is already all zeros in one_hot and null in hash_bucket');
      const fv = c.value(fill as Expr);
      const type = common(c, 'fill_null', [xv, fv], [x as Expr, fill as Expr]);
      if (fv.literal && fv.literal.value !== null) {
        const value = typeof fv.literal.value === 'boolean' ? (fv.literal.value ? 1 : 0) : (fv.literal.value as number);
        return { type, nullable: false, span: call.span, node: c.graph.op('fill_null', [c.node(xv)], { value }) };
      }
      return { type, nullable: fv.nullable, span: call.span, node: c.graph.op('coalesce', [c.node(xv), c.node(fv)]) };
    },
  },
  is_null: {
    signature: 'is_null(x)',
    arity: [1, 1],
    // For strings: hash_bucket(s, 1) is 0, or null exactly where s is null.
    lower(c, call, [x]) {
      const v = c.value(x as Expr);
      let node = v.type === 'string' ? c.graph.op('hash_bucket', [c.node(v)], { n: 1 }) : c.node(v);
      node = c.graph.op('is_null', [node]);
      return { type: 'bool', nullable: false, span: call.span, node };
    },
  },
  log1p: unary(() => 'float', 'log1p', NUMBER, true),
  abs: unary((v) => (v.type === 'null' ? 'float' : v.type), 'abs', NUMBER),
  hour: unary(() => 'int', 'hour', ['timestamp']),
  day_of_week: unary(() => 'int', 'day_of_week', ['timestamp']),
  days_between: {
    signature: 'days_between(t1, t2)',
    arity: [2, 2],
    lower(c, call, [t1, t2]) {
      const a = c.expect(t1 as Expr, c.value(t1 as Expr), ['timestamp'], 'days_between(...)');
      const b = c.expect(t2 as Expr, c.value(t2 as Expr), ['timestamp'], 'days_between(...)');
      return { type: 'float', nullable: a.nullable || b.nullable, span: call.span, node: c.graph.op('days_between', [c.node(a), c.node(b)]) };
    },
  },
  clip: {
    signature: 'clip(x, lo, hi)',
    arity: [3, 3],
    lower(c, call, [x, loE, hiE]) {
      const v = c.expect(x as Expr, c.value(x as Expr), NUMBER, 'clip(...)');
      const lo = literalNumber(c, 'clip', loE as Expr, 'the lower bound', true);
      const hi = literalNumber(c, 'clip', hiE as Expr, 'the upper bound', true);
      if (lo !== null && hi !== null && lo > hi) c.typeError({ start: (loE as Expr).span.start, end: (hiE as Expr).span.end }, `clip: the lower bound ${lo} is above the upper bound ${hi}`);
      const integral = [lo, hi].every((b) => b === null || Number.isInteger(b));
      return { type: v.type === 'int' && integral ? 'int' : 'float', nullable: v.nullable, span: call.span, node: c.graph.op('clip', [c.node(v)], { lo, hi }) };
    },
  },
  bucketize: {
    signature: 'bucketize(x, [b0, b1, ...])',
    arity: [2, 2],
    lower(c, call, [x, list]) {
      const v = c.expect(x as Expr, c.value(x as Expr), ['int', 'float', 'timestamp'], 'bucketize(...)');
      const { values, spans } = literalList(c, 'bucketize', list as Expr, 'number', 'the boundaries');
      for (let i = 1; i < values.length; i++) {
        if (!((values[i] as number) > (values[i - 1] as number))) c.typeError((spans[i] as Expr).span, `bucketize: boundaries must be strictly ascending, but ${values[i]} follows ${values[i - 1]}`);
      }
      return { type: 'int', nullable: v.nullable, span: call.span, node: c.graph.op('bucketize', [c.node(v)], { boundaries: values }) };
    },
  },
  one_hot: {
    signature: 'one_hot(s, ["a", "b", ...])',
    arity: [2, 2],
    lower(c, call, [s, list]) {
      const v = c.expect(s as Expr, c.value(s as Expr), ['string'], 'one_hot(...)', 'bucketize(x, [...]) turns a number into categories');
      const { values, spans } = literalList(c, 'one_hot', list as Expr, 'string', 'the categories');
      const seen = new Set<number | string>();
      values.forEach((cat, i) => {
        if (seen.size === seen.add(cat).size) c.typeError((spans[i] as Expr).span, `one_hot: category ${JSON.stringify(cat)} is listed twice`);
        if (cat === 'other') c.typeError((spans[i] as Expr).span, 'one_hot: "other" is the name of the column for every other value', 'leave "other" out: values not listed already go to <name>__other');
      });
      if (v.type === 'null') c.typeError((s as Expr).span, 'one_hot: the argument is always null');
      return { type: 'float', nullable: false, span: call.span, node: c.graph.op('one_hot', [c.node(v)], { categories: values }), multi: true };
    },
  },
  hash_bucket: {
    signature: 'hash_bucket(s, n)',
    arity: [2, 2],
    lower(c, call, [s, nE]) {
      const v = c.expect(s as Expr, c.value(s as Expr), ['string'], 'hash_bucket(...)');
      const n = literalNumber(c, 'hash_bucket', nE as Expr, 'the bucket count');
      if (n === null || !Number.isInteger(n) || n < 1 || n > 0xffffffff) c.typeError((nE as Expr).span, `hash_bucket: the bucket count must be an integer from 1 to 4294967295, not ${n}`);
      if (v.type === 'null') return { type: 'int', nullable: true, span: call.span, node: c.graph.constant(null) };
      return { type: 'int', nullable: v.nullable, span: call.span, node: c.graph.op('hash_bucket', [c.node(v)], { n }) };
    },
  },
  lower: {
    signature: 'lower(s)',
    arity: [1, 1],
    lower(c, call, [s]) {
      const v = c.expect(s as Expr, c.value(s as Expr), ['string'], 'lower(...)');
      if (v.literal) return { ...v, span: call.span, literal: { value: (v.literal.value as string).replace(/[A-Z]/g, (ch) => ch.toLowerCase()) } };
      if (v.type === 'null') return { ...v, type: 'string', span: call.span };
      return { type: 'string', nullable: v.nullable, span: call.span, node: c.graph.op('lower', [c.node(v)], {}, 'str') };
    },
  },
  standardize: fitted('standardize', 'float', false),
  min_max: fitted('min_max', 'float', false),
  fill_mean: fitted('fill_mean', 'float', true),
  fill_median: fitted('fill_median', 'float', true),
  vocab_one_hot: {
    signature: 'vocab_one_hot(s, top=k)',
    arity: [1, 1],
    named: ['top'],
    lower(c, call, [s]) {
      const v = c.expect(s as Expr, c.value(s as Expr), ['string'], 'vocab_one_hot(...)');
      if (v.type === 'null' || v.literal) c.typeError((s as Expr).span, 'vocab_one_hot: the argument must be a string column');
      const topArg = call.named.find((n) => n.name === 'top');
      if (!topArg) return c.typeError(call.span, 'vocab_one_hot needs top=k: how many of the most frequent values get their own column', 'for example vocab_one_hot(@request.origin, top=20)');
      const top = literalNumber(c, 'vocab_one_hot', topArg.value, 'top');
      if (top === null || !Number.isInteger(top) || top < 1 || top > 10_000) c.typeError(topArg.value.span, `vocab_one_hot: top must be an integer from 1 to 10000, not ${top}`);
      return { type: 'float', nullable: false, span: call.span, node: c.graph.fit('vocab_one_hot', c.node(v), call.span, c.currentOutput, top as number), multi: true };
    },
  },
};

export function callFunction(c: Checker, call: Call): Value {
  const def = Object.hasOwn(FUNCTIONS, call.name) ? FUNCTIONS[call.name] : undefined;
  if (!def) {
    const near = closest(call.name, Object.keys(FUNCTIONS));
    return c.typeError(call.nameSpan, `unknown function "${call.name}"`, near.length ? `did you mean ${near.map((n) => FUNCTIONS[n]?.signature).join(', ')}?` : `functions: ${Object.keys(FUNCTIONS).join(', ')}`);
  }
  const [min, max] = def.arity;
  if (call.args.length < min || call.args.length > max) {
    const count = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    c.typeError(call.span, `${call.name} takes ${count} argument${min === 1 && max === 1 ? '' : 's'}, got ${call.args.length}`, `usage: ${def.signature}`);
  }
  const seen = new Set<string>();
  for (const n of call.named) {
    if (!def.named?.includes(n.name)) c.typeError(n.nameSpan, `${call.name} has no argument named "${n.name}"`, `usage: ${def.signature}`);
    if (seen.has(n.name)) c.typeError(n.nameSpan, `${call.name}: "${n.name}" is given twice`);
    seen.add(n.name);
  }
  return def.lower(c, call, call.args);
}

export { isNumeric };
