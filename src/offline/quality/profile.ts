/**
 * Profiles a relation in two scans: one aggregate query for every column's statistics (rows,
 * nulls, min/max/mean/stddev, approximate distinct count and quantiles, freshness of timestamps)
 * and one for the histograms of numeric columns.
 */
import type { Engine } from '../engine.js';
import { columnKind } from '../sources.js';

export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: number[];
  counts: number[];
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
    }
    return profile;
  });
  await addHistograms(engine, args.relation, columns);
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

async function addHistograms(engine: Engine, relation: string, columns: ColumnProfile[]): Promise<void> {
  const numeric = columns.filter((c) => typeof c.min === 'number' && typeof c.max === 'number' && columnKind(c.type) !== 'other');
  if (!numeric.length) return;
  const selects = numeric.map((c, i) => {
    const lo = c.min as number;
    const width = ((c.max as number) - lo) / BINS || 1;
    return `histogram(least(CAST(floor((CAST(${q(c.name)} AS DOUBLE) - ${lo}) / ${width}) AS INTEGER), ${BINS - 1})) AS h${i}`;
  });
  const [row] = await engine.rows(`SELECT ${selects.join(', ')} FROM ${relation}`);
  numeric.forEach((c, i) => {
    const lo = c.min as number;
    const width = ((c.max as number) - lo) / BINS || 1;
    const counts = new Array<number>(BINS).fill(0);
    const map = (row as Record<string, unknown>)[`h${i}`] as { entries?: { key: unknown; value: unknown }[] } | null;
    for (const e of map?.entries ?? []) {
      const bin = num(e.key);
      if (bin !== undefined && bin >= 0 && bin < BINS) counts[bin] = num(e.value) ?? 0;
    }
    c.histogram = { edges: Array.from({ length: BINS + 1 }, (_, k) => lo + k * width), counts };
  });
}
