/**
 * `fresco bench` (src/capacity): the search finds a planted knee, open-loop timing charges a
 * planted stall, the plan's arithmetic, the HTML page, and the CLI against a real server.
 * The planted servers are tiny KServe-shaped HTTP servers in this process whose capacity is set
 * by a timer (one request at a time, a fixed service time), not by CPU speed, and whose queue is
 * bounded (429 past it): above the capacity requests are rejected at once, below it none are,
 * so the SLO is missed by the rejections exactly where the knee is, whatever the machine's speed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchServe, configurations, findKnee, parseSweep, planBatch, htmlPage, makePlan, meetsSlo, pointStats, searchMaxRate, type PointStats } from '../src/capacity/index.js';
import { keysFromProject } from '../src/capacity/project-keys.js';
import { packageRoot } from '../src/package-root.js';

const root = packageRoot();

interface Planted {
  server: Server;
  url: string;
  /** Requests answered so far. */
  answered: () => number;
  /** The service time the timer actually gave (ms, mean): the true capacity is 1000 / it. */
  serviceMs: () => number;
}

/** One request at a time, `serviceMs` each, at most `queue` waiting (429 past it); `stall` pauses answering once. */
async function plantedServer(serviceMs: number, queue: number, stall?: { afterRequests: number; ms: number }): Promise<Planted> {
  const waiting: (() => void)[] = [];
  let busy = false;
  let received = 0;
  let answered = 0;
  let stalled = false;
  let served = 0;
  let servedMs = 0;
  const next = () => {
    const job = waiting.shift();
    if (!job) return void (busy = false);
    busy = true;
    const t0 = performance.now();
    setTimeout(() => {
      served++;
      servedMs += performance.now() - t0;
      job();
      next();
    }, serviceMs);
  };
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ name: 'slow', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }], parameters: { input_kind: 'tensor' } }));
    }
    req.resume();
    req.on('end', () => {
      received++;
      const answer = () => {
        answered++;
        res.setHeader('content-type', 'application/json');
        res.end('{"outputs":[]}');
      };
      if (stall && received === stall.afterRequests && !stalled) {
        stalled = true;
        // Everything that arrives during the stall waits for it: the open-loop figures must show it.
        busy = true;
        waiting.unshift(answer);
        setTimeout(next, stall.ms);
        return;
      }
      if (waiting.length >= queue) {
        res.statusCode = 429;
        return res.end('{"error":"queue full"}');
      }
      waiting.push(answer);
      if (!busy) next();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, answered: () => answered, serviceMs: () => servedMs / served };
}

const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

describe('the search', () => {
  it('finds the highest rate meeting the SLO on a known curve, within the bisection step', async () => {
    // A synthetic server of capacity 1000 req/s: p99 1 ms below it, 429s above it.
    const measure = async (rate: number): Promise<PointStats> => {
      const over = rate > 1000;
      return { rate, sent: rate, ok: over ? 1000 : rate, rejected: over ? rate - 1000 : 0, errors: 0, throughput: Math.min(rate, 1000), p50: over ? 50 : 0.5, p90: 1, p99: over ? 80 : 1, p999: 2, max: 2, lateP99: 0, windowP99: [1, 1, 1, 1], spread: 0 };
    };
    const r = await searchMaxRate(measure, { percentile: 99, ms: 5 }, { start: 100, bisections: 5 });
    // The ramp doubles until a miss (points come back sorted by rate).
    expect(r.points.map((p) => p.rate)).toEqual(expect.arrayContaining([100, 200, 400, 800, 1600]));
    expect(r.points.some((p) => p.rate > 1600)).toBe(false);
    expect(r.best!.rate).toBeLessThanOrEqual(1000);
    expect(r.best!.rate).toBeGreaterThan(1000 - 800 / 2 ** 5);
    expect(r.firstMiss!.rate).toBeGreaterThan(1000);
    expect(r.knee!.rate).toBe(r.best!.rate);
  });

  it('finds a planted knee: a server that takes 20 ms per request, one at a time (50 req/s)', async () => {
    const planted = await plantedServer(20, 10);
    servers.push(planted.server);
    const result = await benchServe({ ref: 'slow', url: planted.url, transport: 'kserve', slo: { percentile: 99, ms: 400 }, startRate: 15, bisections: 3, seconds: 2, warmupSeconds: 0.5 });
    const rates = result.points.map((p) => p.rate);
    expect(rates).toContain(60); // the ramp: 15, 30, 60 (misses), then bisection
    const best = result.search!.best!;
    // 50 req/s at most; a busy machine's timers overshoot, so the capacity is taken from the
    // service time the server really had. Above it the queue (10) fills within a probe and 429s
    // miss the SLO; the search's last bisection step is 60-30 / 2^3 ~ 4 req/s.
    const capacity = 1000 / planted.serviceMs();
    expect(capacity).toBeGreaterThan(30);
    expect(best.rate).toBeGreaterThanOrEqual(0.7 * capacity);
    expect(best.rate).toBeLessThanOrEqual(1.15 * capacity);
    const miss = result.search!.firstMiss!;
    expect(miss.rejected).toBeGreaterThan(0);
    expect(result.search!.knee!.rate).toBeGreaterThanOrEqual(30);
    // Every point carries its percentiles and the stability of its p99 over four windows.
    for (const p of result.points) expect(p.windowP99).toHaveLength(4);
  }, 120_000);
});

describe('open-loop timing', () => {
  it('charges queueing delay: a 300 ms stall shows in p99 although only one request was slow to serve', async () => {
    // 200 req/s for 2 s after 0.5 s of warm-up (100 requests); the stall starts at request 250.
    const planted = await plantedServer(0, 10_000, { afterRequests: 250, ms: 300 });
    servers.push(planted.server);
    // One connection, one request in flight: during the stall the requests that fall due wait in
    // the generator, unsent. Timed from when each was sent (coordinated omission), only the one
    // request caught at the server would be slow; timed from its schedule, every one of them is.
    const result = await benchServe({ ref: 'slow', url: planted.url, transport: 'kserve', slo: { percentile: 99, ms: 50 }, rates: [200], seconds: 2, warmupSeconds: 0.5, connections: 1 });
    const p = result.points[0]!;
    expect(p.ok).toBe(400);
    // ~60 requests were due during the stall (15% of the run): each waited for it, from its scheduled time.
    expect(p.p99).toBeGreaterThanOrEqual(200);
    expect(p.p90).toBeGreaterThanOrEqual(50);
    expect(p.p50).toBeLessThan(p.p90);
    expect(meetsSlo(p, { percentile: 99, ms: 50 })).toBe(false);
    // The stall is in one window only: the point is flagged unstable.
    expect(p.spread).toBeGreaterThan(1);
  }, 60_000);
});

describe('the plan', () => {
  it('sizes replicas, cores and memory from the measured max with headroom', () => {
    const plan = makePlan({ targetRate: 20_000, maxRatePerReplica: 5_000, headroom: 0.3, busyCores: 1.4, machineCores: 8, rssMb: 200, slo: 'p99 <= 5 ms' });
    expect(plan.plannedRatePerReplica).toBe(3_500);
    expect(plan.replicas).toBe(6); // 20000 / 3500 = 5.71
    expect(plan.coresPerReplica).toBe(2); // 1.4 busy cores, rounded up
    expect(plan.totalCores).toBe(12);
    expect(plan.memoryMbPerReplica).toBe(250); // RSS + 25%
    expect(plan.totalMemoryMb).toBe(1500);
    expect(plan.utilization).toBeCloseTo(20_000 / 6 / 5_000, 10);
    expect(plan.assumptions.join(' ')).toContain('30% headroom');
  });

  it('needs no extra replica on an exact fit, falls back to the machine\'s cores, and refuses bad input', () => {
    const plan = makePlan({ targetRate: 7_000, maxRatePerReplica: 5_000, headroom: 0.3, machineCores: 4, slo: 'p99 <= 5 ms' });
    expect(plan.replicas).toBe(2);
    expect(plan.coresPerReplica).toBe(4);
    expect(plan.memoryMbPerReplica).toBeUndefined();
    expect(plan.assumptions.some((a) => a.includes('memory was not measured'))).toBe(true);
    expect(() => makePlan({ targetRate: 100, maxRatePerReplica: 0, machineCores: 2, slo: 'p99 <= 1 ms' })).toThrow(/no measured rate met the SLO/);
    expect(() => makePlan({ targetRate: 100, maxRatePerReplica: 10, headroom: 1.5, machineCores: 2, slo: 'p99 <= 1 ms' })).toThrow(/--headroom/);
  });
});

describe('the HTML page', () => {
  it('plots every point of the curve in an inline SVG, with the SLO line and the plan', () => {
    const records = (lat: number, n = 100) => ({ latency: new Float64Array(n).fill(lat), lateMs: new Float64Array(n), status: new Float64Array(n).fill(200), elapsedMs: 1000 });
    const points = [pointStats(100, records(1)), pointStats(200, records(1.5)), pointStats(400, records(30))];
    const search = { points, best: points[1]!, firstMiss: points[2]!, knee: findKnee(points)! };
    const plan = makePlan({ targetRate: 1000, maxRatePerReplica: 200, machineCores: 2, rssMb: 100, slo: 'p99 <= 5 ms' });
    const html = htmlPage({ title: 'bench <mlp-50>', slo: { label: 'p99 <= 5 ms', ms: 5 }, search, plan });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('bench &#60;mlp-50&#62;'); // escaped
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + 6);
    expect((html.match(/<svg/g) ?? []).length).toBe(1);
    const dots = [...svg.matchAll(/<circle class="point p99"[^>]*data-rate="([0-9.]+)" data-ms="([0-9.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(dots).toEqual([[100, 1], [200, 1.5], [400, 30]]);
    // Higher latency is drawn higher (smaller y), on one scale with the SLO line.
    const ys = [...svg.matchAll(/<circle class="point p99" cx="[0-9.]+" cy="([0-9.]+)"/g)].map((m) => Number(m[1]));
    expect(ys[0]! > ys[1]! && ys[1]! > ys[2]!).toBe(true);
    expect(svg).toContain('class="slo"');
    expect(html).toContain('replicas');
    // Self-contained: no scripts, no external assets.
    expect(html).not.toMatch(/<script|<link|src=|href=/);
    expect(html).toContain('200 req/s');
  });
});

describe('fresco bench serve (CLI)', () => {
  it('measures a real server over the WebSocket and KServe transports, with its memory', async () => {
    const serve = spawn(process.execPath, [join(root, 'bin', 'fresco.js'), 'serve', '--models', join(root, 'models', 'mlp-50'), '--port', '0', '--no-prioritize-serving'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let log = '';
      const port = await new Promise<number>((resolve, reject) => {
        serve.stderr.setEncoding('utf8').on('data', (d: string) => {
          log += d;
          const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
          if (m) resolve(Number(m[1]));
        });
        serve.once('exit', (c) => reject(new Error(`fresco serve exited ${c}: ${log}`)));
      });
      for (const transport of ['ws', 'kserve']) {
        const html = join(tmpdir(), `fresco-capacity-${process.pid}-${transport}.html`);
        const r = spawnSync(process.execPath, [join(root, 'bin', 'fresco.js'), 'bench', 'serve', 'mlp-50', '--url', `ws://127.0.0.1:${port}`, '--transport', transport, '--rate', '100', '--duration', '1s', '--warmup', '200ms', '--pid', String(serve.pid), '--html', html, '--json'], { encoding: 'utf8' });
        const page = readFileSync(html, 'utf8');
        rmSync(html, { force: true });
        expect(page).toMatch(/<circle class="point p99"[^>]*data-rate="100"/);
        expect(page).toContain('Fixed rates against p99 &#60;= 5 ms');
        expect(r.status, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out.transport).toBe(transport);
        expect(out.points[0].sent).toBe(100);
        expect(out.points[0].ok).toBe(100);
        expect(out.points[0].errors).toBe(0);
        expect(out.peakRssMb).toBeGreaterThan(10);
      }
    } finally {
      serve.kill('SIGTERM');
    }
  }, 120_000);

  it('refuses a malformed SLO and a dataframe model without keys with errors naming them', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'fresco.js'), 'bench', 'serve', 'mlp-50', '--url', 'ws://127.0.0.1:1', '--slo', 'p97=5'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/FRESCO_ERR_INVALID_ARGUMENT/);
    expect(r.stderr + r.stdout).toMatch(/--slo "p97=5"/);
    const none = spawnSync(process.execPath, [join(root, 'bin', 'fresco.js'), 'bench', 'serve', 'mlp-50', '--json'], { encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr + none.stdout).toMatch(/--url .* or --project/);
  });
});

describe('fresco bench serve --project (a dataframe model)', () => {
  const base = mkdtempSync(join(tmpdir(), 'fresco-capacity-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const fresco = (cwd: string, ...args: string[]) => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'fresco.js'), ...args], { cwd, encoding: 'utf8' });
    expect(r.status, `fresco ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };

  const dir = join(base, 'flights');
  beforeAll(() => {
    fresco(base, 'init', dir, '--example', 'flights');
    fresco(base, 'apply', '--project', dir);
    fresco(base, 'dataset', 'build', '--project', dir, '--spec', join(dir, 'dataset.yaml'), '--no-progress');
    fresco(dir, 'train', 'train.yaml');
    fresco(base, 'materialize', '--project', dir, '--end', '2001-01-31T17:00:00Z');
  }, 180_000);

  it('starts the server itself and draws entity keys from the project, hottest first, present in the online store', async () => {

    const keys = await keysFromProject(dir, ['origin']);
    // From the flights source (the event table), not the airports list: frequencies differ.
    expect(keys.from.origin).toMatch(/table origin_delays, source flights, column origin/);
    const w = keys.weights.origin!;
    expect(w.length).toBeGreaterThan(20);
    expect([...w].sort((a, b) => b - a)).toEqual(w);
    expect(w[0]!).toBeGreaterThan(10 * w.at(-1)!);

    const out = JSON.parse(fresco(base, 'bench', 'serve', 'flights-delay@production', '--project', dir, '--transport', 'http', '--rate', '100', '--duration', '1s', '--warmup', '200ms', '--json'));
    expect(out.keySources.destination).toMatch(/table destination_delays/);
    expect(out.points[0].sent).toBe(100);
    expect(out.points[0].ok).toBe(100);
    expect(out.peakRssMb).toBeGreaterThan(10);
  }, 180_000);

  it('--sweep searches each combination on a server of its own, started with those settings, and ranks them', () => {
    const out = JSON.parse(fresco(base, 'bench', 'serve', 'flights-delay@production', '--project', dir, '--sweep', 'instances=1,2', '--sweep', 'max-queue-delay=0,2', '--start-rate', '100', '--max-rate', '200', '--bisections', '1', '--duration', '500ms', '--warmup', '200ms', '--slo', 'p99=500ms', '--json'));
    expect(out.ranked).toHaveLength(4);
    for (const e of out.ranked) {
      // The settings reached the server: its own /config reports them.
      expect(e.applied.instances).toBe(e.settings.instances);
      expect(e.applied.maxQueueDelayUs).toBe(e.settings.maxQueueDelayMs * 1000);
      expect(e.maxRate).toBeGreaterThan(0);
    }
    const rates = out.ranked.map((e: { maxRate: number }) => e.maxRate);
    expect([...rates].sort((a, b) => b - a)).toEqual(rates);
  }, 180_000);
  it('fresco bench batch measures rows/s of batch scoring by worker count and plans a deadline, and passes on a scoring error', () => {
    const labels = join(dir, 'data', 'labels.parquet');
    const out = JSON.parse(fresco(base, 'bench', 'batch', 'flights-delay@production', '--project', dir, '--input', labels, '--timestamp', 'date', '--workers', '1', '--rows', '1000', '--deadline', '10m', '--json'));
    expect(out.measured).toHaveLength(1);
    expect(out.measured[0].workers).toBe(1);
    expect(out.measured[0].rows).toBeGreaterThan(10_000);
    expect(out.measured[0].rowsPerSecond).toBeGreaterThan(0);
    expect(out.plan.workers).toBe(1);
    const bad = spawnSync(process.execPath, [join(root, 'bin', 'fresco.js'), 'bench', 'batch', 'flights-delay@production', '--project', dir, '--input', labels, '--workers', '1'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/fresco batch score with 1 worker\(s\) failed: FRESCO_ERR_DATA_INVALID: .*labels\.parquet: no column/);
  }, 120_000);
});

describe('--sweep parsing', () => {
  it('expands every combination and refuses unknown settings and oversized spaces', () => {
    const c = configurations(parseSweep(['instances=1,2', 'max-batch-size=8,64', 'transport=ws,kserve']));
    expect(c).toHaveLength(8);
    expect(c).toContainEqual({ settings: { instances: 2, maxBatchSize: 8 }, transport: 'kserve' });
    expect(() => parseSweep(['threads=1'])).toThrow(/sweepable are instances, max-batch-size, max-queue-delay, intra-op-threads, transport/);
    expect(() => parseSweep(['instances=1.5'])).toThrow(/not a whole number/);
    expect(() => configurations(parseSweep(['instances=1,2,3,4,5,6', 'max-batch-size=1,2,4,8,16,32']))).toThrow(/36 combinations; at most 32/);
  });
});

describe('fresco bench batch: the plan', () => {
  const measured = [
    { workers: 1, rows: 1000, seconds: 1, rowsPerSecond: 10_000 },
    { workers: 2, rows: 1000, seconds: 0.6, rowsPerSecond: 18_000 },
    { workers: 4, rows: 1000, seconds: 0.4, rowsPerSecond: 25_000 },
  ];
  it('picks the fewest measured workers that finish in time', () => {
    expect(planBatch(measured, 1_000_000, 100)).toMatchObject({ workers: 1, seconds: 100 });
    expect(planBatch(measured, 1_000_000, 60)).toMatchObject({ workers: 2 });
    expect(planBatch(measured, 1_000_000, 50)).toMatchObject({ workers: 4, seconds: 40 });
  });
  it('shards over machines when no measured count is enough, without extrapolating past what was measured', () => {
    const p = planBatch(measured, 10_000_000, 100); // 25,000 rows/s at best: 400 s on one machine
    expect(p.workers).toBeUndefined();
    expect(p.shards).toBe(4);
    expect(p.seconds).toBe(100);
    expect(p.note).toMatch(/--shard i\/4 and --workers 4/);
  });
});
