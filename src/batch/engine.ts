/**
 * The batch job's DuckDB engine: the offline store's Engine interface plus a second connection.
 * Why two: a streaming result is closed by the next statement run on its connection, and the
 * job appends scores while it is still streaming the part's rows. Tables the two share are
 * ordinary (not TEMP) tables of the in-memory database, which spills to `tempDir` past its limit.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { type OfflineEngine, openEngine } from '../offline/index.js';

export interface BatchEngine extends OfflineEngine {
  /** For appends while a result streams on `connection`. */
  writer: DuckDBConnection;
}

export async function openBatchEngine(options: { memoryLimit: string; threads: number; tempDir: string }): Promise<BatchEngine> {
  const engine = await openEngine(options);
  return Object.assign(engine, { writer: await engine.connect() });
}
