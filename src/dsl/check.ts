/**
 * The type checker: resolves references against the FeatureSchema, checks every operator and
 * function call, and lowers the spec to a hash-consed graph of plan ops (graph.ts). Nothing runs
 * here; every mistake is a FRESCO_ERR_DSL_TYPE error pointing at the offending text.
 */
import type { FeatureSchema, FieldType } from '../features/schema.js';
import type { BinaryOp, Expr, SpecAst } from './ast.js';
import { callFunction } from './functions.js';
import { Graph, type GraphOutput } from './graph.js';
import { closest, dslError, isStackOverflow, type Source, type Span } from './source.js';
import { article, type DslType, isNumeric, showType, slotTypeOf, type TypeInfo } from './types.js';

/** A checked expression: its type, and either its graph node or (for literals) its value. */
export interface Value extends TypeInfo {
  span: Span;
  /** The graph node, when the value is a column. Literals get one on demand (Checker.node). */
  node?: number;
  literal?: { value: number | string | boolean | null };
  /** A one-hot group: several columns, allowed only as a whole output. */
  multi?: boolean;
}

/** One output line as `fresco dsl check` reports it. */
export interface CheckedOutput extends TypeInfo {
  name: string;
  line: number;
  /** For one_hot outputs: the column names (vocab_one_hot: known after fitting, so absent). */
  columns?: string[];
  fitted: boolean;
}

export class Checker {
  readonly graph = new Graph();
  /** The output line being checked: fitted nodes remember it for messages and explain. */
  currentOutput = '';

  constructor(
    readonly source: Source,
    readonly schema: FeatureSchema,
  ) {}

  typeError(span: Span, message: string, help?: string): never {
    throw dslError('FRESCO_ERR_DSL_TYPE', this.source, span, message, help);
  }

  text(span: Span): string {
    const t = this.source.text.slice(span.start, span.end).replace(/\s+/g, ' ');
    return t.length > 40 ? `${t.slice(0, 37)}...` : t;
  }

  /** The graph node of a value, making a const node for a numeric, boolean or null literal. */
  node(v: Value): number {
    if (v.node !== undefined) return v.node;
    const lit = v.literal?.value;
    if (typeof lit === 'string') this.typeError(v.span, 'a string literal cannot be a column here', 'strings are compared with a column (`lower(@request.origin) == "sfo"`) or listed in one_hot(...)');
    return this.graph.constant(lit === undefined || lit === null ? null : typeof lit === 'boolean' ? (lit ? 1 : 0) : lit);
  }

  /** Checks an expression that must be a single column (not a list, not a one-hot group). */
  value(e: Expr): Value {
    const v = this.check(e);
    if (v.multi) this.typeError(e.span, `${this.text(e.span)} produces several columns; it can only be a whole output`, 'write it on its own line: `origin = one_hot(@request.origin, ["SFO", "LAX"])`');
    return v;
  }

  /** Requires one of the given types (null always passes, as a null of that type). */
  expect(e: Expr, v: Value, allowed: DslType[], what: string, help?: string): Value {
    if (v.type === 'null' || allowed.includes(v.type)) return v;
    const want = allowed.map((t) => article(t)).join(' or ');
    const hint =
      help ??
      (v.type === 'string' && allowed.some(isNumeric)
        ? 'turn a string into numbers with one_hot(s, [...]), vocab_one_hot(s, top=k) or hash_bucket(s, n)'
        : v.type === 'timestamp' && allowed.some(isNumeric)
          ? 'timestamps work with hour(ts), day_of_week(ts) and days_between(t1, t2)'
          : v.type === 'bool' && allowed.some(isNumeric)
            ? 'turn a bool into a number with if(b, 1, 0)'
            : undefined);
    return this.typeError(e.span, `${what} expects ${want}, but ${this.text(e.span)} is ${article(v.type)}`, hint);
  }

  check(e: Expr): Value {
    switch (e.kind) {
      case 'number':
        return { type: e.integer ? 'int' : 'float', nullable: false, span: e.span, literal: { value: e.value } };
      case 'string':
        return { type: 'string', nullable: false, span: e.span, literal: { value: e.value } };
      case 'bool':
        return { type: 'bool', nullable: false, span: e.span, literal: { value: e.value } };
      case 'null':
        return { type: 'null', nullable: true, span: e.span, literal: { value: null } };
      case 'list':
        return this.typeError(e.span, 'a list is only allowed as an argument of bucketize, one_hot', 'for example bucketize(@request.distance, [250, 500, 1000])');
      case 'ref':
        return this.reference(e.table, e.field, e.span);
      case 'name': {
        const fn = closest(e.name, ['true', 'false', 'null']);
        const help = fn.length ? `did you mean ${fn[0]}?` : `features are read with @table.feature, request fields with @request.${e.name}`;
        return this.typeError(e.span, `unknown name "${e.name}"`, help);
      }
      case 'unary':
        return this.unary(e);
      case 'binary':
        return this.binary(e);
      case 'call':
        return callFunction(this, e);
    }
  }

  private reference(table: string, field: string, span: Span): Value {
    let fieldType: FieldType | undefined;
    if (table === 'request') {
      fieldType = Object.hasOwn(this.schema.request, field) ? this.schema.request[field] : undefined;
      if (!fieldType) {
        const near = closest(field, Object.keys(this.schema.request)).map((f) => `@request.${f}`);
        this.typeError(span, `unknown request field "${field}"`, near.length ? `did you mean ${near.join(', ')}?` : `request fields: ${Object.keys(this.schema.request).join(', ') || '(none)'}`);
      }
    } else {
      const features = Object.hasOwn(this.schema.tables, table) ? this.schema.tables[table] : undefined;
      if (!features) {
        const near = closest(table, [...Object.keys(this.schema.tables), 'request']);
        this.typeError(span, `unknown feature table "${table}"`, near.length ? `did you mean ${near.join(', ')}?` : `tables: ${Object.keys(this.schema.tables).join(', ') || '(none)'}, and request`);
      }
      fieldType = Object.hasOwn(features, field) ? features[field] : undefined;
      if (!fieldType) {
        const all = Object.entries(this.schema.tables).flatMap(([t, fs]) => Object.keys(fs).map((f) => `${t}.${f}`));
        const near = [...new Set([...closest(field, Object.keys(features)).map((f) => `${table}.${f}`), ...closest(`${table}.${field}`, all)])].slice(0, 3);
        this.typeError(span, `unknown feature "${field}" in table "${table}"`, near.length ? `did you mean ${near.map((n) => `@${n}`).join(', ')}?` : `features of ${table}: ${Object.keys(features).join(', ')}`);
      }
    }
    const node = this.graph.input(`${table}.${field}`, slotTypeOf(fieldType.type));
    return { type: fieldType.type, nullable: fieldType.nullable, span, node };
  }

  private unary(e: Extract<Expr, { kind: 'unary' }>): Value {
    const v = this.value(e.operand);
    if (e.op === 'not') {
      this.expect(e.operand, v, ['bool'], '"not"');
      return { type: 'bool', nullable: v.nullable, span: e.span, node: this.graph.op('not', [this.node(v)]) };
    }
    this.expect(e.operand, v, ['int', 'float'], 'unary "-"');
    if (v.literal && typeof v.literal.value === 'number') return { ...v, span: e.span, literal: { value: -v.literal.value } };
    return { type: v.type, nullable: v.nullable, span: e.span, node: this.graph.op('neg', [this.node(v)]) };
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): Value {
    const left = this.value(e.left);
    const right = this.value(e.right);
    const nullable = left.nullable || right.nullable;
    const op = e.op;
    const what = `"${op}"`;
    const num2 = (name: 'add' | 'sub' | 'mul' | 'div' | 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'and' | 'or', type: DslType, isNullable = nullable): Value => ({
      type,
      nullable: isNullable,
      span: e.span,
      node: this.graph.op(name, [this.node(left), this.node(right)]),
    });
    switch (op) {
      case '+':
      case '-':
      case '*':
      case '/': {
        const help = left.type === 'timestamp' || right.type === 'timestamp' ? 'the time between two timestamps is days_between(t1, t2)' : undefined;
        this.expect(e.left, left, ['int', 'float'], what, help);
        this.expect(e.right, right, ['int', 'float'], what, help);
        const name = ({ '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' } as const)[op];
        if (op === '/') return num2(name, 'float', true); // x / 0 is null
        return num2(name, left.type === 'float' || right.type === 'float' ? 'float' : left.type === 'null' ? right.type : left.type);
      }
      case 'and':
      case 'or':
        this.expect(e.left, left, ['bool'], what);
        this.expect(e.right, right, ['bool'], what);
        return num2(op, 'bool');
      default:
        return this.compare(e, op, left, right);
    }
  }

  private compare(e: Extract<Expr, { kind: 'binary' }>, op: BinaryOp, left: Value, right: Value): Value {
    const name = ({ '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '==': 'eq', '!=': 'ne' } as const)[op as '<'];
    const nullable = left.nullable || right.nullable;
    if (left.type === 'string' || right.type === 'string') {
      if (op !== '==' && op !== '!=') this.typeError(e.opSpan, `strings can only be compared with == and !=, not "${op}"`);
      const lit = left.literal ? left : right.literal ? right : undefined;
      const column = lit === left ? right : left;
      const columnExpr = lit === left ? e.right : e.left;
      if (!lit || typeof lit.literal?.value !== 'string' || column.literal) {
        this.typeError(e.span, 'a string can only be compared with a string literal', 'write `@request.origin == "SFO"`; to compare two string columns, compare hash_bucket(a, n) == hash_bucket(b, n)');
      }
      this.expect(columnExpr, column, ['string'], `"${op}" with the string ${JSON.stringify(lit.literal?.value)}`);
      if (column.type === 'null') return { type: 'bool', nullable: true, span: e.span, node: this.graph.constant(null) };
      const eq = this.graph.op('str_eq', [this.node(column)], { value: lit.literal?.value });
      return { type: 'bool', nullable, span: e.span, node: op === '==' ? eq : this.graph.op('not', [eq]) };
    }
    const ordered = op !== '==' && op !== '!=';
    const family = (t: DslType) => (isNumeric(t) ? 'number' : t);
    const allowed: DslType[] = ordered ? ['int', 'float', 'timestamp'] : ['int', 'float', 'timestamp', 'bool'];
    this.expect(e.left, left, allowed, `"${op}"`);
    this.expect(e.right, right, allowed, `"${op}"`);
    if (left.type !== 'null' && right.type !== 'null' && family(left.type) !== family(right.type)) {
      this.typeError(e.span, `cannot compare ${article(left.type)} with ${article(right.type)} (${showType(left)} ${op} ${showType(right)})`);
    }
    return { type: 'bool', nullable, span: e.span, node: this.graph.op(name, [this.node(left), this.node(right)]) };
  }
}

/** The checked spec: the graph, its outputs in order, and their types. */
export interface CheckedSpec {
  source: Source;
  graph: Graph;
  outputs: GraphOutput[];
  types: CheckedOutput[];
}

export function checkSpec(source: Source, ast: SpecAst, schema: FeatureSchema): CheckedSpec {
  const checker = new Checker(source, schema);
  const outputs: GraphOutput[] = [];
  const types: CheckedOutput[] = [];
  const columnOwner = new Map<string, string>();
  let lineNo = 1;
  let scanned = 0;
  if (ast.lines.length === 0) {
    throw dslError('FRESCO_ERR_DSL_TYPE', source, { start: 0, end: 0 }, 'the spec has no outputs', 'write one `name = expression` line per model input');
  }
  for (const line of ast.lines) {
    checker.currentOutput = line.name;
    let v: Value;
    try {
      v = checker.check(line.expr);
    } catch (error) {
      if (!isStackOverflow(error)) throw error;
      throw dslError('FRESCO_ERR_DSL_TYPE', source, line.expr.span, `output "${line.name}" is nested too deeply for the stack available here`, 'split it into simpler outputs');
    }
    if (v.type === 'string') {
      checker.typeError(line.expr.span, `output "${line.name}" is a string; model inputs are numbers`, 'encode it with one_hot(s, [...]), vocab_one_hot(s, top=k) or hash_bucket(s, n)');
    }
    const node = checker.node(v);
    const gnode = checker.graph.nodes[node];
    const columns = v.multi && gnode?.kind === 'op' ? [...(gnode.params.categories as string[]), 'other'].map((c) => `${line.name}__${c}`) : v.multi ? [] : [line.name];
    // vocab_one_hot's columns are known after fitting; fit.ts checks them again then.
    for (const column of columns) {
      const owner = columnOwner.get(column);
      if (owner !== undefined) {
        checker.typeError(line.nameSpan, `duplicate output name "${column}"${owner === line.name ? '' : ` (also a column of "${owner}")`}`, 'every output column needs its own name');
      }
      columnOwner.set(column, line.name);
    }
    if (v.multi && columns.length === 0 && columnOwner.has(`${line.name}__other`)) checker.typeError(line.nameSpan, `duplicate output name "${line.name}"`);
    if (v.multi && columns.length === 0) columnOwner.set(`${line.name}__other`, line.name);
    outputs.push({ name: line.name, node, multi: v.multi === true });
    // Count newlines incrementally: a quadratic scan would dominate large specs.
    for (; scanned < line.span.start; scanned++) if (source.text.charCodeAt(scanned) === 10) lineNo++;
    types.push({
      name: line.name,
      line: lineNo,
      type: v.multi ? 'float' : v.type,
      nullable: v.multi ? false : v.nullable,
      ...(v.multi && columns.length ? { columns } : {}),
      fitted: usesFit(checker.graph, node),
    });
  }
  return { source, graph: checker.graph, outputs, types };
}

function usesFit(graph: Graph, root: number): boolean {
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length) {
    const id = stack.pop() as number;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = graph.nodes[id];
    if (!n || n.kind === 'input') continue;
    if (n.kind === 'fit') return true;
    stack.push(...n.args);
  }
  return false;
}
