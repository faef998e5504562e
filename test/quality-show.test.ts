import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { copyFixture } from './offline-helpers.js';

describe('fresco quality show', () => {
  it('prints per column the null count, NaN and infinity counts, a few top values, the time span and the largest gap, in short lines', async () => {
    const dir = copyFixture('pit-project');
    // conv_rate gets a NaN, a +Infinity and a null (legal float data that must not fail the profile).
    const stats = join(dir, 'data/driver_stats.csv');
    writeFileSync(stats, `${readFileSync(stats, 'utf8')}2021-01-01 11:00:00,2021-01-01 11:00:00,2,NaN,6\n2021-01-01 11:30:00,2021-01-01 11:30:00,2,inf,7\n2021-01-01 11:45:00,2021-01-01 11:45:00,3,,8\n`);
    expect((await cli('apply', '--project', dir)).code).toBe(0);
    const build = await cli('dataset', 'build', '--project', dir, '--labels', join(dir, 'data/labels.csv'), '--timestamp', 'ts', '--features', 'driver_model', '--out', join(dir, 'train.parquet'), '--no-progress');
    expect(build.code, build.err).toBe(0);
    const list = await cli('--json', 'quality', 'list', '--project', dir);
    const [run] = JSON.parse(list.out) as { id: string }[];

    const show = await cli('quality', 'show', run!.id, '--project', dir);
    expect(show.code).toBe(0);
    // One section per profiled table, headed `<table>: <rows> rows`.
    const section = (name: string) => show.out.split('\n\n').find((s) => s.startsWith(`${name}: `))!.split('\n');
    const line = (name: string, prefix: string) => section(name).filter((l) => l.startsWith(prefix));
    // The source's float column: null count in the table, NaN and infinity counts below it.
    expect(line('source:driver_stats', 'conv_rate ')).toEqual([expect.stringMatching(/^conv_rate +DOUBLE +1 \(12.5%\) +7 +0.1 +0.9 +0.4 +0.3162$/)]);
    expect(line('source:driver_stats', '  conv_rate: ')).toEqual(['  conv_rate: 1 NaN, 1 +inf (not in min/max/mean)']);
    expect(line('source:driver_stats', '  event_timestamp: ')).toEqual(['  event_timestamp: span 15 h, largest gap 12 h (2021-01-01 12:00:00 → 2021-01-02 00:00:00)']);
    // The labels: a string column's most frequent values (a few), the time column's span and gap.
    expect(line('labels', '  label: ')).toEqual([expect.stringMatching(/^ {2}label: top b \(2\), [a-h] \(1\), [a-h] \(1\), …$/)]);
    expect(line('labels', '  ts: ')).toEqual(['  ts: span 2 h 1 min, largest gap 1 h (2021-01-01 10:00:00 → 2021-01-01 11:00:00)']);
    // The dataset: nulls of a joined feature (labels with no feature row), its NaN, a string's top values.
    expect(line('dataset', 'driver_facts__city ')).toEqual([expect.stringMatching(/^driver_facts__city +VARCHAR +2 \(22.2%\) /)]);
    expect(line('dataset', '  driver_facts__city: ')).toEqual(['  driver_facts__city: top SF (5), LA (2)']);
    expect(line('dataset', '  driver_hourly__conv_rate: ')).toEqual(['  driver_hourly__conv_rate: 2 NaN (not in min/max/mean)']);
    expect(Math.max(...show.out.split('\n').map((l) => l.length))).toBeLessThanOrEqual(120);
  });
});
