/**
 * Profiles a relation in DuckDB, in bounded memory whatever its size: one aggregate scan for every
 * column's statistics (rows, nulls, NaN and infinity counts, min/max, approximate distinct count and
 * quantiles, string lengths, top-value candidates), a second for the numeric mean, stddev and
 * histograms and the exact counts of those candidates, and per timestamp column one sorted query
 * for the largest gaps (DuckDB's sort spills to disk rather than hold the column in memory).
 *
 * NaN and ±Infinity (legal in FLOAT and DOUBLE columns) are counted apart, as nulls are, and kept
 * out of every statistic of the values: min/max, mean, stddev, quantiles and histogram describe the
 * finite values only. A profile never fails on legal data: DuckDB's stddev_samp raises "out of
 * range" on a NaN or infinity, and on finite values whose squares overflow (near ±1.8e308), so the
 * mean and stddev are computed on values divided by a power of two near the column's largest
 * magnitude (exact, so results are the same as unscaled ones wherever those do not overflow).
 */
import type { Engine } from '../engine.js';
import { quoteString } from '../read-columns.js';
import { columnKind } from '../sources.js';

export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: number[];
  /** Non-null values per bin. */
  counts: number[];
  /** Rows with no value: counted apart, in no bin. */
  nulls: number;
}

/** A gap between two consecutive distinct timestamps of a column. */
export interface TimeGap {
  from: string;
  to: string;
  seconds: number;
}

export interface ColumnProfile {
  name: string;
  type: string;
  nonNull: number;
  nulls: number;
  nullRate: number;
  distinct: number;
  /** FLOAT and DOUBLE columns: NaN, +Infinity and -Infinity values, in no other statistic. */
  nan?: number;
  posInfinite?: number;
  negInfinite?: number;
  /** Numeric columns: over the finite values. */
  min?: number | string;
  max?: number | string;
  mean?: number;
  stddev?: number;
  /** Approximate quantiles p01, p25, p50, p75, p99 of numeric columns. */
  quantiles?: Record<'p01' | 'p25' | 'p50' | 'p75' | 'p99', number>;
  histogram?: Histogram;
  /** String columns: the most frequent values, most frequent first (exact counts). */
  topValues?: { value: string; count: number }[];
  /** String columns: lengths in characters of the non-null values. */
  lengths?: { min: number; mean: number; max: number };
  /** Timestamp and date columns: seconds from min to max, and the largest gaps, largest first. */
  spanSeconds?: number;
  gaps?: TimeGap[];
}

export interface TableProfile {
  /** `labels`, `source:<name>`, `dataset`... */
  name: string;
  file?: string;
  rows: number;
  columns: ColumnProfile[];
  /** Newest and oldest value of the table's event-time column, when it has one. */
  freshness?: { column: string; oldest: string | null; newest: string | null };
}

const QUANTILES = [0.01, 0.25, 0.5, 0.75, 0.99] as const;
const BINS = 20;
/** Top values kept per string column; largest gaps kept per timestamp column. */
export const TOP_VALUES = 10;
export const GAPS = 5;

function num(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

const q = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** The column types that can hold NaN and ±Infinity. */
const FLOATING = /^(FLOAT|DOUBLE|REAL|FLOAT4|FLOAT8)$/;
export const isFloating = (type: string) => FLOATING.test(type);

/** Rows with no value plus, in a float column, NaN rows: what `not_null` counts as missing. */
export const missingValues = (c: ColumnProfile) => c.nulls + (c.nan ?? 0);

/** Extra per-table aggregates (expectation checks) evaluated in the profile scan. */
export type ExtraAggregates = Record<string, string>;

export async function profileRelation(
  engine: Engine,
  args: { name: string; relation: string; columns: Map<string, string>; file?: string; timeColumn?: string; extra?: ExtraAggregates },
): Promise<{ profile: TableProfile; extra: Record<string, unknown> }> {
  const cols = [...args.columns];
  const selects: string[] = ['count(*) AS __rows'];
  cols.forEach(([name, type], i) => {
    const c = q(name);
    const kind = columnKind(type);
    selects.push(`count(${c}) AS n${i}`, `approx_count_distinct(${c}) AS d${i}`);
    if (kind === 'numeric' || kind === 'bool') {
      const v = `CAST(${c} AS DOUBLE)`;
      // DuckDB orders NaN above +Infinity: without the filter, max would be NaN.
      const finite = isFloating(type) ? ` FILTER (WHERE isfinite(${c}))` : '';
      selects.push(`min(${v})${finite} AS lo${i}`, `max(${v})${finite} AS hi${i}`);
      if (isFloating(type)) {
        selects.push(`count(*) FILTER (WHERE isnan(${c})) AS nan${i}`, `count(*) FILTER (WHERE isinf(${c}) AND ${c} > 0) AS pinf${i}`, `count(*) FILTER (WHERE isinf(${c}) AND ${c} < 0) AS ninf${i}`);
      }
      if (kind === 'numeric') selects.push(`approx_quantile(${v}, [${QUANTILES.join(', ')}])${finite} AS qs${i}`);
    } else if (kind === 'temporal' || kind === 'string') {
      selects.push(`CAST(min(${c}) AS VARCHAR) AS lo${i}`, `CAST(max(${c}) AS VARCHAR) AS hi${i}`);
      if (kind === 'temporal') selects.push(`epoch(max(${c})) - epoch(min(${c})) AS span${i}`);
      // approx_top_k keeps a fixed-size sketch: candidates for the most frequent values, counted
      // exactly in the second scan.
      if (kind === 'string') selects.push(`min(length(${c})) AS ll${i}`, `avg(length(${c})) AS lm${i}`, `max(length(${c})) AS lh${i}`, `approx_top_k(${c}, ${TOP_VALUES}) AS top${i}`);
    }
  });
  const extraNames = Object.keys(args.extra ?? {});
  extraNames.forEach((k, i) => selects.push(`${args.extra![k]} AS x${i}`));
  const [row] = await engine.rows(`SELECT ${selects.join(', ')} FROM ${args.relation}`);
  const r = row as Record<string, unknown>;
  const rows = num(r.__rows) ?? 0;
  const columns: ColumnProfile[] = cols.map(([name, type], i) => {
    const nonNull = num(r[`n${i}`]) ?? 0;
    const kind = columnKind(type);
    const profile: ColumnProfile = { name, type, nonNull, nulls: rows - nonNull, nullRate: rows ? (rows - nonNull) / rows : 0, distinct: num(r[`d${i}`]) ?? 0 };
    if (kind === 'numeric' || kind === 'bool') {
      const lo = num(r[`lo${i}`]);
      const hi = num(r[`hi${i}`]);
      if (isFloating(type)) {
        profile.nan = num(r[`nan${i}`]) ?? 0;
        profile.posInfinite = num(r[`pinf${i}`]) ?? 0;
        profile.negInfinite = num(r[`ninf${i}`]) ?? 0;
      }
      if (lo !== undefined) profile.min = lo;
      if (hi !== undefined) profile.max = hi;
      const qs = r[`qs${i}`] as { items?: unknown[] } | null;
      if (qs?.items) {
        const v = qs.items.map(num);
        if (v.every((x) => x !== undefined)) profile.quantiles = { p01: v[0]!, p25: v[1]!, p50: v[2]!, p75: v[3]!, p99: v[4]! };
      }
    } else if (r[`lo${i}`] != null) {
      profile.min = String(r[`lo${i}`]);
      profile.max = String(r[`hi${i}`]);
      const span = num(r[`span${i}`]);
      if (span !== undefined) profile.spanSeconds = span;
      const [ll, lm, lh] = [num(r[`ll${i}`]), num(r[`lm${i}`]), num(r[`lh${i}`])];
      if (ll !== undefined && lm !== undefined && lh !== undefined) profile.lengths = { min: ll, mean: lm, max: lh };
    }
    return profile;
  });
  const candidates = new Map<ColumnProfile, string[]>();
  cols.forEach(([, type], i) => {
    const top = r[`top${i}`] as { items?: unknown[] } | null | undefined;
    if (columnKind(type) === 'string') candidates.set(columns[i]!, (top?.items ?? []).filter((v): v is string => typeof v === 'string'));
  });
  await addSecondScan(engine, args.relation, columns, candidates);
  for (const c of columns) if (columnKind(c.type) === 'temporal' && c.nonNull > 1) c.gaps = await largestGaps(engine, args.relation, c.name);
  const extra = Object.fromEntries(extraNames.map((k, i) => [k, r[`x${i}`]]));
  const time = args.timeColumn ? columns.find((c) => c.name === args.timeColumn) : undefined;
  return {
    profile: {
      name: args.name,
      ...(args.file ? { file: args.file } : {}),
      rows,
      columns,
      ...(time ? { freshness: { column: time.name, oldest: (time.min as string | undefined) ?? null, newest: (time.max as string | undefined) ?? null } } : {}),
    },
    extra,
  };
}

/**
 * How a numeric column's finite values are scaled in the second scan: by a power of two `scale`
 * near their largest magnitude, so that every scaled value, difference and square stays far from
 * overflow; dividing by a power of two is exact, so nothing else changes. `lo` and `width` (of a
 * histogram bin) are on the scaled axis.
 */
function scaled(c: ColumnProfile): { scale: number; lo: number; width: number } {
  const lo = c.min as number;
  const hi = c.max as number;
  const magnitude = Math.max(Math.abs(lo), Math.abs(hi));
  // 2^1023 is the largest power of two a double holds; 2^-1074 the smallest.
  const scale = magnitude > 0 ? 2 ** Math.max(-1074, Math.min(1023, Math.floor(Math.log2(magnitude)))) : 1;
  // A column of one value gets bins of width 1 (on the unscaled axis), as before.
  const width = (hi / scale - lo / scale) / BINS || 1 / scale;
  return { scale, lo: lo / scale, width };
}

/**
 * The second scan, per numeric column: mean, stddev and a histogram of the finite values (nulls
 * kept out of the bins: DuckDB's least() skips NULL, so a null must not reach it or it lands in the
 * last bin; NaN and infinities would fail the cast to a bin number), on values scaled as `scaled`
 * says; and the exact count of each top-value candidate of the string columns.
 */
async function addSecondScan(engine: Engine, relation: string, columns: ColumnProfile[], candidates: Map<ColumnProfile, string[]>): Promise<void> {
  const numeric = columns.filter((c) => typeof c.min === 'number' && typeof c.max === 'number' && columnKind(c.type) !== 'other');
  const strings = [...candidates].filter(([, values]) => values.length > 0);
  if (!numeric.length && !strings.length) return;
  const selects = numeric.flatMap((c, i) => {
    const { scale, lo, width } = scaled(c);
    const v = `CAST(${q(c.name)} AS DOUBLE)`;
    const x = `(${v} / ${scale})`;
    const finite = `FILTER (WHERE isfinite(${v}))`;
    return [
      `avg(${x}) ${finite} AS m${i}`,
      `stddev_samp(${x}) ${finite} AS s${i}`,
      `histogram(CASE WHEN isfinite(${v}) THEN least(CAST(floor((${x} - ${lo}) / ${width}) AS INTEGER), ${BINS - 1}) END) AS h${i}`,
    ];
  });
  strings.forEach(([c, values], i) => selects.push(`histogram(CASE WHEN ${q(c.name)} IN (${values.map(quoteString).join(', ')}) THEN ${q(c.name)} END) AS t${i}`));
  const [row] = await engine.rows(`SELECT ${selects.join(', ')} FROM ${relation}`);
  const entries = (key: string) => ((row as Record<string, unknown>)[key] as { entries?: { key: unknown; value: unknown }[] } | null)?.entries ?? [];
  numeric.forEach((c, i) => {
    const { scale, lo, width } = scaled(c);
    const r = row as Record<string, unknown>;
    // Unscaled, a stddev above the largest double (values near both ±1.8e308) is left out.
    const mean = (num(r[`m${i}`]) ?? NaN) * scale;
    const sd = (num(r[`s${i}`]) ?? NaN) * scale;
    if (Number.isFinite(mean)) c.mean = mean;
    if (Number.isFinite(sd)) c.stddev = sd;
    const counts = new Array<number>(BINS).fill(0);
    for (const e of entries(`h${i}`)) {
      const bin = num(e.key);
      if (bin !== undefined && bin >= 0 && bin < BINS) counts[bin] = num(e.value) ?? 0;
    }
    // The top edge may round past the largest double when the maximum is near it.
    const edge = (k: number) => (lo + k * width) * scale;
    const edges = Array.from({ length: BINS + 1 }, (_, k) => (Number.isFinite(edge(k)) ? edge(k) : (c.max as number)));
    c.histogram = { edges, counts, nulls: c.nulls };
  });
  strings.forEach(([c], i) => {
    c.topValues = entries(`t${i}`)
      .map((e) => ({ value: String(e.key), count: num(e.value) ?? 0 }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  });
}

/**
 * The largest gaps between consecutive distinct values of a timestamp column, largest first. Rows
 * are sorted whole (no DISTINCT: a hash table of every distinct time costs twice the sort); equal
 * neighbours are dropped, so what is left are the gaps between consecutive distinct values.
 */
async function largestGaps(engine: Engine, relation: string, column: string): Promise<TimeGap[]> {
  const rows = await engine.rows(
    `SELECT CAST(prev AS VARCHAR) AS gap_from, CAST(t AS VARCHAR) AS gap_to, epoch(t) - epoch(prev) AS seconds
     FROM (SELECT ${q(column)} AS t, lag(${q(column)}) OVER (ORDER BY ${q(column)}) AS prev FROM ${relation} WHERE ${q(column)} IS NOT NULL)
     WHERE t > prev ORDER BY seconds DESC, prev LIMIT ${GAPS}`,
  );
  return rows.map((g) => ({ from: String(g.gap_from), to: String(g.gap_to), seconds: num(g.seconds) ?? 0 }));
}
