/**
 * `fresco bench serve`: drives a server at fixed rates (open loop) or searches for the highest
 * rate that meets an SLO, and writes a plan. The pieces: target.ts (which server), requests.ts
 * (what to send), loadgen.ts (one load point), stats.ts (its figures), search.ts, plan.ts.
 */
import { cpus } from 'node:os';
import { FrescoError } from '../errors/index.js';
import { requestCount, runLoadPoint } from './loadgen.js';
import { makePlan, type CapacityPlan } from './plan.js';
import { bodiesFor, readModelShape, type ShapeOptions, type Transport } from './requests.js';
import { searchMaxRate, type SearchResult } from './search.js';
import { pointStats, type PointStats, type Slo } from './stats.js';
import { cpuSeconds, rssMb, startServer, targetFromUrl, type Target } from './target.js';

export interface BenchServeOptions extends ShapeOptions {
  ref: string;
  url?: string;
  project?: string;
  /** The running server's pid (with --url), to read its memory and CPU. */
  pid?: number;
  transport?: Transport;
  slo: Slo;
  /** Fixed rates to measure (no search). */
  rates?: number[];
  /** Search start and bound. */
  startRate?: number;
  maxRate?: number;
  bisections?: number;
  seconds: number;
  warmupSeconds?: number;
  connections?: number;
  /** For a plan. */
  targetRate?: number;
  headroom?: number;
  /** Settings of a server started here. */
  maxBatchSize?: number;
  instances?: number;
  serveArgs?: string[];
  onPoint?: (p: MeasuredPoint, met: boolean) => void;
  /** Called once the server answers, before any load (the sweep reads the applied settings). */
  onServerReady?: (httpBase: string) => Promise<void>;
}

export interface MeasuredPoint extends PointStats {
  /** Cores the server kept busy during the point (its CPU seconds / wall seconds), when its pid is known. */
  serverCores?: number;
  /** The server's RSS after the point, MB. */
  serverRssMb?: number;
  /** The load generator's CPU per request (µs; sampled, a lower bound): beside the rate, how much of a core it took. */
  generatorCpuUsPerRequest?: number;
}

export interface BenchServeResult {
  ref: string;
  transport: Transport;
  server: string;
  slo: Slo & { label: string };
  seconds: number;
  search?: SearchResult & { points: MeasuredPoint[] };
  points: MeasuredPoint[];
  /** Where entity keys were drawn from, per key (dataframe models, keys from the project). */
  keySources?: Record<string, string>;
  /** Lines for points where the generator, not the server, set the figures. */
  warnings: string[];
  plan?: CapacityPlan;
  peakRssMb?: number;
}

export function sloLabel(slo: Slo): string {
  return `p${slo.percentile} <= ${slo.ms} ms`;
}

/** "p99=5ms", "p99.9=20ms", "p50=800us", "p99=0.5s" -> Slo. */
export function parseSlo(text: string): Slo {
  const m = /^p(50|90|99|99\.9)=([0-9.]+)(ms|us|s)?$/.exec(text.trim());
  const value = m ? Number(m[2]) : NaN;
  if (!m || !(value > 0)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--slo "${text}" must look like p99=5ms (percentile p50, p90, p99 or p99.9; unit ms, us or s)`);
  const ms = m[3] === 'us' ? value / 1000 : m[3] === 's' ? value * 1000 : value;
  return { percentile: Number(m[1]) as Slo['percentile'], ms };
}

/** "10s", "500ms", "2m", "10" (seconds) -> seconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^([0-9.]+)(ms|s|m)?$/.exec(text.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!m || !(v > 0)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${what} "${text}" must be a duration like 10s, 500ms or 2m`);
  return m[2] === 'ms' ? v / 1000 : m[2] === 'm' ? v * 60 : v;
}

function pathFor(transport: Transport, shapeName: string): string {
  return transport === 'ws' ? '/v1/ws' : transport === 'http' ? '/v1/predict' : `/v2/models/${encodeURIComponent(shapeName)}/infer`;
}

/** Late by more than this at p99, the generator (not the server) set the point's figures. */
export function generatorLateLimitMs(slo: Slo): number {
  return Math.max(1, slo.ms / 10);
}

export async function benchServe(o: BenchServeOptions): Promise<BenchServeResult> {
  if (!o.url && !o.project) throw new FrescoError('FRESCO_ERR_USAGE', 'name the server with --url ws://host:port (running) or --project dir (started here)');
  // With both, the server is --url's and the project only supplies entity keys.
  const target: Target = o.url
    ? targetFromUrl(o.url, o.pid)
    : await startServer({ project: o.project!, ref: o.ref, ...(o.maxBatchSize !== undefined ? { maxBatchSize: o.maxBatchSize } : {}), ...(o.instances !== undefined ? { instances: o.instances } : {}), ...(o.serveArgs ? { serveArgs: o.serveArgs } : {}) });
  try {
    const transport: Transport = o.transport ?? (o.url?.startsWith('http') ? 'http' : 'ws');
    const shape = await readModelShape(target.httpBase, o.ref);
    await o.onServerReady?.(target.httpBase);
    const shapeOptions: ShapeOptions = { ...o, keys: { ...o.keys }, keyWeights: { ...o.keyWeights } };
    const keySources: Record<string, string> = {};
    const missing = shape.entityKeys.filter((k) => !o.keys?.[k]?.length);
    if (missing.length && o.project) {
      // Keys the user did not give: the project's hot keys that the online store holds.
      const { keysFromProject } = await import('./project-keys.js');
      const found = await keysFromProject(o.project, missing);
      Object.assign(shapeOptions.keys!, found.values);
      Object.assign(shapeOptions.keyWeights!, found.weights);
      Object.assign(keySources, found.from);
    }
    const bodies = bodiesFor(transport, o.ref, shape, shapeOptions, 10_000);
    const warnings: string[] = [];
    const lateLimit = generatorLateLimitMs(o.slo);
    let peakRss: number | undefined;
    const measure = async (rate: number): Promise<MeasuredPoint> => {
      const cpu0 = target.pid !== undefined ? cpuSeconds(target.pid) : undefined;
      const t0 = performance.now();
      const run = await runLoadPoint({
        transport: transport === 'ws' ? 'ws' : 'http',
        host: target.host,
        path: pathFor(transport, shape.name),
        rate,
        seconds: o.seconds,
        warmupSeconds: o.warmupSeconds ?? Math.min(1, o.seconds / 2),
        // HTTP has one request in flight per socket: enough sockets that the pool does not cap the
        // rate (rate x latency in flight); WebSocket pipelines on a few.
        connections: o.connections ?? (transport === 'ws' ? 4 : 64),
        bodies,
        ...(transport === 'kserve' ? { contentType: 'application/json' } : transport === 'http' ? { contentType: 'application/x-fresco-frame' } : {}),
      });
      const wall = (performance.now() - t0) / 1000;
      const s: MeasuredPoint = pointStats(rate, run);
      const { total } = requestCount({ rate, seconds: o.seconds, warmupSeconds: o.warmupSeconds ?? Math.min(1, o.seconds / 2) });
      if (run.generatorCpuSeconds > 0) s.generatorCpuUsPerRequest = (run.generatorCpuSeconds * 1e6) / total;
      if (target.pid !== undefined) {
        const cpu1 = cpuSeconds(target.pid);
        if (cpu0 !== undefined && cpu1 !== undefined) s.serverCores = (cpu1 - cpu0) / wall;
        const rss = rssMb(target.pid);
        if (rss !== undefined) {
          s.serverRssMb = rss;
          peakRss = Math.max(peakRss ?? 0, rss);
        }
      }
      if (s.lateP99 > lateLimit) {
        warnings.push(`at ${rate} req/s the load generator sent its p99 request ${s.lateP99.toFixed(2)} ms late (limit ${lateLimit} ms): this point measures the generator as much as the server; run the bench on another machine or lower the rate`);
      }
      const generatorCores = ((s.generatorCpuUsPerRequest ?? 0) * rate) / 1e6;
      if (generatorCores > 0.8) {
        warnings.push(`at ${rate} req/s the load generator used ${generatorCores.toFixed(2)} of a core (${s.generatorCpuUsPerRequest!.toFixed(0)} µs a request): it is near its limit (one thread)`);
      }
      if (s.errors > 0 && run.errorSamples.length) warnings.push(`at ${rate} req/s: ${s.errors} failed, e.g. ${run.errorSamples[0]}`);
      return s;
    };
    const result: BenchServeResult = { ref: o.ref, transport, server: target.httpBase, slo: { ...o.slo, label: sloLabel(o.slo) }, seconds: o.seconds, points: [], warnings, ...(Object.keys(keySources).length ? { keySources } : {}) };
    if (o.rates?.length) {
      for (const r of o.rates) {
        const p = await measure(r);
        result.points.push(p);
        o.onPoint?.(p, true);
      }
    } else {
      const search = await searchMaxRate(measure, o.slo, {
        ...(o.startRate !== undefined ? { start: o.startRate } : {}),
        ...(o.maxRate !== undefined ? { maxRate: o.maxRate } : {}),
        ...(o.bisections !== undefined ? { bisections: o.bisections } : {}),
        ...(o.onPoint ? { onPoint: o.onPoint as (p: PointStats, met: boolean) => void } : {}),
      });
      result.search = search as BenchServeResult['search'];
      result.points = search.points as MeasuredPoint[];
      if (o.targetRate !== undefined) {
        const best = search.best as MeasuredPoint | undefined;
        result.plan = makePlan({
          targetRate: o.targetRate,
          maxRatePerReplica: best?.throughput ?? 0,
          ...(o.headroom !== undefined ? { headroom: o.headroom } : {}),
          ...(best?.serverCores !== undefined ? { busyCores: best.serverCores } : {}),
          machineCores: cpus().length,
          ...(peakRss !== undefined ? { rssMb: peakRss } : {}),
          slo: sloLabel(o.slo),
        });
      }
    }
    if (peakRss !== undefined) result.peakRssMb = peakRss;
    return result;
  } finally {
    await target.close();
  }
}
