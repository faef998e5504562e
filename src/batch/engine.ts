/**
 * The batch job's DuckDB engine: the offline store's Engine interface (staging: reads and feature
 * joins) plus one connection per concurrent role, so that the stages of consecutive parts overlap
 * (staging part k+1, reading part k into the plan and the model, writing part k-1). Why separate
 * connections: a connection runs one statement at a time, and a streaming result is closed by the
 * next statement run on its connection. Tables the roles share are ordinary (not TEMP) tables of
 * the in-memory database, which spills to `tempDir` past its limit; the feature tables of a join
 * are TEMP tables of the staging connection, which alone reads them.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { type OfflineEngine, openEngine } from '../offline/index.js';

export interface BatchEngine extends OfflineEngine {
  /** Streams a staged part to the plan (and creates its per-part ENUM types). */
  reading: OfflineEngine;
  /** Writes finished parts (COPY ... TO) and drops their tables. */
  writing: OfflineEngine;
  /** Appends scores while a result streams on `reading`. */
  writer: DuckDBConnection;
}

/** The Engine interface over another connection of the same database. */
function engineOn(base: OfflineEngine, connection: DuckDBConnection): OfflineEngine {
  return {
    connection,
    async run(sql) {
      await connection.run(sql);
    },
    async rows(sql) {
      return (await connection.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];
    },
    async describe(relation) {
      const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
      return new Map(reader.getRowObjectsJS().map((row) => [String(row.column_name), String(row.column_type)]));
    },
    connect: () => base.connect(),
    close: () => base.close(),
  };
}

export async function openBatchEngine(options: { memoryLimit: string; threads: number; tempDir: string }): Promise<BatchEngine> {
  const engine = await openEngine(options);
  // DuckDB's allocator keeps freed memory per thread up to a threshold (128 MiB by default) before
  // it returns it: with three connections working at once, that retention, not the data, set the
  // job's peak memory. Return it sooner, from a background thread.
  await engine.run("SET allocator_flush_threshold = '8MB'");
  await engine.run('SET allocator_background_threads = true');
  const connect = async () => {
    const connection = await engine.connect();
    // The time zone is a per-connection setting: every role reads timestamps as UTC, as the engine does.
    await connection.run("SET TimeZone = 'UTC'");
    return connection;
  };
  const reading = engineOn(engine, await connect());
  const writing = engineOn(engine, await connect());
  return Object.assign(engine, { reading, writing, writer: await connect() });
}
