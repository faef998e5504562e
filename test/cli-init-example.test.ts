/**
 * `fresco init --example flights` gives a project that works as it is, outside this repository:
 * its data comes from the vega-datasets dependency (a sample written at init) and its files from
 * the package's templates/ folder, so apply, dataset build and train run on it in seconds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-root.js';
import { listTemplates } from '../src/templates/index.js';
import { cli } from './helpers/cli.js';

const base = mkdtempSync(join(tmpdir(), 'fresco-init-example-'));

describe('fresco init --example', () => {
  it('flights: init, apply, dataset build, train and materialize work on the new project', async () => {
    const dir = join(base, 'flights');
    const init = await cli('--json', 'init', dir, '--example', 'flights');
    expect(init.err).toBe('');
    expect(init.code).toBe(0);
    expect(JSON.parse(init.out)).toMatchObject({ project: 'flights', example: 'flights' });
    for (const file of ['fresco.yaml', 'README.md', 'dataset.yaml', 'train.yaml', 'delay.features', 'features/flights.yaml', 'data/flights.parquet', 'data/labels.parquet', 'data/airports.csv']) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }

    const apply = await cli('--json', 'apply', '--project', dir);
    expect(apply.code, apply.err).toBe(0);
    expect(JSON.parse(apply.out).definitions.map((d: { name: string }) => d.name)).toContain('delay_model');

    const build = await cli('--json', 'dataset', 'build', '--project', dir, '--spec', join(dir, 'dataset.yaml'), '--no-progress');
    expect(build.code, build.err).toBe(0);
    const dataset = JSON.parse(build.out) as { out: string; rows: number };
    expect(dataset.out).toBe(join(dir, 'data', 'training.parquet'));
    // A sample: big enough for a time split and windows, small enough to train in seconds.
    expect(dataset.rows).toBeGreaterThan(10_000);
    expect(dataset.rows).toBeLessThan(50_000);
    expect(existsSync(join(dir, 'data', 'training.parquet.manifest.json'))).toBe(true);

    const train = await cli('--json', 'train', join(dir, 'train.yaml'));
    expect(train.code, train.err).toBe(0);
    const trained = JSON.parse(train.out) as { name: string; version: number; aliases: string[]; metrics: { auc: number } };
    expect(trained).toMatchObject({ name: 'flights-delay', version: 1, aliases: ['production'] });
    // Better than chance on the held-out last week: the features carry signal.
    expect(trained.metrics.auc).toBeGreaterThan(0.55);
    expect(existsSync(join(dir, 'reports', 'flights-delay.html'))).toBe(true);

    const list = await cli('--json', 'models', 'list', '--project', dir);
    expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ name: 'flights-delay', versions: 1, aliases: { production: 1 } })]);

    // The README's online step: the store as of the end of the sample, so predictions see features.
    const materialize = await cli('--json', 'materialize', '--project', dir, '--end', '2001-01-31T17:00:00Z');
    expect(materialize.code, materialize.err).toBe(0);
    const get = await cli('--json', 'features', 'get', 'origin_delays', '--project', dir, '--key', 'airport=SFO');
    const row = (JSON.parse(get.out) as { rows: { statuses: Record<string, string>; values: Record<string, number> }[] }).rows[0]!;
    expect(row.statuses.origin_delays).toBe('present');
    expect(row.values.count_24h).toBeGreaterThan(0);
  });

  it('init --help names every template (help lists them without loading the templates)', async () => {
    const help = await cli('init', '--help');
    for (const t of listTemplates()) expect(help.out).toMatch(new RegExp(`--example <template>.*\\b${t.name}\\b`, 's'));
  });

  it('an unknown template is an error that lists the available ones, and nothing is written', async () => {
    const dir = join(base, 'nope');
    const r = await cli('init', dir, '--example', 'taxis');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error\[FRESCO_ERR_INVALID_ARGUMENT\]: --example "taxis": no such template; available: flights \(/);
    expect(existsSync(dir)).toBe(false);
  });

  it('never overwrites: a folder holding one of the template\'s files is refused before anything is written', async () => {
    const dir = mkdtempSync(join(base, 'taken-'));
    writeFileSync(join(dir, 'train.yaml'), 'mine\n');
    const r = await cli('init', dir, '--example', 'flights');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/train\.yaml already exists/);
    expect(readFileSync(join(dir, 'train.yaml'), 'utf8')).toBe('mine\n');
    expect(existsSync(join(dir, 'fresco.yaml'))).toBe(false);
  });

  it('the npm package ships every template file (an installed fresco-ml can init --example)', () => {
    const root = packageRoot();
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as [{ files: { path: string }[] }];
    const packed = new Set(pack.files.map((f) => f.path));
    const templates = readdirSync(join(root, 'templates'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(root.length + 1));
    expect(templates).toContain('templates/flights/train.yaml');
    expect(templates.filter((f) => !packed.has(f))).toEqual([]);
  });
});
