/**
 * A Fresco project as the feature store sees it: its config, its definitions, and their applied
 * versions. `applyProject` validates everything and records new versions; `requireApplied`
 * refuses to build from definitions that changed since the last apply, so every dataset names
 * versions that exist.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CONFIG_FILE, loadProjectConfig, type ProjectConfig } from '../config/project-config.js';
import { FrescoError } from '../errors/index.js';
import { removeLeftoverTemporariesOf, temporarySibling } from '../util/leftovers.js';
import { loadDefinitions, type Definitions } from './definitions.js';
import { StateStore } from './state-store.js';
import { definitionMeanings, versionLabel, type DefinitionKind } from './versions.js';

export interface Project {
  config: ProjectConfig;
  definitions: Definitions;
}

export function loadProject(dir = '.'): Project {
  const config = loadProjectConfig(dir);
  return { config, definitions: loadDefinitions(config) };
}

export interface AppliedDefinition {
  kind: DefinitionKind;
  name: string;
  version: number;
  hash: string;
  label: string;
  change: 'new' | 'changed' | 'unchanged';
}

export function applyProject(dir = '.'): { project: Project; applied: AppliedDefinition[] } {
  const project = loadProject(dir);
  const store = new StateStore(project.config.stateFile);
  try {
    const applied = store.apply(definitionMeanings(project.definitions)).map((a) => ({
      kind: a.meaning.kind,
      name: a.meaning.name,
      version: a.version,
      hash: a.meaning.hash,
      label: versionLabel(a.version, a.meaning.hash),
      change: a.change,
    }));
    return { project, applied };
  } finally {
    store.close();
  }
}

/** Version labels of the given feature tables; throws FRESCO_ERR_NOT_APPLIED when one is not applied as it is now. */
export function requireApplied(project: Project, tables: Iterable<string>): Record<string, string> {
  const meanings = new Map(definitionMeanings(project.definitions).map((m) => [`${m.kind}:${m.name}`, m]));
  const store = new StateStore(project.config.stateFile);
  try {
    const latest = store.latest();
    const out: Record<string, string> = {};
    for (const table of tables) {
      const meaning = meanings.get(`feature_table:${table}`);
      const applied = latest.get(`feature_table:${table}`);
      if (!meaning) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `unknown feature table "${table}"`, { location: { key: table } });
      if (!applied || applied.hash !== meaning.hash) {
        throw new FrescoError(
          'FRESCO_ERR_NOT_APPLIED',
          `feature table "${table}" ${applied ? 'changed since' : 'was never recorded by'} \`fresco apply\`; run \`fresco apply --project ${project.config.root}\``,
          { location: { file: project.definitions.tables.get(table)!.where.file, key: table } },
        );
      }
      out[table] = versionLabel(applied.version, applied.hash);
    }
    return out;
  } finally {
    store.close();
  }
}

/** `fresco init`: a folder with a minimal fresco.yaml and an empty features/ folder. */
export function initProject(dir: string, name = basename(resolve(dir)).replace(/[^A-Za-z0-9_-]/g, '_') || 'fresco'): ProjectConfig {
  const root = resolve(dir);
  const file = join(root, CONFIG_FILE);
  if (existsSync(file)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file} already exists`, { location: { file } });
  mkdirSync(join(root, 'features'), { recursive: true });
  mkdirSync(join(root, 'data'), { recursive: true });
  // An init killed with SIGKILL leaves its temporary: the next one removes it (util/leftovers.ts).
  removeLeftoverTemporariesOf(file);
  const tmp = temporarySibling(file);
  writeFileSync(
    tmp,
    `# Fresco project (docs/feature-store.md). Every path below is optional; these are the defaults.\nproject: ${name}\n` +
      `# features: features            # definition files (*.yaml)\n# lake: { path: data }\n# online: { type: embedded, path: .fresco/online }\n` +
      `# registry: { path: .fresco/registry }\n# state: { path: .fresco/state.db }\n# quality: { reports: .fresco/quality }\n`,
  );
  renameSync(tmp, file);
  return loadProjectConfig(root);
}
