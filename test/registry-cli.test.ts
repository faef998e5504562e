// `fresco models ...`: the CLI over the registry, in the one error style, with --json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-root.js';
import { cli } from './helpers/cli.js';

const examples = join(import.meta.dirname, '..', 'models');
const work = mkdtempSync(join(tmpdir(), 'fresco-registry-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('fresco models (CLI)', () => {
  it('registers, lists, shows, aliases, diffs and exports, with --json', async () => {
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'fresco.yaml'), 'project: registry_cli\n');
    const metrics = join(work, 'metrics.json');
    writeFileSync(metrics, JSON.stringify({ auc: 0.8 }));
    const reg = await cli('--json', 'models', 'register', join(examples, 'flights-delay'), '--project', project, '--metrics', metrics, '--alias', 'staging');
    expect(reg.code, reg.err).toBe(0);
    expect(JSON.parse(reg.out)).toMatchObject({ name: 'flights-delay', version: 1, metrics: { auc: 0.8 }, aliases: ['staging'] });
    expect(existsSync(join(project, '.fresco', 'registry', 'registry.db'))).toBe(true);
    const registry = join(project, '.fresco', 'registry');
    expect((await cli('models', 'register', join(examples, 'flights-delay'), '--registry', registry)).out).toMatch(/^registered flights-delay@2: sha256:/);
    expect((await cli('models', 'list', '--registry', registry)).out).toMatch(/flights-delay\s+2\s+2\s+\S+\s+staging->1/);
    const show = await cli('models', 'show', 'flights-delay@staging', '--registry', registry);
    expect(show.out).toMatch(/^flights-delay@1 \(staging\)/);
    expect(show.out).toMatch(/metrics: {3}auc=0\.8/);
    expect(JSON.parse((await cli('--json', 'models', 'alias', 'flights-delay', '2', 'staging', '--registry', registry)).out)).toMatchObject({ fromVersion: 1, toVersion: 2 });
    const diff = await cli('models', 'diff', 'flights-delay', '1', '2', '--registry', registry);
    expect(diff.out).toMatch(/^auc\s+0\.8\s+-\s+removed$/m);
    const file = join(work, 'cli-export.tgz');
    expect(JSON.parse((await cli('--json', 'models', 'export', 'flights-delay@staging', file, '--registry', registry)).out)).toMatchObject({ version: 2, file });
    expect(existsSync(file)).toBe(true);
  });

  it('reports errors in the one style, with the file named', async () => {
    const r = await cli('--json', 'models', 'show', 'ghost@production', '--registry', join(work, 'empty-reg'));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.err)).toEqual({ error: { code: 'FRESCO_ERR_MODEL_NOT_FOUND', message: 'no model named "ghost" in the registry' } });
    const bad = join(work, 'bad-metrics.json');
    writeFileSync(bad, '{"auc": "high"}');
    const m = await cli('models', 'register', join(examples, 'mlp-50'), '--registry', join(work, 'empty-reg'), '--metrics', bad);
    expect(m.code).toBe(2);
    expect(m.err).toMatch(/^error\[FRESCO_ERR_INVALID_ARGUMENT\]: .*bad-metrics\.json: metric "auc" must be a finite number/);
  });

  it('read commands outside a project say so, exit 1 and create nothing', () => {
    const empty = mkdtempSync(join(work, 'not-a-project-'));
    for (const args of [['models', 'list'], ['models', 'show', 'churn'], ['models', 'diff', 'churn', '1', '2']]) {
      // The executable, run where a user runs it: in a folder that is not a project.
      const r = spawnSync(process.execPath, [join(packageRoot(), 'bin', 'fresco.js'), ...args], { cwd: empty, encoding: 'utf8' });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/^error\[FRESCO_ERR_NOT_FOUND\]: .*fresco\.yaml: not a Fresco project \(no fresco\.yaml\); run `fresco init \.`, or name a registry folder with --registry <dir>/);
      expect(r.stdout).toBe('');
    }
    expect(readdirSync(empty)).toEqual([]);
  });

  it('reads a registry that does not exist yet as empty, without creating it', async () => {
    const project = join(work, 'fresh-project');
    mkdirSync(project);
    writeFileSync(join(project, 'fresco.yaml'), 'project: fresh\n');
    const list = await cli('--json', 'models', 'list', '--project', project);
    expect(list.code, list.err).toBe(0);
    expect(JSON.parse(list.out)).toEqual([]);
    expect((await cli('models', 'show', 'churn', '--project', project)).err).toMatch(/no model named "churn" in the registry/);
    expect((await cli('models', 'list', '--registry', join(work, 'no-such-registry'))).out).toMatch(/the registry is empty/);
    expect(readdirSync(project)).toEqual(['fresco.yaml']);
    expect(existsSync(join(work, 'no-such-registry'))).toBe(false);
  });
});
