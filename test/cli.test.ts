// The CLI's contract: help, version, one error style with stable codes, exit codes, --json.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';

/** What package.json says, read here rather than through the code under test. */
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const dir = mkdtempSync(join(tmpdir(), 'fresco-cli-'));
const planFile = join(dir, 'plan.json');
writeFileSync(
  planFile,
  JSON.stringify({
    format: 'fresco.plan',
    version: 1,
    inputs: [
      { name: 'x', type: 'num' },
      { name: 'city', type: 'str' },
    ],
    ops: [{ op: 'log1p', args: [0] }, { op: 'one_hot', args: [1], categories: ['a'] }],
    outputs: [2, 3, 4],
  }),
);
const csv = join(dir, 'data.csv');
writeFileSync(csv, 'x,city\n0,a\n,b\n1.718281828459045,\n');

describe('fresco CLI', () => {
  it('prints help and version', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: fresco/);
    expect(help.out).toMatch(/plan/);
    const version = await cli('--version');
    expect(version).toMatchObject({ code: 0, out: `${PACKAGE_VERSION}\n` });
  });

  it('exits 2 with FRESCO_ERR_USAGE on an unknown command or option', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error\[FRESCO_ERR_USAGE\]: unknown command 'frobnicate'/);
    expect((await cli('plan', 'check', planFile, '--nope')).code).toBe(2);
  });

  it('exits 1 with the file named when it is missing, as JSON with --json', async () => {
    const r = await cli('--json', 'plan', 'check', join(dir, 'missing.json'));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.err)).toEqual({ error: { code: 'FRESCO_ERR_NOT_FOUND', message: expect.stringContaining('missing.json'), location: { file: join(dir, 'missing.json') } } });
  });

  it('rejects a malformed plan with the op named', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'fresco.plan', version: 1, inputs: [], ops: [{ op: 'explode', args: [] }], outputs: [] }));
    const r = await cli('plan', 'check', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[FRESCO_ERR_PLAN_INVALID\]: .*bad\.json: op 0: unknown op "explode"/);
  });

  it('checks a plan and prints its inputs, as data with --json', async () => {
    const r = await cli('plan', 'check', planFile, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ inputs: [{ name: 'x', type: 'num' }, { name: 'city', type: 'str' }], ops: 2, outputs: [2, 3, 4] });
  });

  it('runs a plan over a CSV file with either engine, with the same result', async () => {
    for (const engine of ['native', 'reference']) {
      const r = await cli('--json', 'plan', 'run', planFile, '--input', csv, '--engine', engine);
      expect(r.err).toBe('');
      const data = JSON.parse(r.out);
      expect(data).toMatchObject({ rows: 3, columns: 3, engine });
      // JSON turns NaN into null.
      expect(data.head).toEqual([
        [0, 1, 0],
        [null, 0, 1],
        [1, 0, 0],
      ]);
    }
  });
});
