import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrainConfig } from '../src/training/config.js';
import { evaluateClassification, liftTable } from '../src/training/metrics.js';
import { axisTicks, formatTick, niceTicks } from '../src/training/report-axes.js';
import { coefficientRows, describeFit } from '../src/training/report.js';
import { trainFromConfig } from '../src/training/train.js';
import { makeProject, trainYaml } from './training-helpers.js';

const f64 = (v: number[]) => Float64Array.from(v);

describe('report figures', () => {
  it('confusion matrix at the threshold: a score equal to the threshold predicts 1', () => {
    const p = f64([0.9, 0.8, 0.4, 0.3, 0.6, 0.1, 0.5, 0.5]);
    const y = f64([1, 0, 1, 0, 1, 0, 1, 0]);
    const e = evaluateClassification(p, y, 0.5);
    expect(e.confusion).toEqual({ threshold: 0.5, tp: 3, fp: 2, tn: 2, fn: 1 });
    expect(e.metrics.precision).toBeCloseTo(3 / 5, 12);
    expect(e.metrics.recall).toBeCloseTo(3 / 4, 12);
    expect(evaluateClassification(p, y, 0.85).confusion).toEqual({ threshold: 0.85, tp: 1, fp: 0, tn: 4, fn: 3 });
  });

  it('lift and cumulative gain by decile, highest scores first', () => {
    // 20 rows, scores 0.95 .. 0.0 (row i has score (19 - i) / 20), shuffled; 6 positives:
    // ranks 1, 2 (decile 1), 3 (decile 2), 6 (decile 3), 11 (decile 6), 20 (decile 10).
    const positives = new Set([0, 1, 2, 5, 10, 19]);
    const order = [7, 3, 19, 0, 12, 5, 16, 9, 1, 14, 10, 2, 18, 6, 13, 4, 17, 11, 8, 15];
    const p = f64(order.map((r) => (19 - r) / 20));
    const y = f64(order.map((r) => (positives.has(r) ? 1 : 0)));
    const lift = liftTable(p, y);
    expect(lift.map((d) => d.rows)).toEqual(Array(10).fill(2));
    expect(lift.map((d) => d.positives)).toEqual([2, 1, 1, 0, 0, 1, 0, 0, 0, 1]);
    expect(lift[0]).toMatchObject({ decile: 1, maxScore: 0.95, minScore: 0.9, rate: 1, lift: 1 / 0.3 });
    expect(lift[1]!.lift).toBeCloseTo(0.5 / 0.3, 12);
    expect(lift.map((d) => d.cumulativeGain)).toEqual([2, 3, 4, 4, 4, 5, 5, 5, 5, 6].map((v) => v / 6));
    expect(lift[2]!.cumulativeLift).toBeCloseTo(4 / 6 / 0.3, 12);
    expect(lift[9]!.cumulativeLift).toBeCloseTo(1, 12);
  });

  it('axis ticks are round values with readable labels', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 0.2734)).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25]);
    expect(niceTicks(0.1, 0.7)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    expect(niceTicks(-3.2, 41.7)).toEqual([0, 10, 20, 30, 40]);
    expect(niceTicks(-0.05, 0.05)).toEqual([-0.04, -0.02, 0, 0.02, 0.04]);
    expect(axisTicks(0, 1).map((t) => t.label)).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expect(axisTicks(0, 123_456_789).map((t) => t.label)).toEqual(['0', '20,000,000', '40,000,000', '60,000,000', '80,000,000', '100,000,000', '120,000,000']);
    expect(axisTicks(1e-7, 9e-7).map((t) => t.label)).toEqual(['2e-7', '4e-7', '6e-7', '8e-7']);
    expect(axisTicks(0.3, 0.30000000000000004)).toEqual([{ value: 0.3, label: '0.3' }]);
    expect(formatTick(-0, 0.5)).toBe('0.0');
  });

  it('says early-stopped only when early stopping stopped training', () => {
    const rows = { train: 1000, valid: 200, test: 300 };
    const logistic = describeFit({ model: { algorithm: 'logistic', summary: { solver: 'newton', iterations: 7, converged: true } }, params: { l2: 1e-4 }, rows, splitBy: 'time' });
    expect(logistic).toBe('Trained on 1,000 rows (converged after 7 Newton iterations); validated on 200 rows; tested on 300 later rows.');
    const gbdt = (ran: number, patience: number) =>
      describeFit({ model: { algorithm: 'gbdt', summary: { iterations_run: ran, trees: Math.max(1, ran - patience) } }, params: { iterations: 300, early_stopping_rounds: patience }, rows, splitBy: 'random' });
    expect(gbdt(57, 20)).toBe('Trained on 1,000 rows; early-stopped on 200 validation rows after 57 of at most 300 rounds (no gain for 20), keeping 37 trees; tested on 300 held-out rows.');
    expect(gbdt(300, 20)).toBe('Trained on 1,000 rows for all 300 rounds (early stopping (patience 20) did not trigger), keeping 280 trees; validated on 200 rows; tested on 300 held-out rows.');
    expect(gbdt(300, 0)).not.toContain('early-stopped');
  });

  it('sorts linear coefficients by standardized magnitude and keeps their signs', () => {
    expect(coefficientRows(['a', 'b', 'c'], { raw: [0.5, -20, 3], standardized: [0.1, -2, 0.7], intercept: 1 })).toEqual([
      { feature: 'b', coefficient: -20, standardized: -2 },
      { feature: 'c', coefficient: 3, standardized: 0.7 },
      { feature: 'a', coefficient: 0.5, standardized: 0.1 },
    ]);
  });
});

describe('training report', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeProject(3000);
  }, 60_000);
  const train = (algorithm: string, features = 'model.features') => {
    writeFileSync(join(dir, 'train.yaml'), trainYaml({ algorithm, features }));
    return trainFromConfig(loadTrainConfig(join(dir, 'train.yaml')), { register: false, keepMatrices: true });
  };

  it('a logistic report: not early-stopped, signed coefficients, confusion matrix, lift, round ticks', async () => {
    const r = await train('  type: logistic', 'filled.features');
    const html = r.reportHtml;
    expect(html).not.toContain('early-stopped');
    expect(html).toMatch(/Trained on [\d,]+ rows \(converged after \d+ Newton iterations\); validated on [\d,]+ rows; tested on [\d,]+ later rows\./);
    // Coefficients: signed, largest |standardized| first; x1 and x2 raise the label's odds.
    const c = r.model.coefficients!;
    expect(html).toContain('<h2>Coefficients</h2>');
    const shown = [...html.matchAll(/<tr><td>(score|x1|x2)<\/td><td>([-+][^<]+)<\/td><td>([-+][^<]+)<\/td><\/tr>/g)].map((m) => m[1]);
    const names = ['score', 'x1', 'x2'];
    expect(shown).toEqual([...names].sort((a, b) => Math.abs(c.standardized[names.indexOf(b)]!) - Math.abs(c.standardized[names.indexOf(a)]!)));
    expect(c.standardized[names.indexOf('x1')]).toBeGreaterThan(0);
    expect(html).toMatch(/<tr><td>x1<\/td><td>\+/);
    expect(html).not.toContain('Feature importance');
    // Confusion matrix at the threshold: the counts are those behind precision and recall.
    const { tp, fp, tn, fn } = evaluateClassification(r.test.predictions, r.matrices!.test.y, 0.5).confusion;
    expect(tp + fn).toBeGreaterThan(0);
    const n = (v: number) => v.toLocaleString('en-US');
    expect(html).toContain('<h2>Confusion matrix at threshold 0.5</h2>');
    expect(html).toMatch(new RegExp(`<tr><th>actual 0</th><td>${n(tn)} <small>[^<]*</small></td><td>${n(fp)} <small>[^<]*</small></td></tr><tr><th>actual 1</th><td>${n(fn)} <small>[^<]*</small></td><td>${n(tp)} <small>`));
    expect(html).toContain('<h2>Lift by decile</h2>');
    expect(html).toContain('Cumulative gain (deciles)');
    // Tick labels are round numbers: no label with more than 6 characters after the point.
    const labels = [...html.matchAll(/text-anchor="(?:middle|end)">([-\d.,e]+)<\/text>/g)].map((m) => m[1]!);
    expect(labels.length).toBeGreaterThan(20);
    expect(labels.filter((l) => /\.\d{4,}/.test(l))).toEqual([]);
  }, 60_000);

  it('a GBDT report says early-stopped when, and only when, early stopping stopped it', async () => {
    const stopped = await train('  type: gbdt\n  params: { iterations: 400, learning_rate: 0.5, max_leaves: 15, early_stopping_rounds: 3, threads: 1 }');
    expect(stopped.model.summary.iterations_run).toBeLessThan(400);
    expect(stopped.reportHtml).toMatch(/early-stopped on [\d,]+ validation rows after \d+ of at most 400 rounds/);
    expect(stopped.reportHtml).toContain('Feature importance');
    const full = await train('  type: gbdt\n  params: { iterations: 8, learning_rate: 0.1, max_leaves: 7, early_stopping_rounds: 0, threads: 1 }');
    expect(full.reportHtml).not.toContain('early-stopped');
    expect(full.reportHtml).toContain('for all 8 rounds (no early stopping), keeping 8 trees');
  }, 60_000);
});
