/**
 * Where DSL text comes from, and how an error points into it: every DSL error names the file,
 * line and column, shows the line with a caret under the offending text, and says what was
 * expected. One constructor (dslError) so that every phase reports in the same shape.
 */
import { type ErrorCode, FrescoError } from '../errors/index.js';

/** A spec's text and the name it is reported under (a path, or `<builder>`, `<string>`). */
export interface Source {
  file: string;
  text: string;
}

/** A half-open range of UTF-16 offsets into the source text. */
export interface Span {
  start: number;
  end: number;
}

export type DslErrorCode = Extract<ErrorCode, 'FRESCO_ERR_DSL_SYNTAX' | 'FRESCO_ERR_DSL_TYPE' | 'FRESCO_ERR_DSL_FIT' | 'FRESCO_ERR_DSL_UNFITTED'>;

/** 1-based line and column of an offset; columns count code points, as editors do. */
export function lineCol(text: string, offset: number): { line: number; column: number; lineStart: number; lineEnd: number } {
  const at = Math.max(0, Math.min(offset, text.length));
  // lastIndexOf(x, -1) searches from 0, so offset 0 of a text that starts with a newline needs its own case.
  const lineStart = at === 0 ? 0 : text.lastIndexOf('\n', at - 1) + 1;
  let lineEnd = text.indexOf('\n', lineStart);
  if (lineEnd < 0) lineEnd = text.length;
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (text.charCodeAt(i) === 10) line++;
  const column = [...text.slice(lineStart, at)].length + 1;
  return { line, column, lineStart, lineEnd };
}

/**
 * lineCol for many offsets of one text: line starts are found once, then each offset costs a
 * binary search, where lineCol scans from the start (fine for one error, quadratic for every
 * fitted function of a 100,000-line spec). Same answers as lineCol.
 */
export function lineIndex(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  // Offsets of low surrogates that follow a high one: a code point counted once, as lineCol does.
  const pairs: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const h = text.charCodeAt(i - 1);
      if (h >= 0xd800 && h <= 0xdbff) pairs.push(i);
    }
  }
  /** How many of the sorted `xs` are <= x. */
  const upTo = (xs: number[], x: number): number => {
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((xs[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return (offset) => {
    const at = Math.max(0, Math.min(offset, text.length));
    const line = upTo(starts, at);
    const lineStart = starts[line - 1] as number;
    // Code points from lineStart to at: code units minus the low surrogates in [lineStart, at).
    const column = at - lineStart - (upTo(pairs, at - 1) - upTo(pairs, lineStart - 1)) + 1;
    return { line, column };
  };
}

/**
 * Renders `file:line:col`, the line itself and a caret line under the span, rustc-style:
 *
 *   --> spec.features:3:11
 *    |
 *  3 | x = log1p(@request.city)
 *    |           ^^^^^^^^^^^^^
 */
export function renderSnippet(source: Source, span: Span): string {
  const { line, column, lineStart, lineEnd } = lineCol(source.text, span.start);
  const visibleEnd = Math.min(Math.max(span.end, span.start + 1), lineEnd);
  // A long line (a list of a million items) is shown as a window around the span, so that an
  // error message stays a few lines long.
  let from = lineStart;
  let to = lineEnd;
  if (lineEnd - lineStart > SNIPPET_WIDTH) {
    from = Math.max(lineStart, span.start - SNIPPET_CONTEXT);
    to = Math.min(lineEnd, Math.max(visibleEnd, span.start + 1) + SNIPPET_CONTEXT, span.start + SNIPPET_WIDTH);
    if (from > lineStart && isLowSurrogate(source.text.charCodeAt(from))) from--;
    if (to < lineEnd && isLowSurrogate(source.text.charCodeAt(to))) to++;
  }
  const before = from > lineStart ? '...' : '';
  const lineText = `${before}${source.text.slice(from, to).replace(/\r$/, '')}${to < lineEnd ? '...' : ''}`;
  const width = Math.max(1, [...source.text.slice(span.start, Math.min(visibleEnd, to))].length);
  const gutter = String(line).length;
  const pad = ' '.repeat(gutter);
  // Tabs keep their width in the caret line so the caret stays under the text.
  const lead = [...before, ...source.text.slice(from, span.start)].map((c) => (c === '\t' ? '\t' : ' ')).join('');
  return [`${pad}--> ${source.file}:${line}:${column}`, `${pad} |`, `${line} | ${lineText}`, `${pad} | ${lead}${'^'.repeat(width)}`].join('\n');
}

/** Lines longer than this (code units) are shown as a window of context around the span. */
const SNIPPET_WIDTH = 240;
const SNIPPET_CONTEXT = 60;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** The one way DSL phases fail: a FrescoError with the location and the caret snippet. */
export function dslError(code: DslErrorCode, source: Source, span: Span, message: string, help?: string): FrescoError {
  const { line, column } = lineCol(source.text, span.start);
  const text = `${message}\n${renderSnippet(source, span)}${help ? `\n  = help: ${help}` : ''}`;
  return new FrescoError(code, text, { location: { file: source.file, line, column } });
}

/**
 * True for V8's stack overflow. Nesting is bounded (MAX_DEPTH) so that this should not happen on
 * the main thread; parse and check still turn it into a DSL error, for callers with a small stack.
 */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j] as number;
      prev[j] = Math.min(above + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = above;
    }
  }
  return prev[b.length] as number;
}

/** Up to `limit` candidates closest to `name` (case-insensitive), nearest first. */
export function closest(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const lower = name.toLowerCase();
  return [...candidates]
    .map((c) => ({ c, d: editDistance(lower, c.toLowerCase()) - (c.toLowerCase().includes(lower) || lower.includes(c.toLowerCase()) ? 2 : 0) }))
    .filter(({ c, d }) => d <= Math.max(2, Math.ceil(Math.max(c.length, name.length) / 2)))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, limit)
    .map(({ c }) => c);
}
