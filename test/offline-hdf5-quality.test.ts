import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { applyProject } from '../src/features/project.js';
import { buildDataset } from '../src/offline/dataset-builder.js';
import { openEngine } from '../src/offline/engine.js';
import { describeHdf5, loadHdf5IntoDuckDb } from '../src/offline/hdf5-lake.js';
import { importToHdf5 } from '../src/offline/lake-import.js';
import { copyFixture } from './offline-helpers.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

describe('HDF5 lake', () => {
  it('imports CSV into the documented layout and streams it back unchanged, nulls included', async () => {
    const dir = copyFixture('pit-project');
    const csv = join(dir, 'mixed.csv');
    writeFileSync(csv, 'ts,name,score,n,ok\n2021-01-01 10:00:00,a,1.5,3,true\n2021-01-02 00:00:00,,,,false\n2021-01-03 12:30:00,b,-2,7,\n');
    const r = await importToHdf5(csv, join(dir, 'lake.h5'), { group: 'mixed' });
    expect(r.rows).toBe(3);
    const info = await describeHdf5(r.out);
    expect(info.group).toBe('mixed');
    expect(info.columns.map((c) => [c.name, c.type, c.dictionary, c.nullMask])).toEqual([
      ['ts', 'timestamp', false, false],
      ['name', 'string', true, true],
      ['score', 'float64', false, true],
      ['n', 'int64', false, true],
      ['ok', 'bool', false, true],
    ]);
    const engine = await openEngine();
    try {
      await loadHdf5IntoDuckDb(engine, r.out, 'back');
      const rows = await engine.rows("SELECT strftime(ts, '%Y-%m-%d %H:%M') AS ts, name, score, n, ok FROM back");
      expect(rows).toEqual([
        { ts: '2021-01-01 10:00', name: 'a', score: 1.5, n: 3n, ok: true },
        { ts: '2021-01-02 00:00', name: null, score: null, n: null, ok: false },
        { ts: '2021-01-03 12:30', name: 'b', score: -2, n: 7n, ok: null },
      ]);
    } finally {
      engine.close();
    }
  });

  it('reads an HDF5 source in a dataset build like its CSV original', async () => {
    const dir = copyFixture('pit-project');
    await importToHdf5(join(dir, 'data/driver_stats.csv'), join(dir, 'data/driver_stats.h5'));
    const file = join(dir, 'features/drivers.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('data/driver_stats.csv', 'data/driver_stats.h5'));
    applyProject(dir);
    const r = await buildDataset({ project: dir, labels: join(dir, 'data/labels.csv'), timestamp: 'ts', features: ['driver_hourly.trips'], out: join(dir, 'o.parquet') });
    expect(r.manifest.output.rows).toBe(9);
    expect(r.manifest.sources.driver_stats?.rows).toBe(5);
  });

  it('names the file for malformed HDF5', async () => {
    const dir = copyFixture('pit-project');
    const bad = join(dir, 'bad.h5');
    writeFileSync(bad, 'this is not HDF5');
    await expect(describeHdf5(bad)).rejects.toMatchObject({ code: 'FRESCO_ERR_DATA_INVALID', message: expect.stringContaining('bad.h5: not a readable HDF5 file') });
  });
});

describe('data quality', () => {
  it('fails the run on a failed expectation, names table, column, check and observed value, writes no dataset, keeps the report', async () => {
    const dir = copyFixture('pit-project');
    const file = join(dir, 'features/drivers.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace('    created_timestamp: created\n', '    created_timestamp: created\n    expectations:\n      - { column: conv_rate, max: 0.8 }\n      - { max_row_change: 0.1 }\n')
        .replace('{ name: city, type: string }', '{ name: city, type: string, expectations: [{ allowed: [SF, LA], not_null: 0.9, severity: warn }] }'),
    );
    applyProject(dir);
    const out = join(dir, 'q.parquet');
    const err = await buildDataset({ project: dir, labels: join(dir, 'data/labels.csv'), timestamp: 'ts', features: ['driver_model'], out }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FRESCO_ERR_QUALITY_FAILED', message: expect.stringContaining('source:driver_stats column conv_rate: max expected <= 0.8, observed max 0.9') });
    expect(existsSync(out)).toBe(false);

    const list = capture();
    expect(await runCli(['node', 'fresco', '--json', 'quality', 'list', '--project', dir], list.io)).toBe(0);
    const runs = JSON.parse(list.out.join('')) as { id: string; status: string }[];
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe('failed');
    const show = capture();
    expect(await runCli(['node', 'fresco', '--json', 'quality', 'show', runs[0]!.id.slice(0, 18), '--project', dir], show.io)).toBe(0);
    const report = JSON.parse(show.out.join(''));
    const city = report.checks.filter((c: { column?: string }) => c.column === 'driver_facts__city');
    expect(city.map((c: { check: string; passed: boolean }) => [c.check, c.passed])).toEqual([['not_null', false], ['allowed', true]]);
    const html = readFileSync(join(dir, '.fresco/quality', runs[0]!.id, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('FAIL');

    // Row-count change against the previous run: the source grows from 5 to 6 rows (+20% > 10%).
    writeFileSync(file, readFileSync(file, 'utf8').replace('{ column: conv_rate, max: 0.8 }', '{ column: conv_rate, max: 1 }'));
    writeFileSync(join(dir, 'data/driver_stats.csv'), `${readFileSync(join(dir, 'data/driver_stats.csv'), 'utf8')}2021-01-03 00:00:00,2021-01-03 00:00:00,3,0.4,4\n`);
    applyProject(dir);
    await expect(buildDataset({ project: dir, labels: join(dir, 'data/labels.csv'), timestamp: 'ts', features: ['driver_model'], out })).rejects.toMatchObject({
      message: expect.stringMatching(/source:driver_stats: max_row_change expected .* observed 6 rows \(20\.00% change\)/),
    });
  });

  it('runs init, apply and dataset build from the command line', async () => {
    const dir = copyFixture('pit-project');
    const a = capture();
    expect(await runCli(['node', 'fresco', 'apply', '--project', dir], a.io)).toBe(0);
    expect(a.out.join('')).toContain('driver_hourly');
    const b = capture();
    const code = await runCli(['node', 'fresco', '--json', 'dataset', 'build', '--project', dir, '--labels', join(dir, 'data/labels.csv'), '--timestamp', 'ts', '--features', 'driver_hourly.trips,driver_facts.city', '--out', join(dir, 'cli.parquet')], b.io);
    expect(code).toBe(0);
    expect(JSON.parse(b.out.join(''))).toMatchObject({ rows: 9, columns: 5 });
    const c = capture();
    expect(await runCli(['node', 'fresco', 'dataset', 'build', '--project', dir, '--labels', join(dir, 'data/labels.csv'), '--timestamp', 'nope', '--features', 'driver_hourly.trips', '--out', join(dir, 'y.parquet')], c.io)).toBe(1);
    expect(c.err.join('')).toMatch(/error\[FRESCO_ERR_DATA_INVALID\]: .*labels\.csv: no column "nope"/);
  });
});
