import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../src/offline/engine.js';
import { allowedAggregates, checkColumn } from '../src/offline/quality/checks.js';
import { profileRelation } from '../src/offline/quality/profile.js';

let engine: Engine;
beforeAll(async () => {
  engine = await openEngine();
});
afterAll(() => engine.close());

/** Profiles `sql` as table t and checks column x against expectation `e`: [check, passed, observed]. */
async function check(sql: string, e: Parameters<typeof checkColumn>[2]) {
  await engine.run(`CREATE OR REPLACE TABLE t AS ${sql}`);
  const extra = e.allowed ? allowedAggregates([{ column: 'x', allowed: e.allowed }]) : {};
  const r = await profileRelation(engine, { name: 'source:t', relation: 't', columns: await engine.describe('t'), extra });
  return checkColumn(r.profile, 'x', e, r.extra).map((c) => [c.check, c.passed, c.observed]);
}

// 8 finite values in 0..7, one NaN, one null.
const WITH_NAN = `SELECT CASE WHEN i = 8 THEN 'nan'::DOUBLE WHEN i < 8 THEN i::DOUBLE END AS x FROM range(0, 10) r(i)`;

describe('expectations on float columns with NaN and infinities', () => {
  it('counts NaN as missing for not_null, and says so', async () => {
    expect(await check(WITH_NAN, { not_null: 0.85 })).toEqual([['not_null', false, '80.00% non-null (1 null, 1 NaN of 10)']]);
    expect(await check(WITH_NAN, { not_null: 0.8 })).toEqual([['not_null', true, '80.00% non-null (1 null, 1 NaN of 10)']]);
  });

  it('checks min and max on the finite values, and an infinity breaks the bound on its side', async () => {
    expect(await check(WITH_NAN, { min: 0, max: 7 })).toEqual([
      ['min', true, 'min 0'],
      ['max', true, 'max 7'],
    ]);
    const withInf = `SELECT * FROM (VALUES (1.0::DOUBLE), ('inf'::DOUBLE), ('inf'::DOUBLE), ('-inf'::DOUBLE), (5.0::DOUBLE)) v(x)`;
    expect(await check(withInf, { min: 0, max: 10 })).toEqual([
      ['min', false, 'min -Infinity (1 row(s))'],
      ['max', false, 'max +Infinity (2 row(s))'],
    ]);
    const onlyPositive = `SELECT * FROM (VALUES (1.0::FLOAT), ('inf'::FLOAT)) v(x)`;
    expect(await check(onlyPositive, { min: 0 })).toEqual([['min', true, 'min 1']]);
  });

  it('does not take NaN for an allowed value', async () => {
    expect(await check(WITH_NAN, { allowed: [0, 1, 2, 3, 4, 5, 6, 7] })).toEqual([['allowed', false, '1 value(s) outside, e.g. nan']]);
  });
});
