/**
 * Profiles a relation in DuckDB, in bounded memory whatever its size: one aggregate scan for every
 * column's statistics (rows, nulls, min/max/mean/stddev, approximate distinct count and quantiles,
 * string lengths, top-value candidates), a second for the numeric histograms and the exact counts
 * of those candidates, and per timestamp column one sorted query for the largest gaps (DuckDB's
 * sort spills to disk rather than hold the column in memory).
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
      selects.push(`min(${v}) AS lo${i}`, `max(${v}) AS hi${i}`, `avg(${v}) AS m${i}`, `stddev_samp(${v}) AS s${i}`);
      if (kind === 'numeric') selects.push(`approx_quantile(${v}, [${QUANTILES.join(', ')}]) AS qs${i}`);
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
      const mean = num(r[`m${i}`]);
      const sd = num(r[`s${i}`]);
      if (lo !== undefined) profile.min = lo;
      if (hi !== undefined) profile.max = hi;
      if (mean !== undefined) profile.mean = mean;
      if (sd !== undefined) profile.stddev = sd;
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
 * The second scan: a histogram per numeric column (nulls kept out of the bins: DuckDB's least()
 * skips NULL, so a null must not reach it or it lands in the last bin) and the exact count of each
 * top-value candidate of the string columns.
 */
async function addSecondScan(engine: Engine, relation: string, columns: ColumnProfile[], candidates: Map<ColumnProfile, string[]>): Promise<void> {
  const numeric = columns.filter((c) => typeof c.min === 'number' && typeof c.max === 'number' && columnKind(c.type) !== 'other');
  const strings = [...candidates].filter(([, values]) => values.length > 0);
  if (!numeric.length && !strings.length) return;
  const selects = numeric.map((c, i) => {
    const lo = c.min as number;
    const width = ((c.max as number) - lo) / BINS || 1;
    const v = `CAST(${q(c.name)} AS DOUBLE)`;
    return `histogram(CASE WHEN ${v} IS NOT NULL THEN least(CAST(floor((${v} - ${lo}) / ${width}) AS INTEGER), ${BINS - 1}) END) AS h${i}`;
  });
  strings.forEach(([c, values], i) => selects.push(`histogram(CASE WHEN ${q(c.name)} IN (${values.map(quoteString).join(', ')}) THEN ${q(c.name)} END) AS t${i}`));
  const [row] = await engine.rows(`SELECT ${selects.join(', ')} FROM ${relation}`);
  const entries = (key: string) => ((row as Record<string, unknown>)[key] as { entries?: { key: unknown; value: unknown }[] } | null)?.entries ?? [];
  numeric.forEach((c, i) => {
    const lo = c.min as number;
    const width = ((c.max as number) - lo) / BINS || 1;
    const counts = new Array<number>(BINS).fill(0);
    for (const e of entries(`h${i}`)) {
      const bin = num(e.key);
      if (bin !== undefined && bin >= 0 && bin < BINS) counts[bin] = num(e.value) ?? 0;
    }
    c.histogram = { edges: Array.from({ length: BINS + 1 }, (_, k) => lo + k * width), counts, nulls: c.nulls };
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
