/** The parsed spec: `name = expression` lines. Every node keeps its span for error messages. */
import type { Span } from './source.js';

export type BinaryOp = '+' | '-' | '*' | '/' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'and' | 'or';
export type UnaryOp = '-' | 'not';

export type Expr =
  | { kind: 'number'; value: number; integer: boolean; span: Span }
  | { kind: 'string'; value: string; span: Span }
  | { kind: 'bool'; value: boolean; span: Span }
  | { kind: 'null'; span: Span }
  | { kind: 'list'; items: Expr[]; span: Span }
  | { kind: 'ref'; table: string; field: string; span: Span }
  | { kind: 'name'; name: string; span: Span }
  | { kind: 'unary'; op: UnaryOp; operand: Expr; span: Span; opSpan: Span }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; span: Span; opSpan: Span }
  | { kind: 'call'; name: string; nameSpan: Span; args: Expr[]; named: NamedArg[]; span: Span };

export interface NamedArg {
  name: string;
  nameSpan: Span;
  value: Expr;
}

export interface OutputLine {
  name: string;
  nameSpan: Span;
  expr: Expr;
  /** The whole line, `name = expression`. */
  span: Span;
}

export interface SpecAst {
  lines: OutputLine[];
}
