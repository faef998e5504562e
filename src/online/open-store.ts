/** Opens the online store a project's fresco.yaml names (embedded by default, or Redis). */
import type { ProjectConfig } from '../config/project-config.js';
import type { FeatureTable } from '../features/definitions.js';
import { EmbeddedOnlineStore } from './embedded-store.js';
import type { OnlineStore } from './online-store.js';
import { RedisOnlineStore } from './redis-store.js';
import type { TableSchema } from './row-codec.js';

export async function openOnlineStore(config: Pick<ProjectConfig, 'name' | 'online'>): Promise<OnlineStore> {
  const o = config.online;
  if (o.type === 'redis') {
    return RedisOnlineStore.open({
      ...(o.cluster ? { cluster: o.cluster } : { url: o.url ?? 'redis://127.0.0.1:6379' }),
      prefix: `fresco:${config.name}:`,
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    });
  }
  return new EmbeddedOnlineStore(o.path, o.mapSizeMb ? { mapSize: o.mapSizeMb * 2 ** 20 } : {});
}

/** The online schema of a feature table definition. */
export function tableSchema(table: FeatureTable): TableSchema {
  return {
    name: table.name,
    joinKeys: [...table.joinKeys],
    features: table.features.map((f) => ({ name: f.name, type: f.type })),
    ttlSeconds: table.ttlSeconds,
  };
}
