// A flights-like project for the dataframe contract tests: two online tables keyed by airport,
// read for a flight's origin (`origin_stats`, no TTL) and its destination (`dest_live`, TTL 1 h)
// through join_key_map, and a registered dataframe model whose plan reads both tables' features
// plus the request fields `date` (a timestamp: hour, day_of_week), `distance` and `origin`.
// So a caller sends the keys `origin` and `destination` and the fields `date`, `distance`,
// `origin`; the server looks up `origin_stats.avg_delay` and `dest_live.queue` itself.
//
// Data: origin_stats has SFO, JFK, ORD; dest_live has a fresh row for SFO, an expired one for
// JFK, none for ORD. ZZZ is in neither table.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { mlpOnnx } from '../models/generate.js';
import { applyProject, loadProject } from '../src/features/project.js';
import { writeManifest } from '../src/models/package.js';
import { EmbeddedOnlineStore, materialize } from '../src/online/index.js';
import type { Plan } from '../src/plan/index.js';
import { ModelRegistry } from '../src/registry/index.js';
import { FrescoServer, type ModelSettingsInput } from '../src/serving/index.js';
import { requestKeyNames } from '../src/serving/online-lookup.js';

export const MODEL = 'flight-risk';
export const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const T2 = Date.UTC(2024, 0, 2);

export const plan = {
  format: 'fresco.plan',
  version: 1,
  inputs: [
    { name: 'origin_stats.avg_delay', type: 'num' }, // 0
    { name: 'dest_live.queue', type: 'num' }, // 1
    { name: 'request.date', type: 'num' }, // 2
    { name: 'request.distance', type: 'num' }, // 3
    { name: 'request.origin', type: 'str' }, // 4
  ],
  ops: [
    { op: 'fill_null', args: [0], value: 0 }, // 5
    { op: 'fill_null', args: [1], value: -1 }, // 6
    { op: 'hour', args: [2] }, // 7
    { op: 'day_of_week', args: [2] }, // 8
    { op: 'fill_null', args: [3], value: 0 }, // 9
    { op: 'one_hot', args: [4], categories: ['SFO', 'JFK', 'ORD'] }, // 10..13
  ],
  outputs: [5, 6, 7, 8, 9, 10, 11, 12, 13],
  output_names: ['avg_delay', 'queue', 'hour', 'dow', 'distance', 'sfo', 'jfk', 'ord', 'other'],
} as Plan;

/** Writes, applies and materializes the project and registers flight-risk@production; returns its folder. */
export async function writeDataframeProject(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'fresco-dataframe-contract-'));
  mkdirSync(join(root, 'features'));
  mkdirSync(join(root, 'data'));
  writeFileSync(join(root, 'fresco.yaml'), 'project: dataframe_contract\n');
  writeFileSync(
    join(root, 'features', 'airports.yaml'),
    `entities:
  - { name: airport, join_keys: [airport] }
sources:
  - { name: airport_stats, path: data/airport_stats.csv, timestamp: event_timestamp }
  - { name: airport_live, path: data/airport_live.csv, timestamp: event_timestamp }
feature_tables:
  - name: origin_stats
    entities: [airport]
    source: airport_stats
    join_key_map: { airport: origin }
    features:
      - { name: avg_delay, type: float64 }
  - name: dest_live
    entities: [airport]
    source: airport_live
    ttl: 1h
    join_key_map: { airport: destination }
    features:
      - { name: queue, type: float32 }
`,
  );
  writeFileSync(join(root, 'data', 'airport_stats.csv'), `event_timestamp,airport,avg_delay\n${iso(T2)},SFO,12.5\n${iso(T2)},JFK,20.5\n${iso(T2)},ORD,7.5\n`);
  writeFileSync(join(root, 'data', 'airport_live.csv'), `event_timestamp,airport,queue\n${iso(NOW - 10 * 60_000)},SFO,3\n${iso(T2)},JFK,7\n`);
  applyProject(root);
  await materialize({ project: root, end: new Date(NOW) });
  await registerPlanModel(root, { name: MODEL, plan, hidden: 8, seed: 5 });
  return root;
}

/**
 * A dataframe package (the plan + an ONNX MLP over its outputs, output `risk`) registered in the
 * project's registry as `<name>@production`. Returns the package folder.
 */
export async function registerPlanModel(root: string, m: { name: string; plan: Plan; hidden: number; seed: number; description?: string }): Promise<string> {
  const pkg = join(root, 'pkg', m.name);
  mkdirSync(pkg, { recursive: true });
  const width = m.plan.outputs.length;
  writeFileSync(join(pkg, 'model.onnx'), mlpOnnx({ inputs: width, hidden: m.hidden, outputs: 1, seed: m.seed, input: 'features', output: 'risk', sigmoid: true }));
  await writeManifest(pkg, {
    name: m.name,
    ...(m.description ? { description: m.description } : {}),
    backend: 'onnx',
    model: 'model.onnx',
    input_kind: 'dataframe',
    signature: { inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', width] }], outputs: [{ name: 'risk', dtype: 'float32', shape: ['batch', 1] }] },
    plan: m.plan as unknown as Record<string, unknown>,
  });
  const registry = ModelRegistry.open(join(root, '.fresco', 'registry'));
  try {
    await registry.register(pkg, { aliases: ['production'] });
  } finally {
    registry.close();
  }
  return pkg;
}

/** Runs `fn` against a server of flight-risk@production over the project's embedded store. */
export async function withDataframeServer<T>(root: string, fn: (server: FrescoServer) => Promise<T>, settings: ModelSettingsInput = {}, grpc = false): Promise<T> {
  const store = new EmbeddedOnlineStore(join(root, '.fresco', 'online'));
  const registry = ModelRegistry.open(join(root, '.fresco', 'registry'));
  const server = new FrescoServer({
    port: 0,
    ...(grpc ? { grpcPort: 0 } : {}),
    registry,
    models: [`${MODEL}@production`],
    onlineStore: store,
    onlineKeyNames: requestKeyNames(loadProject(root)),
    logger: pino({ level: 'silent' }),
    syncIntervalMs: 0,
    defaults: { timeoutMs: 30_000 },
    modelSettings: { [MODEL]: settings },
  });
  try {
    await server.start();
    return await fn(server);
  } finally {
    await server.close();
    registry.close();
    await store.close();
  }
}
