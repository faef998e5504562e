/** `fresco init` and `fresco apply`: create a project, validate and version its definitions. */
import type { Command } from 'commander';
import { applyProject, initProject } from '../features/project.js';
import { registerDatasetCommands } from './dataset-commands.js';
import { registerLakeCommands } from './lake-commands.js';
import { type Io, printData, table } from './output.js';
import { registerQualityCommands } from './quality-commands.js';

const json = (program: Command) => program.opts<{ json?: boolean }>().json ?? false;

export function registerProjectCommands(program: Command, io: Io): void {
  program
    .command('init <dir>')
    .description('create a Fresco project: fresco.yaml, features/ and data/')
    .option('--name <name>', 'project name (default: the folder name)')
    .action((dir: string, options: { name?: string }) => {
      const config = initProject(dir, options.name);
      printData(io, json(program), { project: config.name, root: config.root, configFile: config.configFile }, () =>
        `created project "${config.name}" in ${config.root}\n  next: write definitions in ${config.featuresDir}/*.yaml, then \`fresco apply --project ${dir}\``,
      );
    });

  program
    .command('apply')
    .description('validate every definition and record a new version of each one that changed')
    .option('--project <dir>', 'project folder', '.')
    .action((options: { project: string }) => {
      const { project, applied } = applyProject(options.project);
      const changed = applied.filter((a) => a.change !== 'unchanged').length;
      printData(io, json(program), { project: project.config.name, definitions: applied }, () =>
        [
          `${project.config.name}: ${applied.length} definition(s), ${changed} new or changed`,
          table(['kind', 'name', 'version', 'change'], applied.map((a) => [a.kind, a.name, a.label, a.change])),
        ].join('\n'),
      );
    });
}

/** Every feature-store command (project, dataset, lake, quality): the one call main.ts makes. */
export function registerFeatureStoreCommands(program: Command, io: Io): void {
  registerProjectCommands(program, io);
  registerDatasetCommands(program, io);
  registerLakeCommands(program, io);
  registerQualityCommands(program, io);
}
