/**
 * `fresco bench serve --sweep`: the serving settings that decide capacity (instances, max batch
 * size, max queue delay, intra-op threads) and the transport, explored as model_analyzer does:
 * every combination gets a server of its own, started with those settings, and a search for its
 * highest rate at the SLO; the results are ranked by that rate, then by cost (cores, memory).
 * The server's own configuration (`GET /v2/models/{name}/config`) is recorded with each, so a
 * setting that did not reach the server shows.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrescoError } from '../errors/index.js';
import type { Transport } from './requests.js';
import { benchServe, type BenchServeOptions, type MeasuredPoint } from './serve-bench.js';

const SETTINGS = { instances: 'instances', 'max-batch-size': 'maxBatchSize', 'max-queue-delay': 'maxQueueDelayMs', 'intra-op-threads': 'intraOpThreads' } as const;
type SettingName = keyof typeof SETTINGS;
export const MAX_CONFIGURATIONS = 32;

export interface SweepSpace {
  settings: Partial<Record<SettingName, number[]>>;
  transports?: Transport[];
}

/** ["instances=1,2", "max-batch-size=1,64", "transport=ws,kserve"] -> a space. */
export function parseSweep(items: readonly string[]): SweepSpace {
  const space: SweepSpace = { settings: {} };
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq);
    const values = item.slice(eq + 1).split(',').map((v) => v.trim()).filter(Boolean);
    if (eq <= 0 || !values.length) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--sweep "${item}" must look like instances=1,2`);
    if (name === 'transport') {
      const bad = values.find((v) => !['ws', 'http', 'kserve'].includes(v));
      if (bad) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--sweep transport: "${bad}" is not ws, http or kserve`);
      space.transports = values as Transport[];
    } else if (name in SETTINGS) {
      const nums = values.map(Number);
      const bad = values.find((v, i) => !(nums[i]! >= 0) || (name !== 'max-queue-delay' && !Number.isInteger(nums[i])));
      if (bad !== undefined) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--sweep ${name}: "${bad}" is not a ${name === 'max-queue-delay' ? 'number of milliseconds' : 'whole number'}`);
      space.settings[name as SettingName] = nums;
    } else {
      throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--sweep "${name}": sweepable are ${[...Object.keys(SETTINGS), 'transport'].join(', ')}`);
    }
  }
  return space;
}

export interface Configuration {
  /** Serving settings as the config file names them (maxBatchSize...). */
  settings: Record<string, number>;
  transport?: Transport;
}

/** Every combination of the space's values. */
export function configurations(space: SweepSpace): Configuration[] {
  let out: Configuration[] = [{ settings: {} }];
  for (const [name, values] of Object.entries(space.settings) as [SettingName, number[]][]) {
    out = out.flatMap((c) => values.map((v) => ({ ...c, settings: { ...c.settings, [SETTINGS[name]]: v } })));
  }
  if (space.transports) out = out.flatMap((c) => space.transports!.map((t) => ({ ...c, transport: t })));
  if (out.length > MAX_CONFIGURATIONS) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--sweep names ${out.length} combinations; at most ${MAX_CONFIGURATIONS} (each is a search of its own)`);
  return out;
}

export interface SweepEntry extends Configuration {
  /** Highest rate that met the SLO (answered/s at that point), 0 when none did. */
  maxRate: number;
  best?: MeasuredPoint;
  /** Cores busy at the best point, and the server's peak RSS (MB). */
  cores?: number;
  rssMb?: number;
  /** maxRate per busy core: the cost ranking. */
  ratePerCore?: number;
  /** What the server reported for the model (`/v2/models/{name}/config`): instance count, max batch size, queue delay (µs). */
  applied?: { instances?: number; maxBatchSize?: number; maxQueueDelayUs?: number };
  warnings: string[];
}

export interface SweepResult {
  /** Best first: highest rate at the SLO; ties by fewer cores, then less memory. */
  ranked: SweepEntry[];
  /** Ranked by rate per busy core (where measured). */
  byCost: SweepEntry[];
}

export async function sweep(o: BenchServeOptions, space: SweepSpace, onEntry?: (e: SweepEntry) => void): Promise<SweepResult> {
  if (!o.project || o.url) throw new FrescoError('FRESCO_ERR_USAGE', '--sweep starts a server per configuration: give --project (and no --url)');
  const configs = configurations(space);
  const dir = mkdtempSync(join(tmpdir(), 'fresco-sweep-'));
  const entries: SweepEntry[] = [];
  try {
    for (const [i, c] of configs.entries()) {
      const file = join(dir, `serving-${i}.json`); // JSON is YAML: `fresco serve --config` reads it
      writeFileSync(file, JSON.stringify({ defaults: c.settings }));
      let applied: SweepEntry['applied'];
      const r = await benchServe({
        ...o,
        ...(c.transport ? { transport: c.transport } : {}),
        serveArgs: [...(o.serveArgs ?? []), '--config', file],
        onServerReady: async (httpBase: string) => {
          const res = await fetch(`${httpBase}/v2/models/${encodeURIComponent(o.ref.split('@')[0]!)}/config`);
          if (!res.ok) return;
          const cfg = (await res.json()) as { max_batch_size?: number; instance_group?: { count?: number }[]; dynamic_batching?: { max_queue_delay_microseconds?: number } };
          applied = { ...(cfg.instance_group?.[0]?.count !== undefined ? { instances: cfg.instance_group[0].count } : {}), ...(cfg.max_batch_size !== undefined ? { maxBatchSize: cfg.max_batch_size } : {}), ...(cfg.dynamic_batching?.max_queue_delay_microseconds !== undefined ? { maxQueueDelayUs: cfg.dynamic_batching.max_queue_delay_microseconds } : {}) };
        },
      });
      const best = r.search?.best as MeasuredPoint | undefined;
      const maxRate = best?.throughput ?? 0;
      const e: SweepEntry = { ...c, maxRate, ...(best ? { best } : {}), ...(best?.serverCores !== undefined ? { cores: best.serverCores, ratePerCore: maxRate / Math.max(best.serverCores, 0.01) } : {}), ...(r.peakRssMb !== undefined ? { rssMb: r.peakRssMb } : {}), ...(applied ? { applied } : {}), warnings: r.warnings };
      entries.push(e);
      onEntry?.(e);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ranked = [...entries].sort((a, b) => b.maxRate - a.maxRate || (a.cores ?? Infinity) - (b.cores ?? Infinity) || (a.rssMb ?? Infinity) - (b.rssMb ?? Infinity));
  const byCost = [...entries].sort((a, b) => (b.ratePerCore ?? -1) - (a.ratePerCore ?? -1));
  return { ranked, byCost };
}

export function sweepTable(r: SweepResult): string {
  const head = ['rank', 'settings', 'transport', 'max rate/s', 'p99 ms', 'cores', 'rate/core', 'RSS MB'];
  const rows = r.ranked.map((e, i) => [
    String(i + 1),
    Object.entries(e.settings).map(([k, v]) => `${k}=${v}`).join(' ') || '(defaults)',
    e.transport ?? '-',
    String(Math.round(e.maxRate)),
    e.best ? e.best.p99.toFixed(2) : '-',
    e.cores !== undefined ? e.cores.toFixed(2) : '-',
    e.ratePerCore !== undefined ? String(Math.round(e.ratePerCore)) : '-',
    e.rssMb !== undefined ? e.rssMb.toFixed(0) : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  return [head, ...rows].map((cells) => cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}
