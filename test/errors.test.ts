import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, FrescoError, toFrescoError } from '../src/errors/index.js';

describe('error codes', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map(
    [...doc.matchAll(/^\| `(FRESCO_ERR_[A-Z_]+)` \| (\d) \| (\d{3}) \| (.+) \|$/gm)].map((m) => [m[1], { exit: Number(m[2]), http: Number(m[3]), summary: m[4] }]),
  );

  it('documents every code with its exit code, HTTP status and meaning', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code), `${code} in docs/errors.md`).toEqual({ exit: spec.exit, http: spec.http, summary: spec.summary });
    }
  });

  it('documents no code that does not exist', () => {
    for (const code of rows.keys()) expect(Object.keys(ERROR_CODES)).toContain(code);
  });

  it('keeps Fresco errors and wraps anything else as internal', () => {
    const own = new FrescoError('FRESCO_ERR_NOT_FOUND', 'x');
    expect(toFrescoError(own)).toBe(own);
    expect(toFrescoError(new TypeError('boom'))).toMatchObject({ code: 'FRESCO_ERR_INTERNAL', message: 'boom' });
    expect(own.exitCode).toBe(1);
    expect(new FrescoError('FRESCO_ERR_USAGE', 'x').exitCode).toBe(2);
  });
});
