/**
 * Project templates for `fresco init --example <name>`: a working project to start from, in the
 * user's own folder. A template is text files (definitions, a dataset spec, a feature spec, a
 * training config, a README), kept as plain files in the package's templates/<name>/ folder so
 * they read like a user's project, plus data written at init (a small sample, so that every
 * command in docs/getting-started.md runs in seconds).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CONFIG_FILE, type ProjectConfig } from '../config/project-config.js';
import { FrescoError } from '../errors/index.js';
import { initProject } from '../features/project.js';
import { packageRoot } from '../package-root.js';
import { flightsTemplate } from './flights.js';

export interface ProjectTemplate {
  /** One line for the list of templates. */
  description: string;
  /** The data files writeData creates, relative to the project (checked for conflicts first). */
  dataFiles: string[];
  writeData(root: string): Promise<void>;
}

/** By name. A new one is also named in `fresco init --example`'s help (src/cli/project-commands.ts). */
const TEMPLATES: Record<string, ProjectTemplate> = {
  flights: flightsTemplate,
};

/** The templates, by name, with their descriptions. */
export function listTemplates(): { name: string; description: string }[] {
  return Object.entries(TEMPLATES).map(([name, t]) => ({ name, description: t.description }));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/**
 * `fresco init <dir> --example <template>`: a project (as `fresco init` makes it) with the
 * template's files and data. Nothing is written when the template is unknown or when any file it
 * would write exists already: an example starts a new project, it never overwrites one.
 */
export async function initFromTemplate(dir: string, template: string, name?: string): Promise<{ config: ProjectConfig; files: string[] }> {
  const t = Object.hasOwn(TEMPLATES, template) ? TEMPLATES[template] : undefined;
  if (!t) {
    const known = listTemplates().map((x) => `${x.name} (${x.description})`).join(', ');
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--example "${template}": no such template; available: ${known}`, { location: { key: '--example' } });
  }
  const source = join(packageRoot(), 'templates', template);
  const textFiles = filesUnder(source);
  const root = resolve(dir);
  for (const file of [CONFIG_FILE, ...textFiles, ...t.dataFiles]) {
    const target = join(root, file);
    if (existsSync(target)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${target} already exists: --example starts a new project and overwrites nothing`, { location: { file: target } });
  }
  const config = initProject(dir, name);
  for (const file of textFiles) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    copyFileSync(join(source, file), join(root, file));
  }
  await t.writeData(root);
  return { config, files: [...textFiles, ...t.dataFiles] };
}
