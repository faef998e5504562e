// Bad specs: every error names the file, line and column, shows the line with a caret, and says
// what was expected; and the compiler fails only with its own errors, never hangs (fuzz).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSpec, type CompiledSpec } from '../src/dsl/index.js';
import { FrescoError } from '../src/errors/index.js';
import type { FeatureSchema } from '../src/features/schema.js';

const schema: FeatureSchema = {
  tables: {
    airport_delay: { delay_avg_24h: { type: 'float', nullable: true }, delay_count_24h: { type: 'int', nullable: true } },
    route: { distance: { type: 'float', nullable: false } },
  },
  request: {
    city: { type: 'string', nullable: false },
    distance: { type: 'int', nullable: false },
    date: { type: 'timestamp', nullable: false },
    urgent: { type: 'bool', nullable: true },
  },
};

function failure(spec: string): FrescoError {
  try {
    compileSpec(spec, schema, { file: 'model.features' });
  } catch (error) {
    expect(error).toBeInstanceOf(FrescoError);
    return error as FrescoError;
  }
  throw new Error(`expected "${spec}" to fail`);
}

/** The caret line's position and width under the reported line. */
function caret(e: FrescoError): { line: string; at: number; width: number } {
  const lines = e.message.split('\n');
  const i = lines.findIndex((l) => /^\s*\d+ \| /.test(l));
  const under = lines[i + 1] as string;
  const bar = (lines[i] as string).indexOf('| ') + 2;
  const m = /\^+/.exec(under) as RegExpExecArray;
  return { line: (lines[i] as string).slice(bar), at: m.index - bar, width: m[0].length };
}

describe('DSL errors point at the mistake', () => {
  it('a string passed to log1p is a type error at compile time, with the argument underlined', () => {
    const e = failure('a = 1\nb = log1p(@request.city)');
    expect(e.code).toBe('FRESCO_ERR_DSL_TYPE');
    expect(e.location).toEqual({ file: 'model.features', line: 2, column: 11 });
    expect(e.message).toMatch(/^log1p\(\.\.\.\) expects an int or a float, but @request.city is a string/);
    expect(e.message).toContain('--> model.features:2:11');
    expect(caret(e)).toEqual({ line: 'b = log1p(@request.city)', at: 10, width: '@request.city'.length });
    expect(e.message).toMatch(/help: .*one_hot/);
  });

  it('an unknown feature suggests the closest known names', () => {
    const e = failure('x = @airport_delay.delay_avg_2h');
    expect(e.code).toBe('FRESCO_ERR_DSL_TYPE');
    expect(e.message).toMatch(/unknown feature "delay_avg_2h" in table "airport_delay"/);
    expect(e.message).toMatch(/did you mean @airport_delay.delay_avg_24h/);
    expect(failure('x = @airport_dely.delay_avg_24h').message).toMatch(/unknown feature table "airport_dely"[\s\S]*did you mean airport_delay/);
    expect(failure('x = @request.distanse').message).toMatch(/unknown request field "distanse"[\s\S]*did you mean @request.distance/);
  });

  it('an unknown function suggests the closest functions with their signatures', () => {
    const e = failure('x = standardise(@request.distance)');
    expect(e.message).toMatch(/unknown function "standardise"[\s\S]*did you mean standardize\(x\)/);
    expect(caret(e)).toMatchObject({ at: 4, width: 'standardise'.length });
  });

  it('wrong argument counts, kinds and parameters say what was expected', () => {
    expect(failure('x = clip(@request.distance, 0)').message).toMatch(/clip takes 3 arguments, got 2[\s\S]*usage: clip\(x, lo, hi\)/);
    expect(failure('x = clip(@request.distance, 5, 1)').message).toMatch(/lower bound 5 is above the upper bound 1/);
    expect(failure('x = bucketize(@request.distance, [10, 5])').message).toMatch(/strictly ascending, but 5 follows 10/);
    expect(failure('x = bucketize(@request.distance, 10)').message).toMatch(/must be a list of number literals/);
    expect(failure('x = one_hot(@request.city, ["a", "a"])').message).toMatch(/"a" is listed twice/);
    expect(failure('x = hash_bucket(@request.city, 0)').message).toMatch(/integer from 1 to 4294967295/);
    expect(failure('x = hour(@request.distance)').message).toMatch(/hour\(\.\.\.\) expects a timestamp, but @request.distance is an int/);
    expect(failure('x = vocab_one_hot(@request.city)').message).toMatch(/vocab_one_hot needs top=k/);
    expect(failure('x = log1p(@request.distance, top=3)').message).toMatch(/log1p takes 1 argument, got 1|log1p has no argument named "top"/);
    expect(failure('x = if(@request.distance, 1, 0)').message).toMatch(/the condition of if\(\.\.\.\) expects a bool, but @request.distance is an int/);
    expect(failure('x = if(@request.urgent, 1, @request.date)').message).toMatch(/is a timestamp, but the earlier argument is an int/);
    expect(failure('x = @request.date - @request.date').message).toMatch(/days_between/);
    expect(failure('x = @request.city == @request.city').message).toMatch(/a string can only be compared with a string literal/);
    expect(failure('x = @request.distance + true').message).toMatch(/if\(b, 1, 0\)/);
  });

  it('outputs must be numeric, single columns where nested, and uniquely named', () => {
    expect(failure('x = lower(@request.city)').message).toMatch(/output "x" is a string; model inputs are numbers/);
    expect(failure('x = one_hot(@request.city, ["a"]) + 1').message).toMatch(/produces several columns; it can only be a whole output/);
    const dup = failure('x = 1\ny = 2\nx = 3');
    expect(dup.message).toMatch(/duplicate output name "x"/);
    expect(dup.location).toMatchObject({ line: 3, column: 1 });
    expect(failure('o__a = 1\no = one_hot(@request.city, ["a"])').message).toMatch(/duplicate output name "o__a" \(also a column of "o__a"\)|duplicate output name "o__a"/);
    expect(failure('').message).toMatch(/the spec has no outputs/);
  });

  it('syntax: unbalanced brackets point at the unclosed bracket or the extra one', () => {
    const open = failure('a = log1p(@request.distance\nb = 2');
    expect(open.code).toBe('FRESCO_ERR_DSL_SYNTAX');
    expect(open.message).toMatch(/unclosed "\(": expected "\)" before/);
    expect(open.location).toMatchObject({ line: 1, column: 10 });
    const extra = failure('a = log1p(@request.distance))');
    expect(extra.message).toMatch(/found "\)"[\s\S]*no matching opening bracket/);
    expect(extra.location).toMatchObject({ line: 1, column: 29 });
    expect(failure('a = bucketize(@request.distance, [1, 2').message).toMatch(/unclosed "\[/);
  });

  it('syntax: bad tokens, references, strings and operators', () => {
    expect(failure('a = @request').message).toMatch(/incomplete reference "@request": expected "@request.<name>"/);
    expect(failure('a = @request.x.y').message).toMatch(/exactly two parts/);
    expect(failure('a = "abc').message).toMatch(/unterminated string/);
    expect(failure('a = 1 $ 2').message).toMatch(/unexpected character "\$"/);
    expect(failure('a = @request.urgent && true').message).toMatch(/write `and`, `or`/);
    expect(failure('a = 1 < 2 < 3').message).toMatch(/comparisons do not chain/);
    expect(failure('a = @request.distance = 3').message).toMatch(/to compare, write `==`/);
    expect(failure('a = 12abc').message).toMatch(/malformed number "12abc"/);
    expect(failure('a 1').message).toMatch(/expected "=" after the output name "a", found "1"/);
    expect(failure('= 1').message).toMatch(/expected an output line `name = expression`/);
    expect(failure('a = 1 +').message).toMatch(/expected an expression .* found the end of the spec/);
    expect(failure('a = distance').message).toMatch(/unknown name "distance"[\s\S]*@request.distance/);
  });

  it('deep nesting is an error, not a stack overflow', () => {
    expect(failure(`a = ${'('.repeat(5000)}1${')'.repeat(5000)}`).message).toMatch(/nested too deeply/);
    expect(failure(`a = ${'-'.repeat(5000)}1`).message).toMatch(/nested too deeply/);
    expect(failure(`a = ${Array(5000).fill('1').join(' + ')}`).message).toMatch(/nested too deeply/);
    expect(failure(`a = ${'not '.repeat(5000)}true`).message).toMatch(/nested too deeply/);
    expect(failure(`a = ${'abs('.repeat(5000)}1${')'.repeat(5000)}`).message).toMatch(/nested too deeply/);
  });

  it('running an unfitted spec fails with FRESCO_ERR_DSL_UNFITTED naming the fitted function', () => {
    const spec = compileSpec('a = 1\nb = standardize(@request.distance)', schema, { file: 'model.features' });
    expect(() => spec.plan()).toThrow(FrescoError);
    try {
      spec.plan();
    } catch (e) {
      expect((e as FrescoError).code).toBe('FRESCO_ERR_DSL_UNFITTED');
      expect((e as FrescoError).message).toMatch(/standardize\(\.\.\.\) in output "b" has not been fitted/);
      expect((e as FrescoError).location).toMatchObject({ line: 2, column: 5 });
    }
  });
});

const DSL_CODES = new Set(['FRESCO_ERR_DSL_SYNTAX', 'FRESCO_ERR_DSL_TYPE']);

/** Compiles; returns the spec, or the error when it is one of the compiler's own. Anything else fails the test. */
function compileOrOwnError(text: string): CompiledSpec | FrescoError {
  try {
    const spec = compileSpec(text, schema, { file: 'fuzz.features' });
    spec.draft();
    if (!spec.needsFit) spec.plan();
    return spec;
  } catch (error) {
    if (!(error instanceof FrescoError) || !DSL_CODES.has(error.code)) throw error;
    // Every error says where: file, line, column, and the caret snippet.
    expect(error.location?.file).toBe('fuzz.features');
    expect(error.location?.line).toBeGreaterThanOrEqual(1);
    expect(error.message).toMatch(/--> fuzz\.features:\d+:\d+\n.*\n.*\n.*\^/);
    return error;
  }
}

const VALID = [
  'a = log1p(fill_null(@airport_delay.delay_avg_24h, 0))',
  'b = standardize(@request.distance)',
  'c = vocab_one_hot(lower(@request.city), top=5)',
  'd = one_hot(@request.city, ["SFO", "LAX"])',
  'e = if(@request.urgent and hour(@request.date) >= 17, clip(@request.distance, 0, 3000), -1)',
  'f = coalesce(@airport_delay.delay_count_24h, @route.distance, 0) / 2',
  'g = bucketize(@route.distance, [100, 500.5, 1e3]) * 2 - abs(-3)',
  'h = hash_bucket(@request.city, 16) + day_of_week(@request.date)',
  'i = not (@request.city == "x") or is_null(@request.urgent)',
  'j = days_between(@request.date, @request.date) + min_max(fill_median(@route.distance))',
];
const ALPHABET = ['@', '.', '(', ')', '[', ']', ',', '=', '==', '+', '-', '*', '/', '<', '>=', '"', "'", '\n', ' ', '#', 'and', 'not', 'null', 'top=', '1', '0.5', 'e9', 'x', '\\', '\t', 'é', '😀'];

describe('fuzz: the compiler only ever throws its own errors, and never hangs', () => {
  it('accepts every valid line on its own and all together', () => {
    for (const line of VALID) expect(compileOrOwnError(line)).not.toBeInstanceOf(FrescoError);
    expect(compileOrOwnError(VALID.join('\n'))).not.toBeInstanceOf(FrescoError);
  });

  it('random strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        compileOrOwnError(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('random token soup', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ALPHABET, ...VALID.map((v) => v.slice(4, 20))), { maxLength: 60 }), (parts) => {
        compileOrOwnError(`x = ${parts.join('')}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid specs: deletions, insertions, duplications and swaps', () => {
    const spec = VALID.join('\n');
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...ALPHABET) }),
      fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => {
        let text = spec;
        for (const m of mutations) {
          const at = m.at % (text.length + 1);
          if (m.kind === 'delete') text = text.slice(0, at) + text.slice(at + m.length);
          else if (m.kind === 'insert') text = text.slice(0, at) + m.text + text.slice(at);
          else if (m.kind === 'duplicate') text = text.slice(0, at) + text.slice(at, at + m.length) + text.slice(at);
          else text = text.slice(at, at + m.length) + text.slice(0, at) + text.slice(at + m.length);
        }
        compileOrOwnError(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('a 5000-line spec and a 100 kB line compile (or fail) quickly', () => {
    const started = performance.now();
    compileOrOwnError(Array.from({ length: 5000 }, (_, i) => `o${i} = ${VALID[i % VALID.length]!.slice(4)}`).join('\n'));
    compileOrOwnError(`x = ${'@request.distance + '.repeat(5000)}1`);
    compileOrOwnError(`x = "${'a'.repeat(100_000)}`);
    // A generous bound: this guards against quadratic blow-ups and hangs, not for speed (bench/dsl.ts measures that).
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
