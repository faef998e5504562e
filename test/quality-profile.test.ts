import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/offline/engine.js';
import { profileRelation, type ColumnProfile, type TableProfile } from '../src/offline/quality/profile.js';
import { renderHtml, type QualityReport } from '../src/offline/quality/report.js';

let engine: Engine;
beforeAll(async () => {
  engine = await openEngine();
});
afterAll(() => engine.close());

async function profile(sql: string): Promise<TableProfile> {
  await engine.run(`CREATE OR REPLACE TABLE t AS ${sql}`);
  return profileOf('t');
}

async function profileOf(relation: string): Promise<TableProfile> {
  return (await profileRelation(engine, { name: 'source:t', relation, columns: await engine.describe(relation) })).profile;
}

function html(table: TableProfile): string {
  const report: QualityReport = { format: 'fresco.quality', version: 1, id: 'r1', kind: 'dataset', subject: 'test', startedAt: '2021-01-01T00:00:00Z', finishedAt: '2021-01-01T00:00:01Z', status: 'passed', tables: [table], checks: [] };
  return renderHtml(report);
}

const column = (t: TableProfile, name: string) => t.columns.find((c) => c.name === name) as ColumnProfile;

describe('column profiles', () => {
  it('counts nulls apart from the histogram: a nullable column has no false spike at its maximum', async () => {
    // 100 values in 0..9, one row at the maximum (100), and 4,246 nulls.
    const t = await profile(`SELECT CASE WHEN i < 100 THEN (i % 10)::DOUBLE WHEN i = 100 THEN 100.0 END AS delay FROM range(0, 4347) r(i)`);
    const c = column(t, 'delay');
    expect(c.nulls).toBe(4246);
    expect(c.max).toBe(100);
    expect(c.histogram!.counts.at(-1)).toBe(1);
    expect(c.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(101);
    expect(c.histogram!.nulls).toBe(4246);
    const page = html(t);
    expect(page).toContain('+ 4,246 null (not in the bins)');
    expect(page).toContain('<title>[95, 100): 1</title>');
  });

  it('profiles string columns: top values with exact counts, distinct count, lengths, nulls', async () => {
    const t = await profile(
      `SELECT CASE WHEN i < 50 THEN 'SFO' WHEN i < 80 THEN 'LAX' WHEN i < 100 THEN 'Los Angeles' WHEN i < 120 THEN 'x' || (i - 100) END AS origin FROM range(0, 124) r(i)`,
    );
    const c = column(t, 'origin');
    expect(c.nulls).toBe(4);
    expect(c.topValues!.slice(0, 3)).toEqual([
      { value: 'SFO', count: 50 },
      { value: 'LAX', count: 30 },
      { value: 'Los Angeles', count: 20 },
    ]);
    expect(c.topValues).toHaveLength(10);
    expect(c.topValues!.slice(3).every((v) => v.count === 1 && /^x\d+$/.test(v.value))).toBe(true);
    expect(c.distinct).toBeGreaterThanOrEqual(22);
    expect(c.distinct).toBeLessThanOrEqual(24);
    // Lengths: x0..x9 are 2 characters, 'Los Angeles' 11; mean over the 120 non-null values.
    const mean = (50 * 3 + 30 * 3 + 20 * 11 + 10 * 2 + 10 * 3) / 120;
    expect(c.lengths!.min).toBe(2);
    expect(c.lengths!.max).toBe(11);
    expect(c.lengths!.mean).toBeCloseTo(mean, 12);
    expect(c.histogram).toBeUndefined();
    const page = html(t);
    expect(page).toContain('<tr><td><code>SFO</code></td><td>50</td></tr>');
    expect(page).toContain('<tr><td><code>Los Angeles</code></td><td>20</td></tr>');
    expect(page).toContain(`length 2–11 (mean ${Number(mean.toPrecision(5))})`);
    expect(page).toContain('4 (3.23%)');
  });

  it('profiles timestamp columns: range, span, the largest gaps between consecutive distinct times, nulls', async () => {
    // Hourly for two days (each hour twice), then nothing for 3 days, then 2 h and 1 h steps; 3 nulls.
    const t = await profile(`SELECT * FROM (
        SELECT TIMESTAMP '2021-01-01' + INTERVAL (i // 2) HOUR AS ts, DATE '2021-01-01' + (i // 20)::INTEGER AS day FROM range(0, 96) r(i)
        UNION ALL SELECT TIMESTAMP '2021-01-05 23:00', DATE '2021-02-01'
        UNION ALL SELECT TIMESTAMP '2021-01-06 01:00', NULL
        UNION ALL SELECT TIMESTAMP '2021-01-06 02:00', NULL
        UNION ALL SELECT NULL, NULL FROM range(0, 3))`);
    const ts = column(t, 'ts');
    expect(ts.nulls).toBe(3);
    expect([ts.min, ts.max]).toEqual(['2021-01-01 00:00:00', '2021-01-06 02:00:00']);
    expect(ts.spanSeconds).toBe((5 * 24 + 2) * 3600);
    expect(ts.gaps![0]).toEqual({ from: '2021-01-02 23:00:00', to: '2021-01-05 23:00:00', seconds: 3 * 86400 });
    expect(ts.gaps![1]).toEqual({ from: '2021-01-05 23:00:00', to: '2021-01-06 01:00:00', seconds: 7200 });
    expect(ts.gaps).toHaveLength(5);
    expect(ts.gaps!.slice(2).every((g) => g.seconds === 3600)).toBe(true);
    const day = column(t, 'day');
    expect(day.nulls).toBe(5);
    expect(day.gaps![0]).toEqual({ from: '2021-01-05', to: '2021-02-01', seconds: 27 * 86400 });
    const page = html(t);
    expect(page).toContain('span 5 d 2 h');
    expect(page).toContain('<tr><td>2021-01-02 23:00:00 → 2021-01-05 23:00:00</td><td>3 d</td></tr>');
    expect(page).toContain('<tr><td>2021-01-05 → 2021-02-01</td><td>27 d</td></tr>');
  });
});

describe('non-finite and extreme floating-point values', () => {
  it('counts NaN and infinities apart (as nulls are) and keeps them out of min/max/mean/stddev/quantiles/histogram, from Parquet and CSV', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-nan-'));
    // 10 finite values 0..9, 3 NaN, 2 +Infinity, 1 -Infinity, 2 nulls; a FLOAT column with the same.
    const csv = join(dir, 'delays.csv');
    const values = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'NaN', 'nan', 'NaN', 'inf', 'Infinity', '-inf', '', ''];
    writeFileSync(csv, `delay,n\n${values.map((v, i) => `${v},${i}`).join('\n')}\n`);
    const parquet = join(dir, 'delays.parquet');
    await engine.run(`COPY (SELECT delay, CAST(delay AS FLOAT) AS small FROM read_csv('${csv}')) TO '${parquet}' (FORMAT parquet)`);
    const fromCsv = column(await profileOf(`read_csv('${csv}')`), 'delay');
    const fromParquet = await profileOf(`read_parquet('${parquet}')`);
    for (const c of [fromCsv, column(fromParquet, 'delay'), column(fromParquet, 'small')]) {
      expect([c.nulls, c.nan, c.posInfinite, c.negInfinite]).toEqual([2, 3, 2, 1]);
      expect([c.min, c.max, c.mean]).toEqual([0, 9, 4.5]);
      expect(c.stddev).toBeCloseTo(Math.sqrt(82.5 / 9), 12);
      expect(c.quantiles!.p01).toBeGreaterThanOrEqual(0);
      expect(c.quantiles!.p99).toBeLessThanOrEqual(9);
      expect(c.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(10);
      expect(c.histogram!.edges.every(Number.isFinite)).toBe(true);
    }
    const page = html(fromParquet);
    expect(page).toContain('+ 2 null, 3 NaN, 2 +∞, 1 −∞ (not in the bins)');
    // The integer column has no NaN/infinity counts (it cannot hold them).
    expect(column(await profileOf(`read_csv('${csv}')`), 'n').nan).toBeUndefined();
  });

  it('profiles a column of only NaN and infinities: counts, and no statistics rather than a failure', async () => {
    const t = await profile(`SELECT * FROM (VALUES ('nan'::DOUBLE), ('inf'::DOUBLE), ('-inf'::DOUBLE), (NULL)) v(x)`);
    const c = column(t, 'x');
    expect([c.nulls, c.nan, c.posInfinite, c.negInfinite]).toEqual([1, 1, 1, 1]);
    expect([c.min, c.max, c.mean, c.stddev, c.quantiles, c.histogram]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(html(t)).toContain('1 NaN, 1 +∞, 1 −∞');
  });

  it('profiles finite values near the largest double (whose squares overflow) without failing', async () => {
    const t = await profile(`SELECT * FROM (VALUES (-1.5e308::DOUBLE), (1.6e308::DOUBLE), (0::DOUBLE), (1.0e308::DOUBLE)) v(x)`);
    const c = column(t, 'x');
    expect([c.min, c.max, c.nan, c.posInfinite, c.negInfinite]).toEqual([-1.5e308, 1.6e308, 0, 0, 0]);
    expect(c.mean).toBeCloseTo(0.275e308 , -300);
    expect(c.stddev! / 1e308).toBeCloseTo(Math.sqrt(((-1.775) ** 2 + 1.325 ** 2 + 0.275 ** 2 + 0.725 ** 2) / 3), 10);
    expect(c.histogram!.edges.every(Number.isFinite)).toBe(true);
    expect(c.histogram!.counts[0]).toBe(1);
    expect(c.histogram!.counts[19]).toBe(1);
    expect(c.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(4);
  });
});
