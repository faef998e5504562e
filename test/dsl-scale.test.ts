// Big specs: 100,000 output lines compile, check, explain and fit (the compiler is linear: see
// bench/dsl-scale.ts for the figures), a 1,000,000-element list literal compiles, and nesting
// fails with a DSL error at its location, never a stack overflow.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSpec, fitSpec, MAX_DEPTH } from '../src/dsl/index.js';
import { lineCol, lineIndex } from '../src/dsl/source.js';
import { FrescoError } from '../src/errors/index.js';
import type { FeatureSchema } from '../src/features/schema.js';
import type { ColumnTable } from '../src/offline/read-columns.js';
import { packageRoot } from '../src/package-root.js';
import { cli } from './helpers/cli.js';

const schema: FeatureSchema = {
  tables: { stats: Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`f${k}`, { type: 'float' as const, nullable: true }])) },
  request: { distance: { type: 'int', nullable: false }, origin: { type: 'string', nullable: true } },
};

const N = 100_000;

/** Line i: four forms, each with i in it so that no two lines share ops; one in four is fitted. */
function line(i: number): string {
  const f = `@stats.f${i % 10}`;
  const forms = [`standardize(${f} + ${i})`, `@request.distance * ${i}`, `hash_bucket(lower(@request.origin), ${i + 1})`, `if(${f} > ${i}, 1, 0)`];
  return `o${i} = ${forms[i % 4]}`;
}
const bigSpec = Array.from({ length: N }, (_, i) => line(i)).join('\n');

function failure(text: string): FrescoError {
  try {
    compileSpec(text, schema, { file: 'big.features' });
  } catch (error) {
    expect(error).toBeInstanceOf(FrescoError);
    return error as FrescoError;
  }
  throw new Error('expected the spec to fail');
}

describe('a 100,000-line spec', () => {
  it('compiles to a plan with one output per line, and every fit site knows its line and column', () => {
    const spec = compileSpec(bigSpec, schema, { file: 'big.features' });
    const plan = spec.draft();
    expect(plan.outputs).toHaveLength(N);
    expect(plan.output_names?.[N - 1]).toBe(`o${N - 1}`);
    expect(spec.outputs[N - 1]).toMatchObject({ name: `o${N - 1}`, line: N, type: 'int' });
    const sites = spec.fitSites;
    expect(sites).toHaveLength(N / 4);
    const last = N - 4;
    expect(sites[N / 4 - 1]).toMatchObject({ output: `o${last}`, function: 'standardize', line: last + 1, column: `o${last} = `.length + 1 });
  }, 120_000);

  it('dsl check --json and dsl explain print it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-dsl-scale-'));
    const file = join(dir, 'big.features');
    const schemaFile = join(dir, 'schema.json');
    writeFileSync(file, `${bigSpec}\n`);
    writeFileSync(schemaFile, JSON.stringify(schema));
    const check = await cli('--json', 'dsl', 'check', file, '--schema', schemaFile);
    expect(check.err).toBe('');
    const report = JSON.parse(check.out) as { outputs: unknown[]; columns: { column: string; line: number }[]; fitted: unknown[] };
    expect(report.outputs).toHaveLength(N);
    expect(report.columns[N - 1]).toMatchObject({ column: `o${N - 1}`, line: N });
    expect(report.fitted).toHaveLength(N / 4);
    const explain = await cli('dsl', 'explain', file, '--schema', schemaFile);
    expect(explain.err).toBe('');
    expect(explain.out).toMatch(new RegExp(`^draft plan \\(not runnable until fitted\\): 12 input\\(s\\), \\d+ op\\(s\\), ${N} output column\\(s\\)`));
  }, 120_000);

  it('fits: the frozen plan has every output, and each fitted function its line', () => {
    // Few fitted functions (fitting runs the partial plan once per function), many outputs.
    const text = Array.from({ length: N }, (_, i) => (i % 25_000 === 0 ? `o${i} = standardize(@request.distance + ${i})` : `o${i} = @request.distance * ${i}`)).join('\n');
    const distance = Float64Array.from({ length: 8 }, (_, r) => r * 100);
    const table: ColumnTable = { names: ['distance'], types: ['num'], rows: 8, columns: [{ kind: 'f64', values: distance }] };
    const frozen = fitSpec(compileSpec(text, schema), table);
    expect(frozen.plan.outputs).toHaveLength(N);
    expect(frozen.fitted.map((f) => [f.output, f.line, f.column])).toEqual([0, 25_000, 50_000, 75_000].map((i) => [`o${i}`, i + 1, `o${i} = `.length + 1]));
  }, 120_000);
});

describe('big list literals', () => {
  it('a 1,000,000-element list compiles (no recursion or argument spread per element)', () => {
    const boundaries = Array.from({ length: 1_000_000 }, (_, i) => i);
    const plan = compileSpec(`b = bucketize(@request.distance, [${boundaries.join(', ')}])\n`, schema).plan();
    const op = plan.ops.find((o) => o.op === 'bucketize') as { boundaries: number[] } | undefined;
    expect(op?.boundaries).toHaveLength(1_000_000);
    expect(op?.boundaries[999_999]).toBe(999_999);
  }, 120_000);

  it('one_hot over 200,000 categories compiles, and a repeated one is named at its line and column', () => {
    const categories = Array.from({ length: 200_000 }, (_, i) => `"c${i}"`);
    const spec = compileSpec(`x = 1\nh = one_hot(@request.origin, [${categories.join(', ')}])\n`, schema);
    expect(spec.outputs[1]?.columns).toHaveLength(200_001);
    const repeated = `x = 1\nh = one_hot(@request.origin, [${categories.join(', ')}, "c7"])\n`;
    const error = failure(repeated);
    expect(error.code).toBe('FRESCO_ERR_DSL_TYPE');
    expect(error.message).toMatch(/one_hot: category "c7" is listed twice/);
    expect(error.location).toEqual({ file: 'big.features', line: 2, column: repeated.split('\n')[1]!.lastIndexOf('"c7"') + 1 });
    // The snippet is a window of the 2 MB line around the culprit, with the caret under it.
    expect(error.message.length).toBeLessThan(1000);
    expect(error.message).toMatch(/\n2 \| \.\.\..*"c199999", "c7"\]\)\n {2}\| +\^{4}$/m);
  }, 120_000);
});

describe('nesting', () => {
  it(`accepts ${MAX_DEPTH - 1} nested parentheses or calls and refuses ${MAX_DEPTH} with a DSL error at the place`, () => {
    const parens = (n: number) => `a = ${'('.repeat(n)}@request.distance${')'.repeat(n)}`;
    const calls = (n: number) => `a = ${'abs('.repeat(n)}@request.distance${')'.repeat(n)}`;
    expect(compileSpec(parens(MAX_DEPTH - 1), schema).plan().outputs).toHaveLength(1);
    expect(compileSpec(calls(MAX_DEPTH - 1), schema).plan().outputs).toHaveLength(1);
    const error = failure(parens(MAX_DEPTH));
    expect(error.code).toBe('FRESCO_ERR_DSL_SYNTAX');
    expect(error.message).toMatch(/nested too deeply \(more than 200 levels\)/);
    expect(error.location).toEqual({ file: 'big.features', line: 1, column: 5 + MAX_DEPTH });
  });

  it('with a small stack, deep nesting is still a DSL error with its location, not a stack overflow', () => {
    // A caller with a third of Node's default stack (a worker, a deep call chain): the parser
    // turns the overflow into the DSL error instead of letting it out as an internal error.
    const root = packageRoot();
    const script = `
      await import(${JSON.stringify(join(root, 'test/helpers/ts-hooks.mjs'))});
      const { compileSpec } = await import(${JSON.stringify(join(root, 'src/dsl/index.ts'))});
      const schema = { tables: {}, request: { d: { type: 'int', nullable: false } } };
      try { compileSpec('a = ' + '('.repeat(199) + '@request.d' + ')'.repeat(199), schema); console.log('{}'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, location: e.location, message: e.message.split('\\n')[0] })); }`;
    const out = execFileSync(process.execPath, ['--stack-size=300', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop() as string) as { code?: string; location?: { line: number; column: number }; message?: string };
    expect(result).toMatchObject({ code: 'FRESCO_ERR_DSL_SYNTAX', location: { line: 1 }, message: expect.stringMatching(/nested too deeply/) });
  }, 60_000);
});

describe('lineIndex', () => {
  it('gives the same line and column as lineCol for every offset (newlines, tabs, surrogate pairs)', () => {
    const piece = fc.constantFrom('a', 'x = 1', '\n', '\t', '😀', '\r\n', 'é', '@request.d');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.nat(), (parts, seed) => {
        const text = parts.join('');
        const at = lineIndex(text);
        for (const offset of [0, seed % (text.length + 1), text.length, ...Array.from(text, (_, i) => i)]) {
          const { line, column } = lineCol(text, offset);
          expect(at(offset)).toEqual({ line, column });
        }
      }),
    );
  });
});
