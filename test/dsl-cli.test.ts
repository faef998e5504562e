// `fresco dsl check` and `fresco dsl explain`: what a spec author sees at the terminal.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { loadFrozenPlan } from '../src/dsl/index.js';
import { packageRoot } from '../src/package-root.js';

const root = packageRoot();
const spec = join(root, 'examples', 'flights.features');
const schema = join(root, 'examples', 'flights.schema.json');
const dir = mkdtempSync(join(tmpdir(), 'fresco-dsl-cli-'));
const csv = join(dir, 'train.csv');
writeFileSync(csv, 'date,distance,origin,destination\n2001-01-01 08:00:00,300,SFO,LAX\n2001-01-06 18:30:00,2500,JFK,SFO\n2001-01-03 23:10:00,120,SFO,ORD\n');

describe('fresco dsl', () => {
  it('check prints each output column with its type', async () => {
    const r = await cli('dsl', 'check', spec, '--schema', schema);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/flights.features: ok, 13 output\(s\), 3 fitted function\(s\)/);
    expect(r.out).toMatch(/\bhour\s+int\b/);
    expect(r.out).toMatch(/\bis_weekend\s+bool\b/);
    expect(r.out).toMatch(/\blog_distance\s+float\?\s+yes/);
    expect(r.out).toMatch(/\bhub__ATL\s+float/);
    expect(r.out).toMatch(/\borigin__\*\s+float\s+yes/);
    const j = await cli('--json', 'dsl', 'check', spec, '--schema', schema);
    expect(JSON.parse(j.out).outputs[0]).toEqual({ name: 'hour', line: 8, type: 'int', nullable: false, fitted: false });
  });

  it('reports a bad spec with file, line, column and caret, exit 1', async () => {
    const bad = join(dir, 'bad.features');
    writeFileSync(bad, 'ok = 1\nx = log1p(@request.origin)\n');
    const r = await cli('dsl', 'check', bad, '--schema', schema);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error\[FRESCO_ERR_DSL_TYPE\]: log1p\(\.\.\.\) expects an int or a float, but @request.origin is a string/);
    expect(r.err).toContain(`--> ${bad}:2:11`);
    expect(r.err).toContain('2 | x = log1p(@request.origin)');
    expect(r.err).toMatch(/\n\s+\| {11}\^{15}\n/);
    expect(r.err).toContain(`at ${bad}:2:11`);
  });

  it('needs a schema, and says which option gives one', async () => {
    const r = await cli('dsl', 'check', spec);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--schema <file.json> and\/or --project <dir>/);
    const missing = await cli('dsl', 'check', spec, '--schema', join(dir, 'nope.json'));
    expect(missing.err).toMatch(/FRESCO_ERR_NOT_FOUND.*nope.json/);
    const badSchema = join(dir, 'bad-schema.json');
    writeFileSync(badSchema, JSON.stringify({ request: { x: { type: 'double' } } }));
    expect((await cli('dsl', 'check', spec, '--schema', badSchema)).err).toMatch(/request.x.type: must be one of float, int, bool, string, timestamp, got "double"/);
  });

  it('explain prints the draft plan, and with --fit the frozen plan, written with --out', async () => {
    const draft = await cli('dsl', 'explain', spec, '--schema', schema);
    expect(draft.code).toBe(0);
    expect(draft.out).toMatch(/draft plan \(not runnable until fitted\)/);
    expect(draft.out).toMatch(/standardize\(s\d+, mean=\?, std=\?\)/);
    const out = join(dir, 'frozen.json');
    const fitted = await cli('dsl', 'explain', spec, '--schema', schema, '--fit', csv, '--out', out);
    expect(fitted.code, fitted.err).toBe(0);
    expect(fitted.out).toMatch(/frozen plan sha256:[0-9a-f]{64}/);
    expect(fitted.out).toMatch(/min_max\(s\d+, min=120, max=2500\)\s+fitted: min_max on 3 rows/);
    const frozen = loadFrozenPlan(readFileSync(out, 'utf8'));
    expect(fitted.out).toContain(frozen.hash);
    expect(frozen.fitted.find((f) => f.function === 'vocab_one_hot')?.params.categories).toEqual(['sfo', 'jfk']);
    const refuse = await cli('dsl', 'explain', spec, '--schema', schema, '--out', out);
    expect(refuse.err).toMatch(/FRESCO_ERR_DSL_UNFITTED/);
  });
});
