import { FrescoError, toFrescoError } from '../errors/index.js';

/** Where a command writes. Injected so that tests can capture output without spawning. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Prints data: JSON (one document) with --json, otherwise the human rendering. */
export function printData(io: Io, json: boolean, data: unknown, human: () => string): void {
  io.out(json ? JSON.stringify(data, jsonReplacer, 2) : human());
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** A plain aligned text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  // reduce, not Math.max(...): spreading 100,000+ rows (a big spec's explain) overflows the stack.
  const widths = headers.map((_, c) => cells.reduce((w, r) => Math.max(w, (r[c] ?? '').length), 0));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ').trimEnd();
  return [line(cells[0] as string[]), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

/**
 * The one error style of the CLI: `error[CODE]: message` (and where, when known) on stderr,
 * or `{"error": {...}}` with --json. Returns the exit code: 2 for usage errors, 1 otherwise.
 */
export function reportError(io: Io, json: boolean, error: unknown): 1 | 2 {
  const e = toFrescoError(error);
  if (json) {
    io.err(JSON.stringify({ error: e.toJSON() }));
  } else {
    const where = formatLocation(e);
    io.err(`error[${e.code}]: ${e.message}${where ? `\n  at ${where}` : ''}`);
    if (e.code === 'FRESCO_ERR_INTERNAL' && e.cause instanceof Error && e.cause.stack) io.err(e.cause.stack);
  }
  return e.exitCode;
}

function formatLocation(e: FrescoError): string {
  const l = e.location;
  if (!l) return '';
  const parts: string[] = [];
  if (l.file) parts.push(l.line ? `${l.file}:${l.line}${l.column ? `:${l.column}` : ''}` : l.file);
  if (l.key) parts.push(`key ${l.key}`);
  if (l.requestId) parts.push(`request ${l.requestId}`);
  return parts.join(', ');
}
