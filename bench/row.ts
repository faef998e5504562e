/** One benchmark result: Fresco against a named baseline, measured in the same run. */
export interface BenchRow {
  name: string;
  /** What Fresco is compared with (a TypeScript implementation, a peer...). */
  baseline: string;
  /** Mean time of one operation with Fresco, in nanoseconds. */
  nativeNs: number;
  /** Mean time of the same operation with the baseline, in nanoseconds. */
  baselineNs: number;
  /** baselineNs / nativeNs: how many times faster Fresco is. */
  speedup: number;
  /** Further figures (rows/s, GB/s, p99, MB of memory...), named with their unit. */
  extra?: Record<string, number>;
}
