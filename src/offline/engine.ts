/**
 * The embedded offline engine: one DuckDB instance per pipeline run, in UTC, with a spill folder
 * so that joins larger than memory page out instead of failing.
 */
import { mkdirSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { quoteString } from './read-columns.js';

export interface EngineOptions {
  /** DuckDB memory limit, e.g. '3GB' (default: DuckDB's, 80% of RAM). */
  memoryLimit?: string;
  /** Worker threads (default: DuckDB's, one per core). */
  threads?: number;
  /** Folder DuckDB may spill to. */
  tempDir?: string;
}

export interface Engine {
  connection: DuckDBConnection;
  run(sql: string): Promise<void>;
  /** Rows as plain JS objects (bigint stays bigint; timestamps as DuckDB values). */
  rows(sql: string): Promise<Record<string, unknown>[]>;
  /** Column name -> DuckDB type of a relation. */
  describe(relation: string): Promise<Map<string, string>>;
  /** Another connection to the same database (closed by close()): a streaming result is closed
   *  by the next statement on its own connection, so work beside a stream needs a second one. */
  connect(): Promise<DuckDBConnection>;
  close(): void;
}

export async function openEngine(options: EngineOptions = {}): Promise<Engine> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const others: DuckDBConnection[] = [];
  const run = async (sql: string) => {
    await connection.run(sql);
  };
  await run("SET TimeZone = 'UTC'");
  if (options.memoryLimit) await run(`SET memory_limit = ${quoteString(options.memoryLimit)}`);
  if (options.threads) await run(`SET threads = ${Math.max(1, Math.floor(options.threads))}`);
  if (options.tempDir) {
    mkdirSync(options.tempDir, { recursive: true });
    await run(`SET temp_directory = ${quoteString(options.tempDir)}`);
  }
  return {
    connection,
    run,
    async rows(sql) {
      return (await connection.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];
    },
    async describe(relation) {
      const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
      return new Map(reader.getRowObjectsJS().map((row) => [String(row.column_name), String(row.column_type)]));
    },
    async connect() {
      const extra = await instance.connect();
      others.push(extra);
      return extra;
    },
    close() {
      for (const other of others) other.closeSync();
      connection.closeSync();
      instance.closeSync();
    },
  };
}
