/**
 * One load point's figures from per-request records: latency percentiles of the answered
 * requests, failures and 429s apart, and how stable the point was (the p99 of each quarter of the
 * run: a point whose windows disagree was not steady and its p99 should not be trusted alone).
 */

/** What the generator recorded per request (bench/load/loadgen's OUT_FILE). */
export interface RequestRecords {
  /** Scheduled -> answered, ms (NaN when the request failed). */
  latency: Float64Array;
  /** Scheduled -> sent, ms: the generator's own lateness. */
  lateMs: Float64Array;
  /** 200 ok, 429 rejected, another status or 0 (no answer): failed. */
  status: Float64Array;
  /** Wall time of the measured part, ms. */
  elapsedMs: number;
}

export interface PointStats {
  /** Offered rate, requests/s. */
  rate: number;
  sent: number;
  ok: number;
  /** Answers with 429 / FRESCO_ERR_RESOURCE_EXHAUSTED. */
  rejected: number;
  /** Other failures: errors and requests with no answer. */
  errors: number;
  /** Answered successfully per second of the measured run. */
  throughput: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** The generator's lateness p99 (ms): when it is large, the generator, not the server, was the limit. */
  lateP99: number;
  /** p99 of each quarter of the run, in order, and their spread ((max - min) / median). */
  windowP99: number[];
  spread: number;
}

/** The q-quantile (0..1) of sorted values, nearest rank; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

function sortedLatencies(latency: Float64Array, from = 0, to = latency.length): Float64Array {
  const out = latency.slice(from, to).filter((v) => !Number.isNaN(v));
  return out.sort();
}

export const WINDOWS = 4;

export function pointStats(rate: number, r: RequestRecords): PointStats {
  const n = r.latency.length;
  let ok = 0;
  let rejected = 0;
  for (const s of r.status) {
    if (s === 200) ok++;
    else if (s === 429) rejected++;
  }
  const all = sortedLatencies(r.latency);
  // A failed request has no latency, so it would vanish from the percentiles: 429s and errors
  // are counted beside them and an SLO check (meetsSlo) refuses a point with too many.
  const windowP99: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    const part = sortedLatencies(r.latency, Math.floor((w * n) / WINDOWS), Math.floor(((w + 1) * n) / WINDOWS));
    windowP99.push(quantile(part, 0.99));
  }
  const finite = windowP99.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const median = quantile(finite, 0.5);
  const spread = finite.length ? (finite.at(-1)! - finite[0]!) / median : NaN;
  const late = Float64Array.from(r.lateMs).sort();
  return {
    rate,
    sent: n,
    ok,
    rejected,
    errors: n - ok - rejected,
    throughput: r.elapsedMs > 0 ? ok / (r.elapsedMs / 1000) : 0,
    p50: quantile(all, 0.5),
    p90: quantile(all, 0.9),
    p99: quantile(all, 0.99),
    p999: quantile(all, 0.999),
    max: all.length ? all[all.length - 1]! : NaN,
    lateP99: quantile(late, 0.99),
    windowP99,
    spread,
  };
}

/** A latency objective: percentile `p` (50, 90, 99, 99.9) under `ms`, and at most `maxFailures` of requests failed or rejected. */
export interface Slo {
  percentile: 50 | 90 | 99 | 99.9;
  ms: number;
  /** Fraction of requests allowed to fail or be rejected (default 0.001). */
  maxFailures?: number;
}

export function latencyAt(s: PointStats, percentile: Slo['percentile']): number {
  return percentile === 50 ? s.p50 : percentile === 90 ? s.p90 : percentile === 99 ? s.p99 : s.p999;
}

export function meetsSlo(s: PointStats, slo: Slo): boolean {
  const failed = (s.rejected + s.errors) / Math.max(1, s.sent);
  const l = latencyAt(s, slo.percentile);
  return Number.isFinite(l) && l <= slo.ms && failed <= (slo.maxFailures ?? 0.001);
}
