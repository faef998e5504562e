/** A small synthetic feature-store project for the training tests: one feature table, labels that depend on it. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { applyProject } from '../src/features/project.js';

async function sql(statements: string[]): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (const s of statements) await connection.run(s);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export const SPEC = `score = @store_stats.score
x1 = @request.x1
x2 = @request.x2
hour = hour(@request.ts)
`;

export const FILLED_SPEC = `score = fill_null(@store_stats.score, 0)
x1 = standardize(@request.x1)
x2 = fill_mean(@request.x2)
`;

/** A project with `rows` labels over 2001 (hourly), stores s0..s19, and a train.yaml writer. */
export async function makeProject(rows = 6000): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-train-'));
  mkdirSync(join(dir, 'features'), { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'fresco.yaml'), 'project: traintest\n');
  writeFileSync(
    join(dir, 'features', 'stores.yaml'),
    `entities:
  - name: store
    join_keys: [store]
sources:
  - name: stats
    path: data/stats.parquet
    timestamp: ts
feature_tables:
  - name: store_stats
    entities: [store]
    source: stats
    features:
      - { name: score, type: float64 }
feature_services:
  - name: svc
    features: [store_stats.*]
`,
  );
  const u = (salt: string, col = 'i') => `((hash(${col} * 7919 + ${salt.length}) % 1000000) / 1000000.0)`;
  await sql([
    `COPY (SELECT 's' || (i % 20) AS store, TIMESTAMP '2001-01-01' + INTERVAL (i * 6) HOUR AS ts, ${u('a')} AS score FROM range(0, 20 * 240) t(i)) TO '${join(dir, 'data', 'stats.parquet')}' (FORMAT parquet)`,
    `COPY (
       WITH base AS (SELECT i, 's' || (i % 20) AS store, TIMESTAMP '2001-01-02' + INTERVAL (i * ${Math.floor((360 * 24) / rows)}) HOUR AS ts, ${u('bb')} * 2 - 1 AS x1,
                            CASE WHEN i % 7 = 0 THEN NULL ELSE ${u('ccc')} END AS x2, ${u('dddd')} AS noise FROM range(0, ${rows}) t(i))
       SELECT ts, store, x1, x2, (x1 + coalesce(x2, 0.5) * 2 + noise * 1.5 - 1.75 > 0) AS label, x1 * 3 + coalesce(x2, 0.5) + noise AS target, 'a' AS text FROM base
     ) TO '${join(dir, 'data', 'labels.parquet')}' (FORMAT parquet)`,
  ]);
  writeFileSync(join(dir, 'model.features'), SPEC);
  writeFileSync(join(dir, 'filled.features'), FILLED_SPEC);
  applyProject(dir);
  return dir;
}

export function trainYaml(overrides: { algorithm?: string; label?: string; task?: string; extra?: string; features?: string } = {}): string {
  return `name: test-model
dataset:
  labels: data/labels.parquet
  timestamp: ts
  features: [svc]
features: ${overrides.features ?? 'model.features'}
label: ${overrides.label ?? 'label'}
task: ${overrides.task ?? 'binary'}
algorithm:
${overrides.algorithm ?? '  type: gbdt\n  params: { iterations: 60, learning_rate: 0.2, max_leaves: 15, threads: 1 }'}
split: { test_fraction: 0.2, validation_fraction: 0.15 }
seed: 7
${overrides.extra ?? ''}`;
}
