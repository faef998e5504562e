/** `fresco materialize` and `fresco features get`: the online store (docs/online-store.md). */
import type { Command } from 'commander';
import { FrescoError } from '../errors/index.js';
import type { KeyValue } from '../online/row-codec.js';
import type { PushResult } from '../online/push.js';
import type { PushFormat } from '../online/push-input.js';
import { DEFAULT_PUSH_MAX_BYTES } from '../online/push-defaults.js';
import { type Io, printData, table } from './output.js';

const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

/** `--key driver_id=1001`: integers become numbers (the stored key text is the same either way). */
function parseKey(text: string): [string, KeyValue] {
  const m = /^([^=]+)=(.*)$/.exec(text);
  if (!m) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--key "${text}" is not name=value`, { location: { key: text } });
  return [m[1]!.trim(), /^-?\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!];
}

function progressBar(io: Io, json: boolean): (p: { table: string; rows: number; total: number }) => void {
  const tty = !json && process.stderr.isTTY;
  let lastLine = 0;
  return (p) => {
    const frac = p.total > 0 ? Math.min(1, p.rows / p.total) : 1;
    if (tty) {
      const width = 30;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      process.stderr.write(`\r${p.table} [${bar}] ${p.rows}/${p.total}${frac === 1 ? '\n' : ''}`);
    } else if (!json && (Date.now() - lastLine > 2000 || frac === 1)) {
      lastLine = Date.now();
      io.err(`${p.table}: ${p.rows}/${p.total} rows`);
    }
  };
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function pushSummary(r: PushResult): string {
  return [
    `${r.rows} rows pushed to source "${r.source}"`,
    table(['table', 'kind', 'written', 'skipped (older)', 'note'], r.tables.map((t) => [t.table, t.kind, t.written, t.skippedOlder, t.note ?? ''])),
    `store: ${r.store || '(none)'}`,
    `lake: ${r.lakeFile ?? '(not appended)'}`,
  ].join('\n');
}

function registerPushCommands(program: Command, io: Io, json: () => boolean): void {
  program
    .command('push <source> [file]')
    .description('check rows for a source, then write them to the online store and append them to the lake (file: .csv, .jsonl, .parquet, or - for stdin)')
    .option('--project <dir>', 'project folder', '.')
    .option('--format <format>', 'csv or jsonl (stdin; default jsonl), or override the file extension')
    .option('--online-only', 'write the online store only, not the lake')
    .option('--tail <url>', 'consume a Redis Stream instead: redis://host:port/<stream>')
    .option('--group <name>', 'consumer group of --tail', 'fresco-push')
    .option('--consumer <name>', 'consumer name of --tail (default: the host name; a restart with the same name re-reads its unacknowledged entries)')
    .option('--batch-size <n>', 'most entries per read and write with --tail', '500')
    .action(async (source: string, file: string | undefined, o: { project: string; format?: string; onlineOnly?: boolean; tail?: string; group: string; consumer?: string; batchSize: string }) => {
      if (o.format && !['csv', 'jsonl', 'parquet'].includes(o.format)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--format "${o.format}": use csv, jsonl or parquet`);
      if (o.tail) {
        if (file) throw new FrescoError('FRESCO_ERR_USAGE', 'give either a file or --tail, not both');
        // Each action imports what it runs (the stores, DuckDB, Redis) so that `--help` loads none.
        const { tailStream } = await import('../online/push-tail.js');
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          const stats = await tailStream({ project: o.project, source, url: o.tail, group: o.group, ...(o.consumer ? { consumer: o.consumer } : {}), batchSize: Number(o.batchSize), signal: controller.signal, log: (l) => !json() && io.err(l) });
          printData(io, json(), stats, () => `${stats.rows} rows pushed in ${stats.batches} batches; ${stats.dead} entries to the dead-letter stream`);
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
        return;
      }
      if (!file) throw new FrescoError('FRESCO_ERR_USAGE', 'push needs a file (or - for stdin) or --tail redis://host:port/<stream>');
      const format = o.format as PushFormat | undefined;
      const [{ formatOf, readPushInput }, { push }] = await Promise.all([import('../online/push-input.js'), import('../online/push.js')]);
      const records =
        file === '-'
          ? await readPushInput({ text: await readStdin(), format: format ?? 'jsonl', where: 'stdin' })
          : await readPushInput({ file, format: format ?? formatOf(file) });
      const result = await push({ project: o.project, source, records, inputName: file === '-' ? 'stdin' : file, onlineOnly: o.onlineOnly === true });
      printData(io, json(), result, () => pushSummary(result));
    });

  program
    .command('push-server')
    .description('serve POST /push/<source> (CSV or JSON lines body) behind a bearer token')
    .option('--project <dir>', 'project folder', '.')
    .option('--port <n>', 'port', '8787')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--token <token>', 'bearer token (default: $FRESCO_ADMIN_TOKEN)')
    .option('--max-bytes <n>', 'largest body accepted', String(DEFAULT_PUSH_MAX_BYTES))
    .action(async (o: { project: string; port: string; host: string; token?: string; maxBytes: string }) => {
      const { startPushServer } = await import('../online/push-server.js');
      const s = await startPushServer({ project: o.project, port: Number(o.port), host: o.host, maxBytes: Number(o.maxBytes), ...(o.token ? { token: o.token } : {}), onPush: (r) => io.err(`pushed ${r.rows} rows to ${r.source}`) });
      io.out(`push server listening on http://${o.host}:${s.port}/push/<source>`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await s.close();
    });
}

export function registerOnlineCommands(program: Command, io: Io): void {
  const json = () => program.opts().json === true;
  registerPushCommands(program, io, json);
  program
    .command('materialize')
    .description('write the latest feature values per entity in a time window from the offline store into the online store')
    .option('--project <dir>', 'project folder', '.')
    .option('--tables <list>', 'comma-separated feature tables (default: all)')
    .option('--start <time>', 'window start, inclusive (ISO 8601, UTC; default: the beginning)')
    .option('--end <time>', 'window end, inclusive (default: now)')
    .option('--incremental', 'start each table where its last completed run ended')
    .option('--chunk-rows <n>', 'rows per store write', '10000')
    .action(async (o: { project: string; tables?: string; start?: string; end?: string; incremental?: boolean; chunkRows: string }) => {
      const { materialize } = await import('../online/materialize.js');
      const result = await materialize({
        project: o.project,
        ...(list(o.tables) ? { tables: list(o.tables)! } : {}),
        ...(o.start ? { start: o.start } : {}),
        ...(o.end ? { end: o.end } : {}),
        incremental: o.incremental === true,
        chunkRows: Number(o.chunkRows),
        log: (line) => !json() && io.err(line),
        onProgress: progressBar(io, json()),
      });
      printData(io, json(), result, () =>
        [
          table(
            ['table', 'entities', 'written', 'skipped (older)', 'window', 'seconds'],
            result.tables.map((t) => [t.table, t.rows, t.written, t.skippedOlder, `${t.start} .. ${t.end}`, t.seconds.toFixed(2)]),
          ),
          `store: ${result.store}`,
          `quality: ${result.quality.summary}`,
        ].join('\n'),
      );
    });

  // The group may already hold list/describe (project-commands.ts).
  const features = program.commands.find((c) => c.name() === 'features') ?? program.command('features');
  features.description('feature definitions (list, describe) and online reads (get)');
  features
    .command('get <name>')
    .description('values, statuses (present, missing, expired) and event times of a feature table or service')
    .option('--project <dir>', 'project folder', '.')
    .option('--key <name=value>', 'an entity key (repeatable): different names form one composite key; a name given again starts the next entity', (v: string, acc: string[] = []) => [...acc, v])
    .option('--as-of <time>', 'measure TTLs from this time (default: now)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  fresco features get driver_model --key driver_id=1001                       # one entity',
        '  fresco features get driver_model --key driver_id=1001 --key driver_id=1002  # two entities',
        '  fresco features get trip_stats --key driver_id=1001 --key city=paris        # one composite key',
      ].join('\n'),
    )
    .action(async (name: string, o: { project: string; key?: string[]; asOf?: string }) => {
      if (!o.key?.length) throw new FrescoError('FRESCO_ERR_USAGE', 'features get needs at least one --key name=value');
      // Keys with the same name start a new entity: --key a=1 --key a=2 reads two entities.
      const entities: Record<string, KeyValue>[] = [];
      for (const k of o.key) {
        const [n, v] = parseKey(k);
        const last = entities[entities.length - 1];
        if (!last || n in last) entities.push({ [n]: v });
        else last[n] = v;
      }
      let asOf: Date | undefined;
      if (o.asOf) {
        asOf = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(o.asOf) ? o.asOf : `${o.asOf.replace(' ', 'T')}Z`);
        if (Number.isNaN(asOf.getTime())) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--as-of "${o.asOf}" is not a time`);
      }
      const { getOnlineFeatures } = await import('../online/get-online-features.js');
      const result = await getOnlineFeatures({ project: o.project, features: name, entities, ...(asOf ? { asOf } : {}) });
      printData(io, json(), result, () =>
        result.rows
          .map((r) =>
            [
              `${Object.entries(r.entity).map(([k, v]) => `${k}=${String(v)}`).join(' ')}  ${Object.entries(r.statuses).map(([t, s]) => `${t}: ${s}${r.eventTimes[t] ? ` @ ${r.eventTimes[t]}` : ''}`).join(', ')}`,
              table(['feature', 'value'], result.columns.map((c) => [c.name, r.values[c.name] instanceof Date ? (r.values[c.name] as Date).toISOString() : String(r.values[c.name])])),
            ].join('\n'),
          )
          .join('\n\n'),
      );
    });
}
