/**
 * `fresco bench serve` against Triton's perf_analyzer (PyPI perf-analyzer 2.60.0, through
 * /work/shared/tools/perf-analyzer or $PERF_ANALYZER), on the same server process and model in
 * one run: the percentiles at three fixed rates (the two alternate, fresco first at one rate,
 * perf_analyzer first at the next), and the highest rate each finds under the same p99 bound.
 *   npx tsc -p tsconfig.json && node dist/bench/capacity-vs-perf-analyzer.js [rate,rate,rate] [p99ms]
 * Writes bench/results/capacity.json. perf_analyzer speaks KServe v2 HTTP (binary tensor data),
 * fresco bench is run over KServe v2 JSON, the closest of its transports.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchServe } from '../src/capacity/index.js';
import { packageRoot } from '../src/package-root.js';

const root = packageRoot();
const PA = process.env.PERF_ANALYZER ?? '/work/shared/tools/perf-analyzer';
const rates = (process.argv[2] ?? '500,1000,2000').split(',').map(Number);
const sloMs = Number(process.argv[3] ?? 5);
const seconds = 5;
const tmp = mkdtempSync(join(tmpdir(), 'fresco-vs-pa-'));

const serve = spawn(process.execPath, [join(root, 'bin', 'fresco.js'), 'serve', '--models', join(root, 'models', 'mlp-50'), '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
const port = await new Promise<number>((resolve, reject) => {
  serve.stderr.setEncoding('utf8').on('data', (d: string) => {
    log += d;
    const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
    if (m) resolve(Number(m[1]));
  });
  serve.once('exit', (c) => reject(new Error(`fresco serve exited ${c}: ${log}`)));
});
const url = `http://127.0.0.1:${port}`;

interface Row { tool: string; rate: number; throughput: number; p50: number; p90: number; p99: number; extra?: Record<string, number> }

function perfAnalyzer(args: string[]): Record<string, number>[] {
  const csv = join(tmp, 'pa.csv');
  rmSync(csv, { force: true }); // it writes none when no step passed: never read the last call's
  const r = spawnSync(PA, ['-m', 'mlp-50', '-u', `127.0.0.1:${port}`, '-i', 'http', '-p', String(seconds * 1000), '-s', '500', '--max-trials', '6', '--percentile', '99', '-f', csv, ...args], { encoding: 'utf8', timeout: 600_000 });
  // It exits non-zero when its windows never agree (-s: within 500% here; these 2 shared cores
  // swing the tail severalfold); such a point is recorded as unstable, not dropped silently.
  if (r.status !== 0) {
    console.log(`perf_analyzer ${args.join(' ')}: ${(r.stdout + r.stderr).trim().split('\n').at(-1)}`);
    return [];
  }
  if (!existsSync(csv)) return [];
  const [head, ...lines] = readFileSync(csv, 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, Number(v)])));
}

const paRow = (x: Record<string, number>): Row => ({
  tool: 'perf_analyzer',
  rate: x['Request Rate']!,
  throughput: x['Inferences/Second']!,
  p50: x['p50 latency']! / 1000,
  p90: x['p90 latency']! / 1000,
  p99: x['p99 latency']! / 1000,
  extra: { clientSendUs: x['Client Send']!, networkServerUs: x['Network+Server Send/Recv']!, serverQueueUs: x['Server Queue']!, serverComputeUs: x['Server Compute Infer']! },
});

async function fresco(rate: number): Promise<Row> {
  const r = await benchServe({ ref: 'mlp-50', url, transport: 'kserve', slo: { percentile: 99, ms: sloMs }, rates: [rate], seconds, warmupSeconds: 1, pid: serve.pid! });
  const p = r.points[0]!;
  return { tool: 'fresco bench', rate, throughput: p.throughput, p50: p.p50, p90: p.p90, p99: p.p99, extra: { lateP99Ms: p.lateP99, spread: p.spread, errors: p.errors + p.rejected } };
}

const fixed: Row[] = [];
try {
  for (const [i, rate] of rates.entries()) {
    const order = i % 2 === 0 ? ['fresco', 'pa'] : ['pa', 'fresco'];
    for (const tool of order) {
      const pa = tool === 'pa' ? perfAnalyzer(['--request-rate-range', String(rate)])[0] : undefined;
      const row = tool === 'fresco' ? await fresco(rate) : pa ? paRow(pa) : { tool: 'perf_analyzer', rate, throughput: NaN, p50: NaN, p90: NaN, p99: NaN, extra: { unstable: 1 } };
      fixed.push(row);
      console.log(`${row.tool.padEnd(14)} ${rate} req/s: ${row.throughput.toFixed(0)}/s p50 ${row.p50.toFixed(3)} p90 ${row.p90.toFixed(3)} p99 ${row.p99.toFixed(3)} ms ${JSON.stringify(row.extra)}`);
    }
  }
  // The highest rate under p99 <= sloMs: fresco's search, and perf_analyzer's stepped range with
  // --latency-threshold (it stops at the first step over the threshold).
  const search = await benchServe({ ref: 'mlp-50', url, transport: 'kserve', slo: { percentile: 99, ms: sloMs }, startRate: 500, maxRate: 16_000, bisections: 3, seconds, warmupSeconds: 1 });
  const step = 500;
  const paSteps = perfAnalyzer(['--request-rate-range', `${step}:16000:${step}`, '--latency-threshold', String(sloMs)]).map(paRow);
  // perf_analyzer's CSV is ordered by throughput, and past what its threads can send it answers
  // for a lower rate than offered (latency from the actual send: the shortfall is not charged).
  // Its max rate at the SLO: the highest offered rate it actually sent (within 1%) under the bound.
  const paBest = paSteps.filter((s) => s.p99 <= sloMs && s.throughput >= 0.99 * s.rate).sort((a, b) => a.rate - b.rate).at(-1);
  const maxRate = { sloMs, fresco: search.search?.best?.rate, frescoProbes: search.points.map((p) => ({ rate: p.rate, p99: p.p99, lateP99: p.lateP99 })), perfAnalyzer: paBest?.rate, perfAnalyzerSteps: paSteps.map((s) => ({ rate: s.rate, p99: s.p99, throughput: s.throughput })) };
  console.log(JSON.stringify(maxRate));
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'capacity.json'), JSON.stringify({ at: new Date().toISOString(), seconds, fixed, maxRate }, null, 2));
} finally {
  serve.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
