/**
 * Expectations declared on sources and features, evaluated against profiles. Each check yields a
 * result naming the table, the column, the check, what was expected and what was observed.
 */
import type { FeatureExpectation, SourceExpectation } from '../../features/definition-schema.js';
import { durationSeconds } from '../../config/duration.js';
import { missingValues, type TableProfile } from './profile.js';

export interface CheckResult {
  table: string;
  column?: string;
  check: 'not_null' | 'min' | 'max' | 'allowed' | 'max_staleness' | 'max_row_change' | 'columns';
  expected: string;
  observed: string;
  passed: boolean;
  severity: 'error' | 'warn';
}

const q = (s: string) => `"${s.replaceAll('"', '""')}"`;

function sqlValue(v: string | number | boolean): string {
  return typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v);
}

/** Aggregates the `allowed` checks need, keyed for profileRelation's `extra`. */
export function allowedAggregates(checks: { column: string; allowed: (string | number | boolean)[] }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of checks) {
    const cond = `${q(c.column)} IS NOT NULL AND ${q(c.column)} NOT IN (${c.allowed.map(sqlValue).join(', ')})`;
    out[`allowed:${c.column}`] = `count(*) FILTER (WHERE ${cond})`;
    out[`allowed_example:${c.column}`] = `CAST(any_value(${q(c.column)}) FILTER (WHERE ${cond}) AS VARCHAR)`;
  }
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/**
 * Column checks (not_null, min, max, allowed) of one expectation against a profile. In a float
 * column, NaN counts as missing for `not_null` (as pandas and Arrow users mean it), +Infinity is
 * above any `max` and -Infinity below any `min`, and neither NaN nor an infinity is an `allowed`
 * value unless listed.
 */
export function checkColumn(profile: TableProfile, column: string, e: FeatureExpectation, extra: Record<string, unknown>): CheckResult[] {
  const severity = e.severity ?? 'error';
  const col = profile.columns.find((c) => c.name === column);
  const base = { table: profile.name, column, severity } as const;
  if (!col) return [{ ...base, check: 'columns', expected: `column "${column}"`, observed: 'missing', passed: false }];
  const out: CheckResult[] = [];
  if (e.not_null !== undefined) {
    const rate = profile.rows ? 1 - missingValues(col) / profile.rows : 1;
    const nan = col.nan ? `, ${col.nan} NaN` : '';
    out.push({ ...base, check: 'not_null', expected: `>= ${pct(e.not_null)} non-null`, observed: `${pct(rate)} non-null (${col.nulls} null${nan} of ${profile.rows})`, passed: rate >= e.not_null });
  }
  if (e.min !== undefined) {
    const v = typeof col.min === 'number' ? col.min : undefined;
    const inf = col.negInfinite ?? 0;
    const observed = inf ? `min -Infinity (${inf} row(s))` : v === undefined ? 'no values' : `min ${v}`;
    out.push({ ...base, check: 'min', expected: `>= ${e.min}`, observed, passed: !inf && (v === undefined || v >= e.min) });
  }
  if (e.max !== undefined) {
    const v = typeof col.max === 'number' ? col.max : undefined;
    const inf = col.posInfinite ?? 0;
    const observed = inf ? `max +Infinity (${inf} row(s))` : v === undefined ? 'no values' : `max ${v}`;
    out.push({ ...base, check: 'max', expected: `<= ${e.max}`, observed, passed: !inf && (v === undefined || v <= e.max) });
  }
  if (e.allowed !== undefined) {
    const bad = Number(extra[`allowed:${column}`] ?? 0);
    const example = extra[`allowed_example:${column}`];
    out.push({
      ...base,
      check: 'allowed',
      expected: `one of ${e.allowed.map(String).join(', ')}`,
      observed: bad ? `${bad} value(s) outside, e.g. ${String(example)}` : 'all allowed',
      passed: bad === 0,
    });
  }
  return out;
}

/** Table checks of a source: staleness against the run's reference time, row-count change. */
export function checkTable(
  profile: TableProfile,
  e: SourceExpectation,
  context: { referenceTime?: Date; previousRows?: number },
): CheckResult[] {
  const severity = e.severity ?? 'error';
  const out: CheckResult[] = [];
  if (e.max_staleness !== undefined) {
    const newest = profile.freshness?.newest;
    const limit = durationSeconds(e.max_staleness);
    if (!newest || !context.referenceTime) {
      out.push({ table: profile.name, check: 'max_staleness', expected: `newest row within ${e.max_staleness}`, observed: newest ? 'no reference time' : 'no rows', passed: false, severity });
    } else {
      const age = (context.referenceTime.getTime() - Date.parse(`${newest.replace(' ', 'T')}Z`)) / 1000;
      out.push({
        table: profile.name,
        column: profile.freshness!.column,
        check: 'max_staleness',
        expected: `newest row at most ${e.max_staleness} before ${context.referenceTime.toISOString()}`,
        observed: `newest ${newest} (${(age / 3600).toFixed(1)} h old)`,
        passed: age <= limit,
        severity,
      });
    }
  }
  if (e.max_row_change !== undefined) {
    if (context.previousRows === undefined) {
      out.push({ table: profile.name, check: 'max_row_change', expected: `row count within ±${pct(e.max_row_change)} of the previous run`, observed: `${profile.rows} rows, no previous run`, passed: true, severity });
    } else {
      const change = context.previousRows === 0 ? (profile.rows === 0 ? 0 : Infinity) : Math.abs(profile.rows - context.previousRows) / context.previousRows;
      out.push({
        table: profile.name,
        check: 'max_row_change',
        expected: `row count within ±${pct(e.max_row_change)} of the previous run (${context.previousRows})`,
        observed: `${profile.rows} rows (${Number.isFinite(change) ? pct(change) : 'from 0'} change)`,
        passed: change <= e.max_row_change,
        severity,
      });
    }
  }
  return out;
}
