// `fresco materialize` and `fresco features get` end to end on a generated project.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { applyProject } from '../src/features/project.js';
import { writeOnlineProject } from './online-project.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

describe('online CLI', () => {
  const dir = writeOnlineProject({ drivers: 30, airports: 5 });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  applyProject(dir);

  it('materializes, then reads a table and a service by key with statuses', async () => {
    const m = capture();
    expect(await runCli(['node', 'fresco', 'materialize', '--project', dir, '--end', '2024-01-02T12:00:00Z', '--json'], m.io)).toBe(0);
    const result = JSON.parse(m.out.join('')) as { tables: { table: string; rows: number }[] };
    expect(result.tables.find((t) => t.table === 'driver_profile')!.rows).toBeGreaterThan(5);
    const g = capture();
    const code = await runCli(['node', 'fresco', 'features', 'get', 'driver_model', '--project', dir, '--key', 'driver_id=1', '--key', 'driver_id=999999', '--as-of', '2024-01-02T12:00:00Z', '--json'], g.io);
    expect(code, g.err.join('')).toBe(0);
    const got = JSON.parse(g.out.join('')) as { rows: { statuses: Record<string, string>; values: Record<string, unknown> }[] };
    expect(got.rows[1]!.statuses).toEqual({ driver_hourly: 'missing', driver_profile: 'missing' });
    expect(Object.keys(got.rows[0]!.values)).toEqual(['driver_hourly__conv_rate', 'driver_hourly__trips', 'driver_profile__city']);
    const h = capture();
    expect(await runCli(['node', 'fresco', 'features', 'get', 'origin_delays', '--project', dir, '--key', 'airport=A1'], h.io)).toBe(0);
    expect(h.out.join('')).toMatch(/origin_delays: (present|expired)/);
    const bad = capture();
    expect(await runCli(['node', 'fresco', 'features', 'get', 'nope', '--project', dir, '--key', 'airport=A1'], bad.io)).toBe(1);
    expect(bad.err.join('')).toContain('FRESCO_ERR_NOT_FOUND');
  });
});
