/**
 * The search for the highest rate that meets an SLO: double the rate from `start` until a point
 * misses the SLO (or `maxRate` is reached), then bisect between the last rate that met it and
 * the first that did not. Each probe is a full open-loop run, so the number of probes is the
 * cost: a doubling ramp finds the bracket in log2(max/start) runs, and `bisections` runs narrow
 * it to 1/2^bisections of the bracket. `measure` is injected, so the search is tested apart from
 * any server.
 */
import { meetsSlo, type PointStats, type Slo } from './stats.js';

export interface SearchOptions {
  /** First rate tried, requests/s (default 100). */
  start?: number;
  /** Rates are never raised past this (default 1,000,000). */
  maxRate?: number;
  /** Bisection steps after the ramp (default 4). */
  bisections?: number;
  /** Called after each probe (progress lines). */
  onPoint?: (s: PointStats, met: boolean) => void;
}

export interface SearchResult {
  /** Every probe, sorted by rate. */
  points: PointStats[];
  /** The highest probed rate that met the SLO, or undefined when even the first did not. */
  best?: PointStats;
  /** The lowest probed rate that missed it (undefined when the ramp reached maxRate). */
  firstMiss?: PointStats;
  knee?: PointStats;
}

export async function searchMaxRate(measure: (rate: number) => Promise<PointStats>, slo: Slo, o: SearchOptions = {}): Promise<SearchResult> {
  const maxRate = o.maxRate ?? 1_000_000;
  let rate = Math.min(o.start ?? 100, maxRate);
  const points: PointStats[] = [];
  const probe = async (r: number) => {
    const s = await measure(r);
    const met = meetsSlo(s, slo);
    points.push(s);
    o.onPoint?.(s, met);
    return { s, met };
  };
  let lo: PointStats | undefined;
  let hi: PointStats | undefined;
  for (;;) {
    const { s, met } = await probe(rate);
    if (!met) {
      hi = s;
      break;
    }
    lo = s;
    if (rate >= maxRate) break;
    rate = Math.min(rate * 2, maxRate);
  }
  if (hi) {
    for (let i = 0; i < (o.bisections ?? 4); i++) {
      const mid = Math.round(((lo?.rate ?? 0) + hi.rate) / 2);
      if (mid <= (lo?.rate ?? 0) || mid >= hi.rate) break;
      const { s, met } = await probe(mid);
      if (met) lo = s;
      else hi = s;
    }
  }
  points.sort((a, b) => a.rate - b.rate);
  const knee = findKnee(points);
  return { points, ...(lo ? { best: lo } : {}), ...(hi ? { firstMiss: hi } : {}), ...(knee ? { knee } : {}) };
}

/**
 * The knee of a latency-throughput curve: the highest rate before the server stops keeping up,
 * taken as the last point (by rate) whose p50 is within twice the lowest rate's p50, whose
 * throughput is within 10% of what was offered and which failed nothing, with every lower point
 * the same. Past it queues grow: latency climbs steeply for a small gain in throughput.
 */
export function findKnee(points: readonly PointStats[]): PointStats | undefined {
  const sorted = [...points].sort((a, b) => a.rate - b.rate);
  const base = sorted[0]?.p50;
  if (base === undefined || !Number.isFinite(base)) return undefined;
  let knee: PointStats | undefined;
  for (const p of sorted) {
    const keepsUp = p.throughput >= 0.9 * p.rate && p.errors + p.rejected === 0 && p.p50 <= 2 * base;
    if (!keepsUp) break;
    knee = p;
  }
  return knee;
}
