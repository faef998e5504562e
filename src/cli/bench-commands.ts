/**
 * `fresco bench serve` (docs/capacity.md). Thin: parses options and prints; the load points, the
 * search and the plan live in src/capacity, imported when the command runs (it loads the
 * client and protocol codec, which `fresco --help` must not).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FrescoError } from '../errors/index.js';
import { type Io, printData } from './output.js';
import { parseAssignment } from './serve-commands.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positive(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${name} must be a positive number, got "${value}"`);
    return n;
  };
}

interface ServeBenchFlags {
  url?: string;
  project?: string;
  pid?: number;
  transport?: string;
  slo: string;
  rate?: string;
  startRate?: number;
  maxRate?: number;
  bisections?: number;
  duration: string;
  warmup?: string;
  connections?: number;
  key?: string[];
  field?: string[];
  rows?: number;
  targetRate?: number;
  headroom?: number;
  html?: string;
  maxBatchSize?: number;
  instances?: number;
  sweep?: string[];
}

export function registerBenchCommands(program: Command, io: Io): void {
  const bench = program.command('bench').description('benchmark a server and plan capacity from it (docs/capacity.md)');
  bench
    .command('batch <ref>')
    .description('rows/s of `fresco batch score` by worker count on your input; with --rows and --deadline, the workers needed')
    .requiredOption('--input <glob>', 'input file or glob (repeatable), as for fresco batch score', collect)
    .option('--workers <n[,n...]>', 'worker counts to measure (default 1,2,4 up to the cores)')
    .option('--project <dir>', 'project folder (default: the current folder)')
    .option('--registry <dir>', 'model registry folder (default <project>/.fresco/registry)')
    .option('--timestamp <column>', 'passed to fresco batch score: the input column of the as-of time')
    .option('--rows <n>', 'plan: rows to score', positive('--rows'))
    .option('--deadline <d>', 'plan: time allowed (10m, 30s, 2h as 120m)')
    .action(async (ref: string, f: { input: string[]; workers?: string; project?: string; registry?: string; timestamp?: string; rows?: number; deadline?: string }, cmd: Command) => {
      const json = Boolean(cmd.optsWithGlobals().json);
      const [c, { cpus }] = await Promise.all([import('../capacity/index.js'), import('node:os')]);
      if ((f.rows === undefined) !== (f.deadline === undefined)) throw new FrescoError('FRESCO_ERR_USAGE', 'a batch plan needs both --rows and --deadline');
      const cores = cpus().length;
      const workers = f.workers ? f.workers.split(',').map((w) => positive('--workers')(w.trim())) : [1, 2, 4].filter((w) => w === 1 || w <= cores);
      const measured = await c.benchBatch({
        ref,
        input: f.input,
        workers,
        ...(f.project ? { project: f.project } : {}),
        ...(f.registry ? { registry: f.registry } : {}),
        ...(f.timestamp ? { scoreArgs: ['--timestamp', f.timestamp] } : {}),
        onRun: (m) => io.err(`fresco bench: ${m.workers} worker(s): ${Math.round(m.rowsPerSecond)} rows/s (${m.rows} rows in ${m.seconds.toFixed(2)} s)`),
      });
      const plan = f.rows !== undefined ? c.planBatch(measured, f.rows, c.parseDuration(f.deadline!, '--deadline')) : undefined;
      printData(io, json, { ref, measured, ...(plan ? { plan } : {}) }, () =>
        [`${ref}: batch scoring on ${cores} core(s)`, ...measured.map((m) => `  ${String(m.workers).padStart(3)} worker(s)  ${Math.round(m.rowsPerSecond)} rows/s`), ...(plan ? [`plan: ${plan.note}`] : [])].join('\n'),
      );
    });
  bench
    .command('serve <ref>')
    .description('open-loop load at fixed rates (--rate) or a search for the highest rate meeting --slo; with --target-rate, a capacity plan')
    .option('--url <url>', 'a running server: ws://host:port or http://host:port')
    .option('--project <dir>', 'the project: without --url, start `fresco serve` for it and the ref on a free port (stopped after); a dataframe model\'s entity keys are drawn from its data (hot keys first) where the online store holds them')
    .option('--pid <pid>', 'with --url: the server process, to measure its memory and CPU', positive('--pid'))
    .option('--transport <t>', 'ws (Fresco frames over WebSocket), http (Fresco frames over POST /v1/predict) or kserve (KServe v2 JSON); default: by the URL scheme, ws with --project')
    .option('--slo <p=time>', 'latency objective, e.g. p99=5ms (p50, p90, p99, p99.9); at most 0.1% of requests may fail or be rejected', 'p99=5ms')
    .option('--rate <r[,r...]>', 'fixed rates in requests/s (no search)')
    .option('--start-rate <r>', 'search: first rate, doubled until the SLO is missed (default 100)', positive('--start-rate'))
    .option('--max-rate <r>', 'search: never go above this rate (default 1000000)', positive('--max-rate'))
    .option('--bisections <n>', 'search: bisection steps after the ramp (default 4)', positive('--bisections'))
    .option('--duration <d>', 'measured time per point (10s, 500ms, 2m)', '10s')
    .option('--warmup <d>', 'sent before each point and not measured (default: half the duration, at most 1s)')
    .option('--connections <n>', 'connections (default: 4 for ws; 64 for http and kserve, one request in flight each)', positive('--connections'))
    .option('--key <name=v1,v2,...>', 'dataframe models: entity key values to draw from, the first hottest (repeatable)', collect)
    .option('--field <name=value>', 'dataframe models: a request field value (repeatable; others are generated by type)', collect)
    .option('--rows <n>', 'rows per request (default 1)', positive('--rows'))
    .option('--target-rate <r>', 'plan for this many requests/s at the SLO', positive('--target-rate'))
    .option('--headroom <f>', 'plan: fraction of each replica kept free (default 0.3)', Number)
    .option('--html <file>', 'write the curve and plan as an HTML page (inline SVG)')
    .option('--max-batch-size <n>', 'with --project: the server\'s max batch size', positive('--max-batch-size'))
    .option('--instances <n>', 'with --project: inference workers per model', positive('--instances'))
    .option('--sweep <name=v1,v2>', 'with --project: search every combination of instances, max-batch-size, max-queue-delay (ms), intra-op-threads, transport (repeatable), ranked by rate at the SLO and by rate per core', collect)
    .action(async (ref: string, f: ServeBenchFlags, cmd: Command) => {
      const json = Boolean(cmd.optsWithGlobals().json);
      const c = await import('../capacity/index.js');
      // (--sweep with --target-rate plans from the top-ranked configuration.)
      const transport = f.transport;
      if (transport !== undefined && !['ws', 'http', 'kserve'].includes(transport)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--transport "${transport}": use ws, http or kserve`);
      const rates = f.rate?.split(',').map((r) => positive('--rate')(r.trim()));
      const keys = Object.fromEntries((f.key ?? []).map((k) => {
        const eq = k.indexOf('=');
        if (eq <= 0) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--key "${k}" must look like name=v1,v2,...`);
        return [k.slice(0, eq), k.slice(eq + 1).split(',').filter(Boolean)];
      }));
      const fields = Object.fromEntries((f.field ?? []).map((x) => parseAssignment(x, '--field')).map(([k, v]) => [k, typeof v === 'number' ? v : String(v)]));
      if (rates && f.targetRate !== undefined) throw new FrescoError('FRESCO_ERR_USAGE', '--target-rate plans from a search: leave out --rate');
      if (f.sweep && rates) throw new FrescoError('FRESCO_ERR_USAGE', '--sweep searches each configuration: leave out --rate');
      const space = f.sweep ? c.parseSweep(f.sweep) : undefined;
      const options: Parameters<typeof c.benchServe>[0] = {
        ref,
        ...(f.url ? { url: f.url } : {}),
        ...(f.project ? { project: f.project } : {}),
        ...(f.pid !== undefined ? { pid: f.pid } : {}),
        ...(transport ? { transport: transport as 'ws' | 'http' | 'kserve' } : {}),
        slo: c.parseSlo(f.slo),
        ...(rates ? { rates } : {}),
        ...(f.startRate !== undefined ? { startRate: f.startRate } : {}),
        ...(f.maxRate !== undefined ? { maxRate: f.maxRate } : {}),
        ...(f.bisections !== undefined ? { bisections: f.bisections } : {}),
        seconds: c.parseDuration(f.duration, '--duration'),
        ...(f.warmup !== undefined ? { warmupSeconds: c.parseDuration(f.warmup, '--warmup') } : {}),
        ...(f.connections !== undefined ? { connections: f.connections } : {}),
        keys,
        fields,
        ...(f.rows !== undefined ? { rows: f.rows } : {}),
        ...(f.targetRate !== undefined ? { targetRate: f.targetRate } : {}),
        ...(f.headroom !== undefined ? { headroom: f.headroom } : {}),
        ...(f.maxBatchSize !== undefined ? { maxBatchSize: f.maxBatchSize } : {}),
        ...(f.instances !== undefined ? { instances: f.instances } : {}),
        onPoint: (p, met) => io.err(`fresco bench: ${p.rate} req/s: p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, ${p.errors} errors, ${p.rejected} 429s${rates ? '' : met ? ' (meets the SLO)' : ' (misses the SLO)'}`),
      };
      if (space) {
        const { targetRate: _ignored, ...rest } = options;
        const swept = await c.sweep(rest, space, (e) => io.err(`fresco bench: ${JSON.stringify(e.settings)}${e.transport ? ` ${e.transport}` : ''}: ${Math.round(e.maxRate)} req/s at the SLO`));
        const top = swept.ranked[0]?.best;
        const plan =
          f.targetRate !== undefined && top
            ? c.makePlan({ targetRate: f.targetRate, maxRatePerReplica: swept.ranked[0]!.maxRate, ...(f.headroom !== undefined ? { headroom: f.headroom } : {}), ...(swept.ranked[0]!.cores !== undefined ? { busyCores: swept.ranked[0]!.cores } : {}), machineCores: (await import('node:os')).cpus().length, ...(swept.ranked[0]!.rssMb !== undefined ? { rssMb: swept.ranked[0]!.rssMb } : {}), slo: c.sloLabel(options.slo) })
            : undefined;
        printData(io, json, { ...swept, ...(plan ? { plan } : {}) }, () => [`${ref}: configurations ranked by rate at SLO ${c.sloLabel(options.slo)}`, c.sweepTable(swept), ...(plan ? [`with the top configuration's settings:`, c.planTable(plan)] : [])].join('\n'));
        return;
      }
      const result = await c.benchServe(options);
      if (f.html) {
        const search = result.search ?? { points: result.points };
        writeFileSync(f.html, c.htmlPage({ title: `fresco bench serve ${ref} (${result.transport})`, slo: { label: result.slo.label, ms: result.slo.ms }, search, ...(result.plan ? { plan: result.plan } : {}), fixedRates: !result.search }));
      }
      for (const w of result.warnings) io.err(`fresco bench: warning: ${w}`);
      printData(io, json, result, () =>
        [
          `${ref} over ${result.transport} at ${result.server}, ${result.seconds} s per point, SLO ${result.slo.label}`,
          c.curveTable(result.points),
          ...(result.search ? [`highest rate meeting the SLO: ${result.search.best ? `${result.search.best.rate} req/s` : 'none tried'}${result.search.knee ? `; knee at ${result.search.knee.rate} req/s` : ''}`] : []),
          ...(result.peakRssMb !== undefined ? [`server RSS: ${result.peakRssMb.toFixed(0)} MB`] : []),
          ...(result.plan ? [c.planTable(result.plan)] : []),
        ].join('\n'),
      );
    });
}
