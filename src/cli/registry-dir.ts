/**
 * Where a command finds the model registry. A module of its own, imported by the commands'
 * actions only: it loads the project configuration (zod, yaml), which `fresco --help` must not.
 */
import { resolve } from 'node:path';
import { loadProjectConfig } from '../config/project-config.js';
import { FrescoError } from '../errors/index.js';

export interface RegistryOptions {
  registry?: string;
  project?: string;
}

/**
 * `--registry` wins; otherwise the registry of the project (fresco.yaml's `registry.path`, by
 * default `<project>/.fresco/registry`), the project defaulting to the current folder. Outside a
 * project this fails, as `apply` does, instead of guessing a folder (and creating it).
 */
export function registryDir(options: RegistryOptions): string {
  if (options.registry !== undefined) return resolve(options.registry);
  try {
    return loadProjectConfig(options.project ?? '.').registryDir;
  } catch (error) {
    if (error instanceof FrescoError && error.code === 'FRESCO_ERR_NOT_FOUND') {
      throw new FrescoError(error.code, `${error.message}, or name a registry folder with --registry <dir>`, error.location ? { location: error.location } : {});
    }
    throw error;
  }
}
