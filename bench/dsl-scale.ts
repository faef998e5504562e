/**
 * How DSL compile time grows with the size of a spec: N = 1k, 10k and 100k output lines, each
 * line distinct (no two compile to the same ops, so every fitted function is its own fit site).
 * One operation is what `fresco dsl check` and `dsl explain` do before printing: parse,
 * type-check, lower, list the fit sites (with line and column) and emit the draft plan.
 *
 * The baseline is the 1k spec's time per output line times N: what linear growth would cost.
 * `speedup` near 1 (and `ratioTo1k` near 1) means linear; a quadratic compiler shows
 * `ratioTo1k` near 10 at 10k and 100 at 100k. Run: `node --expose-gc dist/bench/run.js dsl-scale`.
 */
import { compileSpec } from '../src/dsl/index.js';
import { BENCH_SCHEMA } from './dsl.js';
import type { BenchRow } from './row.js';

const FEATURES = 10;

/** Line `i`: the forms of bench/dsl.ts, with `i` folded in so that no two lines share ops. */
function distinctLine(i: number): string {
  const f = `@stats.f${i % FEATURES}`;
  const g = `@stats.f${(i + 3) % FEATURES}`;
  const forms = [
    `log1p(fill_null(${f}, ${i}))`,
    `standardize(clip(${f}, -${i}, 1000))`,
    `fill_mean(${f} + ${i}) / (abs(${g}) + 1)`,
    `min_max(coalesce(${f}, ${g}, ${i}))`,
    `if(${f} > ${g} and hour(@request.ts) >= 17, ${i}, 0)`,
    `bucketize(@request.distance, [250, 500, ${1000 + i}])`,
    `fill_median(${f} * 2 - ${i})`,
    `hash_bucket(lower(@request.origin), ${16 + i})`,
    `day_of_week(@request.ts) + ${i}`,
    `is_null(${f}) or @request.distance > ${i}`,
  ];
  return `o${i} = ${forms[i % forms.length]}`;
}

export const distinctSpecOf = (lines: number): string => Array.from({ length: lines }, (_, i) => distinctLine(i)).join('\n');

/** What `dsl check`/`explain` compute: returns the output count so nothing is optimised away. */
function compileAll(text: string): number {
  const spec = compileSpec(text, BENCH_SCHEMA, { file: 'scale.features' });
  const sites = spec.fitSites;
  const plan = spec.draft();
  return plan.outputs.length + sites.length + spec.outputs.length;
}

/** Median of `runs` timings in nanoseconds, after one warm-up call (collected first, if it can). */
function time(fn: () => void, runs: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  fn();
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    gc?.();
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0));
  }
  return times.sort((a, b) => a - b)[runs >> 1] as number;
}

export async function runDslScaleBenchmarks(log: (line: string) => void = console.log): Promise<BenchRow[]> {
  const results: BenchRow[] = [];
  let perOutput1k = 0;
  for (const [n, runs] of [
    [1_000, 15],
    [10_000, 5],
    [100_000, 3],
  ] as const) {
    log(`compile a ${n}-line spec ...`);
    const text = distinctSpecOf(n);
    const ns = time(() => void compileAll(text), runs);
    if (n === 1_000) perOutput1k = ns / n;
    const linear = perOutput1k * n;
    results.push({
      name: `compile a ${n.toLocaleString('en-US')}-line spec (parse, check, fit sites, draft)`,
      baseline: 'linear growth from the 1k spec',
      nativeNs: ns,
      baselineNs: linear,
      speedup: linear / ns,
      extra: { nsPerOutput: ns / n, ratioTo1k: ns / n / perOutput1k },
    });
  }
  return results;
}
