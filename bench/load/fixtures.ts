/**
 * Model registries for the serving tests and benchmarks, built from the committed example
 * packages (models/) plus a few generated ones: a second mlp-50 version with other weights, a
 * broken one (a valid signature, an operator ONNX Runtime does not know, so it fails to load),
 * and `user-score`, a dataframe model whose plan reads 50 features of a `user_stats` table from
 * the online store and standardizes them into the MLP 50-64-1. The features live in memory
 * (InMemoryFeatureLookup, for quick tests) or, with `store: 'embedded'`, in the real embedded
 * online store (LMDB), read through OnlineFeatureLookup as `fresco serve` does: the benchmarks.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { mlpOnnx } from '../../models/generate.js';
import { type ManifestDraft, writeManifest } from '../../src/models/package.js';
import { packageRoot } from '../../src/package-root.js';
import { ModelRegistry } from '../../src/registry/index.js';
import { EmbeddedOnlineStore } from '../../src/online/embedded-store.js';
import type { TableSchema } from '../../src/online/row-codec.js';
import { type FeatureLookup, InMemoryFeatureLookup } from '../../src/serving/feature-lookup.js';
import { OnlineFeatureLookup } from '../../src/serving/online-lookup.js';

const { onnx } = onnxProto;

const mlpSignature = { inputs: [{ name: 'x', dtype: 'float32' as const, shape: ['batch', 50] }], outputs: [{ name: 'y', dtype: 'float32' as const, shape: ['batch', 1] }] };

async function writePackage(dir: string, model: Uint8Array, draft: ManifestDraft): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), model);
  await writeManifest(dir, draft);
  return dir;
}

/** mlp-50 bytes with its Relu replaced by an operator no runtime has. */
function brokenMlp(): Uint8Array {
  const model = onnx.ModelProto.decode(mlpOnnx({ inputs: 50, hidden: 64, outputs: 1, seed: 7, input: 'x', output: 'y', sigmoid: false }));
  for (const node of model.graph?.node ?? []) if (node.opType === 'Relu') node.opType = 'NoSuchOperator';
  return onnx.ModelProto.encode(model).finish();
}

export const USER_FEATURES = 50;

export interface Fixture {
  dir: string;
  registry: ModelRegistry;
  lookup: FeatureLookup;
  /** The embedded online store behind `lookup` (store: 'embedded'); the caller closes it. */
  store?: EmbeddedOnlineStore;
}

/** user u's feature i: the same values whichever store holds them. */
const userFeature = (u: number, i: number) => ((u * 31 + i * 7) % 100) / 100;

/**
 * A fresh registry: mlp-50 v1 (models/mlp-50, alias production), v2 (other weights, alias
 * candidate), v3 (broken, archived); flights-delay v1 (models/flights-delay); user-score v1
 * (alias production) and v2 (other weights).
 */
export async function makeServingFixture(users = 1000, options: { store?: 'memory' | 'embedded' } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'fresco-serving-'));
  const registry = ModelRegistry.open(join(dir, 'registry'));
  const root = packageRoot();
  const mlpDraft = { name: 'mlp-50', backend: 'onnx' as const, model: 'model.onnx', input_kind: 'tensor' as const, signature: mlpSignature };
  await registry.register(join(root, 'models', 'mlp-50'), { aliases: ['production'] });
  const v2 = await writePackage(join(dir, 'pkg', 'mlp-50-v2'), mlpOnnx({ inputs: 50, hidden: 64, outputs: 1, seed: 51, input: 'x', output: 'y', sigmoid: false }), { ...mlpDraft, description: 'v2' });
  await registry.register(v2, { aliases: ['candidate'] });
  const v3 = await writePackage(join(dir, 'pkg', 'mlp-50-broken'), brokenMlp(), { ...mlpDraft, description: 'broken: unknown operator' });
  await registry.register(v3);
  registry.archive('mlp-50', 3); // never "latest"; still reachable as mlp-50@3
  await registry.register(join(root, 'models', 'flights-delay'));

  const plan = {
    format: 'fresco.plan',
    version: 1,
    inputs: Array.from({ length: USER_FEATURES }, (_, i) => ({ name: `user_stats.f${i}`, type: 'num' })),
    ops: Array.from({ length: USER_FEATURES }, (_, i) => ({ op: 'standardize', args: [i], mean: 0.5, std: 0.25 })),
    outputs: Array.from({ length: USER_FEATURES }, (_, i) => USER_FEATURES + i),
    output_names: Array.from({ length: USER_FEATURES }, (_, i) => `f${i}_std`),
  };
  const us = await writePackage(join(dir, 'pkg', 'user-score'), mlpOnnx({ inputs: 50, hidden: 64, outputs: 1, seed: 50, input: 'x', output: 'y', sigmoid: false }), {
    name: 'user-score',
    description: '50 online features of a user, standardized, into an MLP 50-64-1',
    backend: 'onnx',
    model: 'model.onnx',
    input_kind: 'dataframe',
    signature: mlpSignature,
    plan,
  });
  await registry.register(us, { aliases: ['production'] });
  const us2 = await writePackage(join(dir, 'pkg', 'user-score-v2'), mlpOnnx({ inputs: 50, hidden: 64, outputs: 1, seed: 52, input: 'x', output: 'y', sigmoid: false }), {
    name: 'user-score',
    description: 'user-score with retrained weights',
    backend: 'onnx',
    model: 'model.onnx',
    input_kind: 'dataframe',
    signature: mlpSignature,
    plan,
  });
  await registry.register(us2);

  if (options.store === 'embedded') {
    const store = new EmbeddedOnlineStore(join(dir, 'online'));
    const schema: TableSchema = {
      name: 'user_stats',
      joinKeys: ['user'],
      ttlSeconds: 0,
      features: Array.from({ length: USER_FEATURES }, (_, i) => ({ name: `f${i}`, type: 'float64' as const })),
    };
    await store.defineTable(schema);
    const eventTime = Date.now() - 60_000;
    for (let from = 0; from < users; from += 10_000) {
      const rows = Array.from({ length: Math.min(10_000, users - from) }, (_, k) => ({ key: [`u${from + k}`], eventTime, values: Array.from({ length: USER_FEATURES }, (_, i) => userFeature(from + k, i)) }));
      await store.write('user_stats', rows);
    }
    return { dir, registry, lookup: new OnlineFeatureLookup(store), store };
  }
  const lookup = new InMemoryFeatureLookup();
  lookup.setTable(
    'user_stats',
    'user',
    Array.from({ length: users }, (_, u) => [`u${u}`, Object.fromEntries(Array.from({ length: USER_FEATURES }, (_, i) => [`f${i}`, userFeature(u, i)]))] as [string, Record<string, number>]),
  );
  return { dir, registry, lookup };
}
