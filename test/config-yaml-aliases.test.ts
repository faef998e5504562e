// YAML alias bombs ("billion laughs") are invalid configuration, reported with the file and the
// line of the offending alias, at every place Fresco reads YAML; modest aliases keep working.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ALIASES } from '../src/config/yaml-aliases.js';
import { loadProject } from '../src/features/project.js';
import { cli } from './helpers/cli.js';

/** Nine levels of nine aliases each: 9^9 (387 million) strings in eleven lines. */
function billionLaughs(key = 'bomb'): string {
  const lines = [`${key}:`, '  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let k = 1; k <= 9; k++) lines.push(`  a${k}: &a${k} [${Array.from({ length: 9 }, () => `*a${k - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

const DEFINITIONS = `entities:
  - name: driver
    join_keys: [driver_id]
sources:
  - name: stats
    path: data/stats.parquet
    timestamp: ts
feature_tables:
  - name: driver_stats
    entities: [driver]
    source: stats
    ttl: 1d
    features:
      - { name: conv_rate, type: float32 }
`;

function project(config: string, defs: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-yaml-'));
  writeFileSync(join(dir, 'fresco.yaml'), config);
  mkdirSync(join(dir, 'features'));
  for (const [name, text] of Object.entries(defs)) writeFileSync(join(dir, 'features', name), text);
  return dir;
}

interface JsonError {
  error: { code: string; message: string; location?: { file: string; line?: number; column?: number } };
}

async function failure(...args: string[]): Promise<JsonError['error']> {
  const r = await cli('--json', ...args);
  expect(r.code).toBe(1);
  return (JSON.parse(r.err) as JsonError).error;
}

describe('YAML alias bombs', () => {
  it('in features/*.yaml: apply reports a config error at the alias, not an internal error', async () => {
    // The bomb sits under an extra key of a definition file, as a stray paste would.
    const dir = project('project: p\n', { 'a.yaml': `${DEFINITIONS}${billionLaughs('extra')}` });
    const error = await failure('apply', '--project', dir);
    expect(error.code).toBe('FRESCO_ERR_CONFIG_INVALID');
    expect(error.location).toMatchObject({ file: join(dir, 'features', 'a.yaml') });
    // a0..a4 expand within the limit; the first alias of a5 (9^5 values) is the one that breaks it.
    expect(error.location?.line).toBe(21);
    expect(error.location?.column).toBe(12);
    expect(error.message).toMatch(/a\.yaml:21:12: alias \*a4 stands for .* more than 100,000 values .*billion laughs/);
  });

  it('in fresco.yaml: a config error with the file and line', async () => {
    const dir = project(`project: p\n${billionLaughs()}`);
    const error = await failure('apply', '--project', dir);
    expect(error.code).toBe('FRESCO_ERR_CONFIG_INVALID');
    expect(error.location).toMatchObject({ file: join(dir, 'fresco.yaml'), line: 8, column: 12 });
  });

  it('in serve --config: a config error with the file and line, before any model is loaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-yaml-'));
    const file = join(dir, 'serving.yaml');
    writeFileSync(file, `defaults:\n  instances: 1\n${billionLaughs('models')}`);
    const error = await failure('serve', '--models', 'nothing-here', '--config', file, '--port', '0');
    expect(error.code).toBe('FRESCO_ERR_CONFIG_INVALID');
    expect(error.location).toMatchObject({ file, line: 9, column: 12 });
  });

  it('an alias to no earlier anchor, or inside the value it names, is a config error at the alias', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-yaml-'));
    const circular = join(dir, 'circular.yaml');
    writeFileSync(circular, 'defaults: &d\n  instances: 1\n  more: *d\n');
    const error = await failure('serve', '--models', 'nothing-here', '--config', circular);
    expect(error).toMatchObject({ code: 'FRESCO_ERR_CONFIG_INVALID', location: { file: circular, line: 3, column: 9 } });
    expect(error.message).toMatch(/alias \*d is inside the value it refers to/);
    const project = mkdtempSync(join(tmpdir(), 'fresco-yaml-'));
    writeFileSync(join(project, 'fresco.yaml'), 'project: *name\n');
    expect(await failure('apply', '--project', project)).toMatchObject({ code: 'FRESCO_ERR_CONFIG_INVALID', location: { line: 1, column: 10 }, message: expect.stringMatching(/alias \*name refers to no anchor before it/) });
  });

  it('limits the number of aliases in one file, naming the first one too many', async () => {
    const uses = Array.from({ length: MAX_ALIASES + 1 }, () => '  - *n').join('\n');
    const dir = project(`project: p\nname_list: &n x\nuses:\n${uses}\n`);
    const error = await failure('apply', '--project', dir);
    expect(error).toMatchObject({ code: 'FRESCO_ERR_CONFIG_INVALID', location: { file: join(dir, 'fresco.yaml'), line: 4 + MAX_ALIASES, column: 5 } });
    expect(error.message).toMatch(/more than 5,000 YAML aliases/);
  });

  it('still reads ordinary aliases: one anchor used by 150 tables (over the yaml package default of 100)', () => {
    const table = (i: number) => `  - name: t${i}\n    entities: ${i === 0 ? '&entities [driver]' : '*entities'}\n    source: stats\n    ttl: 1d\n    features:\n      - { name: f, type: float32 }\n`;
    const defs = `${DEFINITIONS.slice(0, DEFINITIONS.indexOf('feature_tables:'))}feature_tables:\n${Array.from({ length: 150 }, (_, i) => table(i)).join('')}`;
    const tables = loadProject(project('project: p\n', { 'a.yaml': defs })).definitions.tables;
    expect(tables.size).toBe(150);
    expect(tables.get('t149')).toMatchObject({ entities: ['driver'], source: 'stats' });
  });
});
