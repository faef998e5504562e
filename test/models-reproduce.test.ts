// `fresco models reproduce` writes only inside the registry (its own report, the rebuilt dataset,
// reproduce.json), never the user's files, and records lineage that still exists afterwards.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { makeProject, trainYaml } from './training-helpers.js';

describe('fresco models reproduce', () => {
  it("leaves the training's report alone and writes its own report beside the registry record", async () => {
    const dir = await makeProject(3000);
    writeFileSync(join(dir, 'train.yaml'), trainYaml({ extra: 'register: { aliases: [production] }\nreport: reports/churn.html\n' }));
    const trained = await cli('train', join(dir, 'train.yaml'));
    expect(trained.code, trained.err).toBe(0);
    const userReport = join(dir, 'reports', 'churn.html');
    const bytes = readFileSync(userReport);
    const mtime = statSync(userReport).mtimeMs;

    // A run killed earlier (no reproduce.json, its process gone) is swept by the next run.
    const versionDir = join(dir, '.fresco', 'registry', 'reproductions', 'test-model', '1');
    const killed = join(versionDir, `2020-01-01T00-00-00-000Z-${hostname()}-4194305-dead`);
    mkdirSync(killed, { recursive: true });
    writeFileSync(join(killed, 'dataset.parquet'), 'half written');

    const r = await cli('--json', 'models', 'reproduce', 'test-model@production', '--project', dir);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.ok).toBe(true);

    expect(readFileSync(userReport).equals(bytes)).toBe(true);
    expect(statSync(userReport).mtimeMs).toBe(mtime);
    expect(readdirSync(join(dir, 'reports'))).toEqual(['churn.html']);

    expect(existsSync(killed)).toBe(false);
    expect(report.dir.startsWith(`${versionDir}/`)).toBe(true);
    expect(report.report).toBe(join(report.dir, 'report.html'));
    expect(JSON.parse(readFileSync(join(report.dir, 'reproduce.json'), 'utf8'))).toEqual(report);
    // Every path it records, and every path its report names, exists after it finished.
    const html = readFileSync(report.report, 'utf8');
    expect(html).toContain(report.dataset);
    const paths = [report.dataset, ...report.inputs.map((i: { path: string }) => i.path), ...[...html.matchAll(/\/[^\s<>"'()]+\.(?:parquet|csv|features|json|html)/g)].map((m) => m[0])];
    expect(paths.length).toBeGreaterThan(3);
    for (const p of paths) expect(existsSync(p), p).toBe(true);

    const human = await cli('models', 'reproduce', 'test-model@1', '--project', dir);
    expect(human.code, human.err).toBe(0);
    expect(human.out).toMatch(/^report: .*\/reproductions\/test-model\/1\/.*\/report\.html /m);
    expect(readdirSync(versionDir)).toHaveLength(2);
    expect(readFileSync(userReport).equals(bytes)).toBe(true);
  }, 120_000);
});
