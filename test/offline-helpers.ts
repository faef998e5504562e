import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** A fresh copy of a fixture project (tests write .fresco/ state into it). */
export function copyFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fresco-${name}-`));
  cpSync(new URL(`./fixtures/offline/${name}`, import.meta.url), dir, { recursive: true });
  return dir;
}

/** Rows of a query as JS values (timestamps as Dates in UTC, bigints as bigints). */
export async function sqlRows<T = Record<string, unknown>>(text: string): Promise<T[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    return (await connection.runAndReadAll(text)).getRowObjectsJS() as T[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Rows of a query, JSON-friendly (timestamps as 'YYYY-MM-DD hh:mm:ss', bigints as strings). */
export async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
