/**
 * Tail mode: `fresco push <source> --tail redis://host:port/<stream>` consumes a Redis Stream
 * through a consumer group (XREADGROUP), at most `batchSize` entries at a time. Each entry is one
 * row: either a single `json` field holding a JSON object, or one field per column (text). Good
 * entries of a batch are pushed together (push.ts: online store + lake), then acknowledged
 * (XACK), so a crash before the write leaves them pending and they are read again on restart
 * (this consumer's pending entries are read first). An entry that does not fit the source goes to
 * `<stream>:dead` with the reason and its original fields, and is acknowledged.
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { FrescoError } from '../errors/index.js';
import { loadProject, type Project } from '../features/project.js';
import type { OnlineStore } from './online-store.js';
import { openOnlineStore } from './open-store.js';
import type { PushRecord } from './push-input.js';
import { checkRows } from './push-validate.js';
import { push, requireSource, sourceColumns, tablesOf } from './push.js';

export interface TailOptions {
  project?: string | Project;
  source: string;
  /** `redis://host:port/<stream name>` */
  url: string;
  group?: string;
  /** Consumer name in the group (default: the host name; give each tail on one host its own). */
  consumer?: string;
  /** Most entries per read and per push (default 500). */
  batchSize?: number;
  /** How long one read waits for entries (default 1000 ms). */
  blockMs?: number;
  store?: OnlineStore;
  /** Stops the loop (checked between reads). */
  signal?: AbortSignal;
  /** Stop after this many reads that found nothing (default: never). */
  stopWhenIdle?: number;
  log?: (line: string) => void;
}

export interface TailStats {
  batches: number;
  rows: number;
  dead: number;
}

export function parseStreamUrl(url: string): { redis: string; stream: string } {
  const m = /^(rediss?:\/\/[^/]+)\/(.+)$/.exec(url);
  if (!m) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--tail "${url}" is not redis://host:port/<stream name>`, { location: { key: 'tail' } });
  return { redis: m[1]!, stream: decodeURIComponent(m[2]!) };
}

type Entry = [id: string, fields: string[]];

function toRecord(entry: Entry, k: number): PushRecord {
  const [, flat] = entry;
  const fields: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  if (flat.length === 2 && flat[0] === 'json') {
    const v = JSON.parse(flat[1]!) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('field "json" is not a JSON object');
    return { row: k + 1, fields: v as Record<string, unknown>, text: false };
  }
  return { row: k + 1, fields, text: true };
}

export async function tailStream(options: TailOptions): Promise<TailStats> {
  const log = options.log ?? (() => {});
  const project = typeof options.project === 'object' ? options.project : loadProject(options.project ?? '.');
  const source = requireSource(project, options.source);
  const columns = await sourceColumns(source, tablesOf(project, source.name));
  const { redis: url, stream } = parseStreamUrl(options.url);
  const group = options.group ?? 'fresco-push';
  // A stable default name, so a restarted tail finds its own pending entries.
  const consumer = options.consumer ?? hostname();
  const batchSize = Math.max(1, options.batchSize ?? 500);
  const dead = `${stream}:dead`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 2000 });
  client.on('error', () => {});
  const store = options.store ?? (await openOnlineStore(project.config));
  const stats: TailStats = { batches: 0, rows: 0, dead: 0 };
  try {
    try {
      await client.connect();
    } catch (error) {
      throw new FrescoError('FRESCO_ERR_ONLINE_UNAVAILABLE', `${url}: cannot connect to read stream "${stream}": ${(error as Error).message}`, { cause: error });
    }
    try {
      await client.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (error) {
      if (!/BUSYGROUP/.test((error as Error).message)) throw error;
    }
    let pendingFirst = true;
    let idle = 0;
    while (!options.signal?.aborted) {
      // This consumer's pending entries (a crash between write and XACK) come first, then new ones.
      const reply = (await client.xreadgroup('GROUP', group, consumer, 'COUNT', batchSize, 'BLOCK', pendingFirst ? 1 : (options.blockMs ?? 1000), 'STREAMS', stream, pendingFirst ? '0' : '>')) as [string, Entry[]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      const wasPending = pendingFirst;
      if (pendingFirst && entries.length < batchSize) pendingFirst = false;
      if (entries.length === 0) {
        if (wasPending) continue;
        if (options.stopWhenIdle !== undefined && ++idle >= options.stopWhenIdle) break;
        continue;
      }
      idle = 0;
      const good: PushRecord[] = [];
      const bad: { id: string; reason: string; fields: string[] }[] = [];
      for (const [k, entry] of entries.entries()) {
        const where = `stream ${stream} entry ${entry[0]}`;
        try {
          const record = toRecord(entry, good.length);
          checkRows([{ ...record, row: 1 }], columns, where, source.name);
          good.push(record);
        } catch (error) {
          bad.push({ id: entry[0], reason: (error as Error).message.replace(/^stream \S+ entry \S+: row 1, /, ''), fields: entry[1] });
          void k;
        }
      }
      if (good.length > 0) {
        const r = await push({ project, source: source.name, records: good, inputName: `stream ${stream}`, store });
        log(`${stream}: pushed ${good.length} rows (${r.tables.map((t) => `${t.table} ${t.written}`).join(', ')})${r.lakeFile ? ` -> ${r.lakeFile}` : ''}`);
      }
      for (const b of bad) {
        await client.xadd(dead, '*', 'id', b.id, 'reason', b.reason, ...b.fields);
        log(`${stream}: entry ${b.id} -> ${dead}: ${b.reason}`);
      }
      await client.xack(stream, group, ...entries.map((e) => e[0]));
      stats.batches++;
      stats.rows += good.length;
      stats.dead += bad.length;
    }
    return stats;
  } finally {
    client.disconnect();
    if (!options.store) await store.close();
  }
}
