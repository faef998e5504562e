/**
 * Capacity planning from benchmarks (docs/capacity.md): open-loop load points against a server,
 * the search for the highest rate meeting an SLO, the plan, and its table and HTML page.
 */
export { benchServe, parseDuration, parseSlo, sloLabel, type BenchServeOptions, type BenchServeResult, type MeasuredPoint } from './serve-bench.js';
export { searchMaxRate, findKnee, type SearchResult, type SearchOptions } from './search.js';
export { makePlan, type CapacityPlan, type PlanInput } from './plan.js';
export { pointStats, meetsSlo, quantile, type PointStats, type Slo, type RequestRecords } from './stats.js';
export { runLoadPoint, loadgenBinary, type LoadPoint } from './loadgen.js';
export { curveTable, planTable, htmlPage, curveSvg } from './report.js';
export { readModelShape, makeInputs, bodiesFor, type Transport, type ModelShape } from './requests.js';
export { sweep, parseSweep, configurations, sweepTable, type SweepResult, type SweepEntry, type SweepSpace } from './sweep.js';
export { benchBatch, planBatch, type BatchMeasurement, type BatchPlan } from './batch-bench.js';
