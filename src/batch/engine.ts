/**
 * The batch job's DuckDB engine: the offline store's Engine interface plus a second connection.
 * Why two: a streaming result is closed by the next statement run on its connection, and the
 * job appends scores while it is still streaming the part's rows. Tables the two share are
 * ordinary (not TEMP) tables of the in-memory database, which spills to `tempDir` past its limit.
 */
import { mkdirSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { OfflineEngine } from '../offline/index.js';
import { quoteString } from '../offline/index.js';

export interface BatchEngine extends OfflineEngine {
  /** For appends while a result streams on `connection`. */
  writer: DuckDBConnection;
}

export async function openBatchEngine(options: { memoryLimit: string; threads: number; tempDir: string }): Promise<BatchEngine> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const writer = await instance.connect();
  const run = async (sql: string) => {
    await connection.run(sql);
  };
  await run("SET TimeZone = 'UTC'");
  await run(`SET memory_limit = ${quoteString(options.memoryLimit)}`);
  await run(`SET threads = ${Math.max(1, Math.floor(options.threads))}`);
  mkdirSync(options.tempDir, { recursive: true });
  await run(`SET temp_directory = ${quoteString(options.tempDir)}`);
  return {
    connection,
    writer,
    run,
    async rows(sql) {
      return (await connection.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];
    },
    async describe(relation) {
      const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
      return new Map(reader.getRowObjectsJS().map((row) => [String(row.column_name), String(row.column_type)]));
    },
    close() {
      writer.closeSync();
      connection.closeSync();
      instance.closeSync();
    },
  };
}
