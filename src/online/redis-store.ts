/**
 * The Redis online store (ioredis), for serving from more than one machine. One key per entity
 * row, holding the same binary row encoding as the embedded store (row-codec.ts):
 *   <prefix>r:<table>:<entity key>   the row       <prefix>m:<table>   the table header
 *   <prefix>tables                   a set of table names
 * A Redis Cluster is addressed with `cluster: [host:port, ...]`; rows spread over its slots.
 *
 * Writes go through a Lua script that skips a row older than the stored one (idempotent replays).
 * On a single server one script call writes a whole batch, atomically for readers; on a cluster
 * a script may only touch one slot, so each row is written whole (never torn) but a batch is not
 * one unit. Every call is bounded by `timeoutMs`: an unreachable server is
 * FRESCO_ERR_ONLINE_UNAVAILABLE, never a hang, and the client keeps reconnecting in the background.
 */
import { Cluster, Redis } from 'ioredis';
import { FrescoError } from '../errors/index.js';
import type { OnlineReadResult, OnlineReadRow, OnlineRow, OnlineStore, OnlineReadOptions, WriteStats } from './online-store.js';
import { asOfMs, statusOf } from './online-store.js';
import { decodeMeta, decodeRow, encodeEntityKey, encodeMeta, encodeRow, rowTime, schemaHash, type KeyValue, type TableSchema } from './row-codec.js';

export interface RedisStoreOptions {
  /** `redis://host:port[/db]` (single server). */
  url?: string;
  /** Cluster seed nodes, `host:port`; when given, `url` is ignored. */
  cluster?: string[];
  /** Key prefix (default `fresco:`); the project name keeps projects apart on one server. */
  prefix?: string;
  /** Bound on every call, connecting included (default 2000 ms). */
  timeoutMs?: number;
}

// Writes rows unless the stored row (same schema hash, bytes 5-8) has a later event time
// (bytes 9-16, little-endian int64). Returns the number skipped.
const PUT_IF_NEWER = `
local function ts(s)
  local v = 0
  for k = 16, 9, -1 do v = v * 256 + string.byte(s, k) end
  if string.byte(s, 16) >= 128 then v = v - 18446744073709551616 end
  return v
end
local skipped = 0
for i, key in ipairs(KEYS) do
  local new = ARGV[i]
  local old = redis.call('GET', key)
  if old and string.len(old) >= 16 and string.sub(old, 5, 8) == string.sub(new, 5, 8) and ts(old) > ts(new) then
    skipped = skipped + 1
  else
    redis.call('SET', key, new)
  end
end
return skipped`;

type Client = Redis | Cluster;

export class RedisOnlineStore implements OnlineStore {
  readonly kind = 'redis' as const;
  readonly id: string;
  readonly #client: Client;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #where: string;
  readonly #cache = new Map<string, { schema: TableSchema; hash: number }>();
  #closed = false;

  private constructor(client: Client, options: RedisStoreOptions, where: string) {
    this.#client = client;
    this.#prefix = options.prefix ?? 'fresco:';
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#where = where;
    this.id = `redis:${where.replace(/^Redis (cluster )?/, '')}/${this.#prefix}`;
  }

  /** Connects (bounded by timeoutMs); FRESCO_ERR_ONLINE_UNAVAILABLE when the server does not answer. */
  static async open(options: RedisStoreOptions): Promise<RedisOnlineStore> {
    const timeoutMs = options.timeoutMs ?? 2000;
    const retry = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 1000);
    let client: Client;
    let where: string;
    if (options.cluster && options.cluster.length > 0) {
      where = `Redis cluster ${options.cluster.join(',')}`;
      const nodes = options.cluster.map((n) => {
        const m = /^(.*):(\d+)$/.exec(n);
        if (!m) throw new FrescoError('FRESCO_ERR_CONFIG_INVALID', `online.cluster: "${n}" is not host:port`, { location: { key: 'online.cluster' } });
        return { host: m[1]!, port: Number(m[2]) };
      });
      client = new Cluster(nodes, {
        lazyConnect: true,
        clusterRetryStrategy: retry,
        slotsRefreshTimeout: timeoutMs,
        redisOptions: { connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 1 },
      });
    } else {
      const url = options.url ?? 'redis://127.0.0.1:6379';
      where = `Redis ${url}`;
      client = new Redis(url, {
        lazyConnect: true,
        enableOfflineQueue: false,
        connectTimeout: timeoutMs,
        commandTimeout: timeoutMs,
        maxRetriesPerRequest: 1,
        retryStrategy: retry,
      });
    }
    // Connection errors surface through calls; without a listener ioredis would log them.
    client.on('error', () => {});
    const store = new RedisOnlineStore(client, options, where);
    try {
      await store.#bounded('connect', client.connect());
      if (client instanceof Redis) await store.#bounded('ping', client.ping());
    } catch (error) {
      client.disconnect();
      throw error;
    }
    client.defineCommand('frescoPutIfNewer', { lua: PUT_IF_NEWER });
    return store;
  }

  /** Runs a Redis call under the store's time bound, mapping failures to Fresco errors. */
  async #bounded<T>(what: string, call: Promise<T>): Promise<T> {
    if (this.#closed) throw new FrescoError('FRESCO_ERR_ONLINE_STORE', `${this.#where}: the store is closed`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FrescoError('FRESCO_ERR_ONLINE_UNAVAILABLE', `${this.#where} did not answer ${what} within ${this.#timeoutMs} ms; is redis-server running? (Fresco reconnects when it returns)`)),
        this.#timeoutMs,
      );
    });
    try {
      return await Promise.race([call, timeout]);
    } catch (error) {
      if (error instanceof FrescoError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      const reply = (error as { name?: string }).name === 'ReplyError';
      throw new FrescoError(reply ? 'FRESCO_ERR_ONLINE_STORE' : 'FRESCO_ERR_ONLINE_UNAVAILABLE', `${this.#where}: ${what} failed: ${message}`, { cause: error });
    } finally {
      clearTimeout(timer);
      call.catch(() => {});
    }
  }

  #rowKey(table: string, entity: string): string {
    return `${this.#prefix}r:${table}:${entity}`;
  }

  #metaKey(table: string): string {
    return `${this.#prefix}m:${table}`;
  }

  async #load(table: string): Promise<{ schema: TableSchema; hash: number } | undefined> {
    const b = await this.#bounded('GET', this.#client.getBuffer(this.#metaKey(table)));
    if (!b) {
      this.#cache.delete(table);
      return undefined;
    }
    const schema = decodeMeta(b);
    const c = { schema, hash: schemaHash(schema) };
    this.#cache.set(table, c);
    return c;
  }

  async #require(table: string, fresh = false): Promise<{ schema: TableSchema; hash: number }> {
    const c = (fresh ? undefined : this.#cache.get(table)) ?? (await this.#load(table));
    if (!c) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `the online store has no table "${table}"; run \`fresco materialize\``, { location: { key: table } });
    return c;
  }

  async defineTable(schema: TableSchema): Promise<void> {
    const old = await this.#load(schema.name);
    if (old && old.hash !== schemaHash(schema)) await this.#deleteRows(schema.name, () => true);
    await this.#bounded('SET', this.#client.set(this.#metaKey(schema.name), encodeMeta(schema)));
    await this.#bounded('SADD', this.#client.sadd(`${this.#prefix}tables`, schema.name));
    this.#cache.delete(schema.name);
  }

  async schema(table: string): Promise<TableSchema | undefined> {
    return (await this.#load(table))?.schema;
  }

  async tables(): Promise<string[]> {
    return (await this.#bounded('SMEMBERS', this.#client.smembers(`${this.#prefix}tables`))).sort();
  }

  async write(table: string, rows: readonly OnlineRow[]): Promise<WriteStats> {
    const { schema, hash } = await this.#require(table, true);
    const keys = rows.map((r) => this.#rowKey(table, r.entityKey ?? encodeEntityKey(schema, r.key)));
    const values = rows.map((r) => encodeRow(schema, r.eventTime, r.values, hash));
    const put = (this.#client as unknown as { frescoPutIfNewer(n: number, ...args: (string | Buffer)[]): Promise<number> }).frescoPutIfNewer.bind(this.#client);
    let skipped = 0;
    if (this.#client instanceof Cluster) {
      const results = await this.#bounded('EVALSHA', Promise.all(keys.map((k, i) => put(1, k, values[i]!))));
      skipped = results.reduce((a, b) => a + Number(b), 0);
    } else if (keys.length > 0) {
      skipped = Number(await this.#bounded('EVALSHA', put(keys.length, ...keys, ...values)));
    }
    return { written: rows.length - skipped, skippedOlder: skipped };
  }

  async #get(keys: string[]): Promise<(Buffer | null)[]> {
    if (keys.length === 0) return [];
    if (this.#client instanceof Cluster) return this.#bounded('GET', Promise.all(keys.map((k) => this.#client.getBuffer(k))));
    return this.#bounded('MGET', this.#client.mgetBuffer(...keys));
  }

  async read(table: string, keys: readonly (readonly KeyValue[])[], options?: OnlineReadOptions): Promise<OnlineReadResult> {
    let c = await this.#require(table);
    const asOf = asOfMs(options);
    const stored = await this.#get(keys.map((k) => this.#rowKey(table, encodeEntityKey(c.schema, k))));
    // A row of another schema hash: the table may have been redeclared elsewhere; reload once.
    if (stored.some((b) => b && b.length >= 8 && b.readUInt32LE(4) !== c.hash)) c = await this.#require(table, true);
    const n = c.schema.features.length;
    const rows: OnlineReadRow[] = stored.map((b) => {
      const decoded = b ? decodeRow(b, c.schema, c.hash) : undefined;
      if (!decoded) return { status: 'missing', eventTime: null, values: new Array(n).fill(null) };
      const status = statusOf(decoded.eventTime, c.schema, asOf);
      return { status, eventTime: decoded.eventTime, values: status === 'present' ? decoded.values : new Array(n).fill(null) };
    });
    return { table: c.schema.name, features: c.schema.features.map((f) => f.name), rows };
  }

  async delete(table: string, keys: readonly (readonly KeyValue[])[]): Promise<number> {
    const { schema } = await this.#require(table);
    const ks = keys.map((k) => this.#rowKey(table, encodeEntityKey(schema, k)));
    if (ks.length === 0) return 0;
    const counts = await this.#bounded('DEL', Promise.all(ks.map((k) => this.#client.del(k))));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Calls `each` with every batch of the table's row keys, SCANned on every master of a cluster. */
  async #scanRows(table: string, each: (node: Redis, keys: string[]) => Promise<void> | void): Promise<void> {
    const nodes = this.#client instanceof Cluster ? this.#client.nodes('master') : [this.#client];
    const match = `${this.#prefix}r:${table}:*`.replace(/[?[\]]/g, '\\$&');
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await this.#bounded('SCAN', node.scan(cursor, 'MATCH', match, 'COUNT', 1000));
        cursor = next;
        if (keys.length > 0) await each(node, keys);
      } while (cursor !== '0');
    }
  }

  /** Deletes the table's rows that `pick` selects. */
  async #deleteRows(table: string, pick: (row: Buffer) => boolean): Promise<number> {
    let deleted = 0;
    await this.#scanRows(table, async (node, keys) => {
      const rows = await this.#bounded('GET', Promise.all(keys.map((k) => node.getBuffer(k))));
      const doomed = keys.filter((_, i) => rows[i] && pick(rows[i]!));
      if (doomed.length > 0) deleted += (await this.#bounded('DEL', Promise.all(doomed.map((k) => node.del(k))))).reduce((a, b) => a + b, 0);
    });
    return deleted;
  }

  async expire(table: string, before: Date | number): Promise<number> {
    const cutoff = typeof before === 'number' ? before : before.getTime();
    return this.#deleteRows(table, (row) => (rowTime(row) ?? -Infinity) < cutoff);
  }

  async dropTable(table: string): Promise<void> {
    await this.#deleteRows(table, () => true);
    await this.#bounded('DEL', this.#client.del(this.#metaKey(table)));
    await this.#bounded('SREM', this.#client.srem(`${this.#prefix}tables`, table));
    this.#cache.delete(table);
  }

  async count(table: string): Promise<number> {
    let n = 0;
    await this.#scanRows(table, (_, keys) => {
      n += keys.length;
    });
    return n;
  }

  /** The underlying client (the stream tail uses it). */
  get client(): Client {
    return this.#client;
  }

  get prefix(): string {
    return this.#prefix;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.disconnect();
  }
}
