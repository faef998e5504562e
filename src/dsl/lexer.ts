/**
 * The spec lexer. Newlines end a `name = expression` line, except inside brackets, where an
 * expression may span lines. `#` starts a comment to the end of the line.
 */
import { dslError, type Source, type Span } from './source.js';

export type TokenKind =
  | 'ident' // names: outputs, functions, keywords (and, or, not, true, false, null)
  | 'ref' // @table.feature / @request.field
  | 'number'
  | 'string'
  | 'punct' // ( ) [ ] , = + - * / < <= > >= == !=
  | 'newline'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** The text as written (for strings: the decoded value; for refs: `table.feature`). */
  value: string;
  span: Span;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const TWO_CHAR = new Set(['<=', '>=', '==', '!=']);
const ONE_CHAR = new Set(['(', ')', '[', ']', ',', '=', '+', '-', '*', '/', '<', '>']);
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0' };

export function tokenize(source: Source): Token[] {
  const { text } = source;
  const tokens: Token[] = [];
  let i = 0;
  let depth = 0;
  const fail = (start: number, end: number, message: string, help?: string) => dslError('FRESCO_ERR_DSL_SYNTAX', source, { start, end }, message, help);

  const ident = (from: number): number => {
    let j = from;
    while (j < text.length && IDENT_PART.test(text[j] as string)) j++;
    return j;
  };

  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n') {
      if (depth === 0) tokens.push({ kind: 'newline', value: '\n', span: { start: i, end: i + 1 } });
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (IDENT_START.test(c)) {
      const end = ident(i);
      tokens.push({ kind: 'ident', value: text.slice(i, end), span: { start: i, end } });
      i = end;
    } else if (c === '@') {
      // @table.feature: two identifiers joined by one dot, no spaces.
      if (!IDENT_START.test(text[i + 1] ?? '')) throw fail(i, i + 1, "expected a reference like @table.feature or @request.field after '@'");
      const tableEnd = ident(i + 1);
      if (text[tableEnd] !== '.' || !IDENT_START.test(text[tableEnd + 1] ?? '')) {
        const table = text.slice(i + 1, tableEnd);
        throw fail(i, tableEnd, `incomplete reference "@${table}": expected "@${table}.<name>"`, 'a reference names a table (or `request`) and a field: @airport_delay.delay_avg_24h, @request.distance');
      }
      const end = ident(tableEnd + 1);
      if (text[end] === '.') throw fail(i, end + 1, 'a reference has exactly two parts: @table.feature');
      tokens.push({ kind: 'ref', value: text.slice(i + 1, end), span: { start: i, end } });
      i = end;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
      const end = i + (m?.[0].length ?? 1);
      if (IDENT_START.test(text[end] ?? '')) throw fail(i, ident(end), `malformed number "${text.slice(i, ident(end))}"`);
      tokens.push({ kind: 'number', value: text.slice(i, end), span: { start: i, end } });
      i = end;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      for (;;) {
        const d = text[j];
        if (d === undefined || d === '\n') throw fail(i, j, 'unterminated string', `close it with ${c} on the same line`);
        if (d === c) break;
        if (d === '\\') {
          const e = text[j + 1] ?? '';
          const decoded = ESCAPES[e];
          if (decoded === undefined) throw fail(j, j + 2, `unknown escape "\\${e}" in a string`, 'known escapes: \\n \\t \\r \\\\ \\" \\\' \\0');
          value += decoded;
          j += 2;
        } else {
          value += d;
          j++;
        }
      }
      tokens.push({ kind: 'string', value, span: { start: i, end: j + 1 } });
      i = j + 1;
    } else {
      const two = text.slice(i, i + 2);
      const op = TWO_CHAR.has(two) ? two : ONE_CHAR.has(c) ? c : undefined;
      if (op === undefined) {
        const ch = String.fromCodePoint(text.codePointAt(i) as number);
        const hint = c === '&' || c === '|' ? 'write `and`, `or`' : c === '!' ? 'write `not x`, or `!=` to compare' : undefined;
        throw fail(i, i + ch.length, `unexpected character ${JSON.stringify(ch)}`, hint);
      }
      if (op === '(' || op === '[') depth++;
      else if ((op === ')' || op === ']') && depth > 0) depth--;
      tokens.push({ kind: 'punct', value: op, span: { start: i, end: i + op.length } });
      i += op.length;
    }
  }
  tokens.push({ kind: 'eof', value: '', span: { start: text.length, end: text.length } });
  return tokens;
}
