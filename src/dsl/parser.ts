/**
 * The spec parser: recursive descent with one token of lookahead.
 *
 *   spec    := { line? NEWLINE } ;  line := NAME '=' expr
 *   expr    := or ;  or := and { 'or' and } ;  and := not { 'and' not } ;  not := 'not' not | cmp
 *   cmp     := sum [ ('<'|'<='|'>'|'>='|'=='|'!=') sum ]      (comparisons do not chain)
 *   sum     := prod { ('+'|'-') prod } ;  prod := unary { ('*'|'/') unary } ;  unary := '-' unary | atom
 *   atom    := NUMBER | STRING | true | false | null | REF | '[' items ']' | '(' expr ')' | NAME '(' args ')'
 *   args    := [ arg { ',' arg } [','] ] ;  arg := NAME '=' expr | expr
 *
 * Nesting is bounded so that hostile input fails with a DSL error instead of exhausting the stack.
 */
import type { BinaryOp, Expr, NamedArg, OutputLine, SpecAst } from './ast.js';
import { type Token, tokenize } from './lexer.js';
import { dslError, isStackOverflow, lineCol, type Source, type Span } from './source.js';

/** Deepest expression nesting accepted (parentheses, calls, operator chains). */
export const MAX_DEPTH = 200;

const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false', 'null']);
const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=']);

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'the end of the spec';
    case 'newline':
      return 'the end of the line';
    case 'string':
      return `the string ${JSON.stringify(token.value)}`;
    case 'ref':
      return `@${token.value}`;
    default:
      return `"${token.value}"`;
  }
}

const join = (a: Span, b: Span): Span => ({ start: a.start, end: b.end });

/** The depth of a node, tracked on the side so that left-deep chains (a+a+a+...) are bounded too. */
const depthOf = new WeakMap<Expr, number>();
const depth = (e: Expr): number => depthOf.get(e) ?? 1;

class Parser {
  private pos = 0;
  /** Open brackets, innermost last, to blame an unclosed one instead of the token after it. */
  private readonly open: Token[] = [];
  private nesting = 0;

  constructor(
    private readonly source: Source,
    private readonly tokens: Token[],
  ) {}

  private get peek(): Token {
    return this.tokens[this.pos] as Token;
  }

  private next(): Token {
    const t = this.tokens[this.pos] as Token;
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private isPunct(value: string): boolean {
    return this.peek.kind === 'punct' && this.peek.value === value;
  }

  private isWord(value: string): boolean {
    return this.peek.kind === 'ident' && this.peek.value === value;
  }

  private fail(token: Token, expected: string, help?: string): never {
    // Inside brackets, a token on a later line (or the end) means the bracket was never closed.
    const opener = this.open[this.open.length - 1];
    if (opener && (token.kind === 'eof' || lineCol(this.source.text, token.span.start).line > lineCol(this.source.text, opener.span.start).line)) {
      const close = opener.value === '(' ? ')' : ']';
      throw dslError('FRESCO_ERR_DSL_SYNTAX', this.source, opener.span, `unclosed "${opener.value}": expected "${close}" before ${describe(token)}`, `add the missing "${close}"`);
    }
    throw dslError('FRESCO_ERR_DSL_SYNTAX', this.source, token.span, `expected ${expected}, found ${describe(token)}`, help);
  }

  private node(e: Expr, children: readonly Expr[]): Expr {
    // A loop, not Math.max(...children): spreading a million list items overflows the stack.
    let deepest = 0;
    for (const child of children) deepest = Math.max(deepest, depth(child));
    const d = 1 + deepest;
    if (d > MAX_DEPTH) throw dslError('FRESCO_ERR_DSL_SYNTAX', this.source, e.span, `expression nested too deeply (more than ${MAX_DEPTH} levels)`, 'split it into simpler outputs');
    if (d > 1) depthOf.set(e, d);
    return e;
  }

  private expectPunct(value: string, expected: string): Token {
    if (!this.isPunct(value)) this.fail(this.peek, expected);
    return this.next();
  }

  parseSpec(): SpecAst {
    const lines: OutputLine[] = [];
    for (;;) {
      const t = this.peek;
      if (t.kind === 'eof') break;
      if (t.kind === 'newline') {
        this.next();
        continue;
      }
      if (t.kind !== 'ident' || KEYWORDS.has(t.value)) {
        this.fail(t, 'an output line `name = expression`', t.kind === 'punct' && t.value === ')' ? 'this ")" has no matching "("' : undefined);
      }
      this.next();
      if (!this.isPunct('=')) this.fail(this.peek, `"=" after the output name "${t.value}"`);
      this.next();
      let expr: Expr;
      try {
        expr = this.expression();
      } catch (error) {
        if (!isStackOverflow(error)) throw error;
        throw dslError('FRESCO_ERR_DSL_SYNTAX', this.source, this.peek.span, 'expression nested too deeply for the stack available here', 'split it into simpler outputs');
      }
      const end = this.peek;
      if (end.kind !== 'newline' && end.kind !== 'eof') {
        const help = end.kind === 'punct' && (end.value === ')' || end.value === ']') ? `this "${end.value}" has no matching opening bracket` : undefined;
        this.fail(end, 'an operator or the end of the line', help);
      }
      lines.push({ name: t.value, nameSpan: t.span, expr, span: join(t.span, expr.span) });
    }
    return { lines };
  }

  private expression(): Expr {
    if (++this.nesting > MAX_DEPTH) {
      throw dslError('FRESCO_ERR_DSL_SYNTAX', this.source, this.peek.span, `expression nested too deeply (more than ${MAX_DEPTH} levels)`, 'split it into simpler outputs');
    }
    try {
      return this.or();
    } finally {
      this.nesting--;
    }
  }

  private binaryChain(ops: Set<string>, operand: () => Expr, isWordOp: boolean): Expr {
    let left = operand();
    while (isWordOp ? this.peek.kind === 'ident' && ops.has(this.peek.value) : this.peek.kind === 'punct' && ops.has(this.peek.value)) {
      const op = this.next();
      const right = operand();
      left = this.node({ kind: 'binary', op: op.value as BinaryOp, left, right, span: join(left.span, right.span), opSpan: op.span }, [left, right]);
    }
    return left;
  }

  private or(): Expr {
    return this.binaryChain(new Set(['or']), () => this.and(), true);
  }

  private and(): Expr {
    return this.binaryChain(new Set(['and']), () => this.not(), true);
  }

  private not(): Expr {
    if (this.isWord('not')) {
      const op = this.next();
      const operand = this.nested(() => this.not());
      return this.node({ kind: 'unary', op: 'not', operand, span: join(op.span, operand.span), opSpan: op.span }, [operand]);
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const left = this.sum();
    if (this.peek.kind === 'punct' && COMPARISONS.has(this.peek.value)) {
      const op = this.next();
      const right = this.sum();
      if (this.peek.kind === 'punct' && COMPARISONS.has(this.peek.value)) {
        this.fail(this.peek, 'an operator other than a comparison', 'comparisons do not chain: write `a < b and b < c`');
      }
      return this.node({ kind: 'binary', op: op.value as BinaryOp, left, right, span: join(left.span, right.span), opSpan: op.span }, [left, right]);
    }
    if (this.isPunct('=') && this.open.length === 0) this.fail(this.peek, 'an operator or the end of the line', 'to compare, write `==`');
    return left;
  }

  private sum(): Expr {
    return this.binaryChain(new Set(['+', '-']), () => this.product(), false);
  }

  private product(): Expr {
    return this.binaryChain(new Set(['*', '/']), () => this.unary(), false);
  }

  private unary(): Expr {
    if (this.isPunct('-')) {
      const op = this.next();
      const operand = this.nested(() => this.unary());
      return this.node({ kind: 'unary', op: '-', operand, span: join(op.span, operand.span), opSpan: op.span }, [operand]);
    }
    return this.atom();
  }

  /** Runs a recursive step under the nesting bound. */
  private nested<T>(step: () => T): T {
    if (++this.nesting > MAX_DEPTH) {
      throw dslError('FRESCO_ERR_DSL_SYNTAX', this.source, this.peek.span, `expression nested too deeply (more than ${MAX_DEPTH} levels)`, 'split it into simpler outputs');
    }
    try {
      return step();
    } finally {
      this.nesting--;
    }
  }

  private atom(): Expr {
    const t = this.peek;
    switch (t.kind) {
      case 'number': {
        this.next();
        const value = Number(t.value);
        if (!Number.isFinite(value)) throw dslError('FRESCO_ERR_DSL_SYNTAX', this.source, t.span, `number ${t.value} is out of range`);
        return { kind: 'number', value, integer: /^[0-9]+$/.test(t.value), span: t.span };
      }
      case 'string':
        this.next();
        return { kind: 'string', value: t.value, span: t.span };
      case 'ref': {
        this.next();
        const [table, field] = t.value.split('.') as [string, string];
        return { kind: 'ref', table, field, span: t.span };
      }
      case 'ident': {
        if (t.value === 'true' || t.value === 'false') {
          this.next();
          return { kind: 'bool', value: t.value === 'true', span: t.span };
        }
        if (t.value === 'null') {
          this.next();
          return { kind: 'null', span: t.span };
        }
        if (KEYWORDS.has(t.value)) this.fail(t, 'an expression');
        this.next();
        if (this.isPunct('(')) return this.call(t);
        return { kind: 'name', name: t.value, span: t.span };
      }
      case 'punct':
        if (t.value === '(') {
          this.open.push(this.next());
          // expression() counts this level: counting it here as well made 100 parentheses the limit.
          const inner = this.expression();
          if (!this.isPunct(')')) this.fail(this.peek, '")" or an operator');
          this.open.pop();
          const close = this.next();
          return this.node({ ...inner, span: join(t.span, close.span) }, [inner]);
        }
        if (t.value === '[') return this.list();
        break;
      default:
        break;
    }
    return this.fail(t, 'an expression (a number, a string, a reference like @table.feature, a function call or "(")');
  }

  private list(): Expr {
    const open = this.next();
    this.open.push(open);
    const items: Expr[] = [];
    while (!this.isPunct(']')) {
      items.push(this.expression());
      if (this.isPunct(',')) this.next();
      else if (!this.isPunct(']')) this.fail(this.peek, '"," or "]"');
    }
    this.open.pop();
    const close = this.next();
    return this.node({ kind: 'list', items, span: join(open.span, close.span) }, items);
  }

  private call(name: Token): Expr {
    const open = this.next();
    this.open.push(open);
    const args: Expr[] = [];
    const named: NamedArg[] = [];
    while (!this.isPunct(')')) {
      const t = this.peek;
      const after = this.tokens[this.pos + 1];
      if (t.kind === 'ident' && !KEYWORDS.has(t.value) && after?.kind === 'punct' && after.value === '=') {
        this.next();
        this.next();
        named.push({ name: t.value, nameSpan: t.span, value: this.expression() });
      } else {
        if (named.length > 0) this.fail(t, `a named argument (name=value): positional arguments come first in ${name.value}(...)`);
        args.push(this.expression());
      }
      if (this.isPunct(',')) this.next();
      else if (!this.isPunct(')')) this.fail(this.peek, `"," or ")" in the arguments of ${name.value}(...)`);
    }
    this.open.pop();
    const close = this.next();
    return this.node({ kind: 'call', name: name.value, nameSpan: name.span, args, named, span: join(name.span, close.span) }, named.length ? [...args, ...named.map((n) => n.value)] : args);
  }
}

/** Parses a spec into its output lines. Throws FRESCO_ERR_DSL_SYNTAX with file, line, column and caret. */
export function parseSpec(source: Source): SpecAst {
  return new Parser(source, tokenize(source)).parseSpec();
}
