/**
 * `fresco.yaml`: where a project keeps its lake, online store, registry and state. Only `project`
 * is required; every path defaults to an embedded location under the project folder, and relative
 * paths are resolved against that folder.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { FrescoError } from '../errors/index.js';
import { readYamlFile } from './yaml-file.js';

export const CONFIG_FILE = 'fresco.yaml';

const pathString = z.string().min(1, 'must be a non-empty path');

export const projectConfigSchema = z
  .object({
    /** The project's name (letters, digits, `_` and `-`). */
    project: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" or "-"'),
    description: z.string().optional(),
    /** Folder of feature definition files (`*.yaml`, `*.yml`), default `features`. */
    features: pathString.optional(),
    /** The offline lake: where datasets and imported tables are written by default (`data`). */
    lake: z.object({ path: pathString.optional() }).strict().optional(),
    /** The online store: `embedded` (LMDB under `path`, default `.fresco/online`) or `redis`. */
    online: z
      .object({
        type: z.enum(['embedded', 'redis']).optional(),
        path: pathString.optional(),
        /** Redis URL (type redis), e.g. `redis://localhost:6379`. */
        url: z.string().optional(),
        /** Redis Cluster seed nodes (type redis), `host:port` each; when given, `url` is ignored. */
        cluster: z.array(z.string().regex(/^.+:\d+$/, 'must be host:port')).min(1).optional(),
        /** Bound on every Redis call, connecting included (default 2000 ms). */
        timeout_ms: z.number().int().positive().optional(),
        /** Largest size the embedded store may grow to, in MiB (default 65536; address space, not disk). */
        map_size_mb: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** The model registry (metadata + artifacts), default `.fresco/registry`. */
    registry: z.object({ path: pathString.optional() }).strict().optional(),
    /** Fresco's own state: applied definition versions (`.fresco/state.db`). */
    state: z.object({ path: pathString.optional() }).strict().optional(),
    /** Data-quality reports, default `.fresco/quality`. */
    quality: z.object({ reports: pathString.optional() }).strict().optional(),
  })
  .strict();

export type ProjectConfigFile = z.infer<typeof projectConfigSchema>;

/** A loaded project: every path absolute, every default filled in. */
export interface ProjectConfig {
  name: string;
  description?: string;
  /** The project folder (absolute). */
  root: string;
  /** The fresco.yaml file (absolute). */
  configFile: string;
  featuresDir: string;
  lakeDir: string;
  online: { type: 'embedded' | 'redis'; path: string; url?: string; cluster?: string[]; timeoutMs?: number; mapSizeMb?: number };
  registryDir: string;
  stateFile: string;
  qualityDir: string;
  /** The values as written, for tools that rewrite the file. */
  raw: ProjectConfigFile;
}

export function resolveProjectConfig(root: string, raw: ProjectConfigFile, configFile = join(root, CONFIG_FILE)): ProjectConfig {
  const at = (p: string | undefined, fallback: string) => resolve(root, p ?? fallback);
  const online: ProjectConfig['online'] = {
    type: raw.online?.type ?? 'embedded',
    path: at(raw.online?.path, '.fresco/online'),
    ...(raw.online?.url ? { url: raw.online.url } : {}),
    ...(raw.online?.cluster ? { cluster: raw.online.cluster } : {}),
    ...(raw.online?.timeout_ms ? { timeoutMs: raw.online.timeout_ms } : {}),
    ...(raw.online?.map_size_mb ? { mapSizeMb: raw.online.map_size_mb } : {}),
  };
  if (online.type === 'redis' && !online.url && !online.cluster) online.url = 'redis://127.0.0.1:6379';
  return {
    name: raw.project,
    ...(raw.description ? { description: raw.description } : {}),
    root,
    configFile,
    featuresDir: at(raw.features, 'features'),
    lakeDir: at(raw.lake?.path, 'data'),
    online,
    registryDir: at(raw.registry?.path, '.fresco/registry'),
    stateFile: at(raw.state?.path, '.fresco/state.db'),
    qualityDir: at(raw.quality?.reports, '.fresco/quality'),
    raw,
  };
}

/** Loads `<dir>/fresco.yaml`. Errors name the file, line and key. */
export function loadProjectConfig(dir = '.'): ProjectConfig {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${dir}: no such project folder`, { location: { file: dir } });
  }
  const file = join(root, CONFIG_FILE);
  if (!existsSync(file)) {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: not a Fresco project (no ${CONFIG_FILE}); run \`fresco init ${dir}\``, {
      location: { file },
    });
  }
  return resolveProjectConfig(root, readYamlFile(file, projectConfigSchema).value, file);
}
