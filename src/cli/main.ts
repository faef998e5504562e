/**
 * The `fresco` command line. Commands are thin: they parse arguments, call a module, print.
 * Every failure leaves through reportError, so all commands share one error style and exit codes.
 */
import { Command, CommanderError } from 'commander';
import { FrescoError } from '../errors/index.js';
import { packageVersion } from '../package-root.js';
import { registerPlanCommands } from './plan-commands.js';
import { registerModelsCommands } from './models-commands.js';
import { registerDslCommands } from './dsl-commands.js';
import { registerTrainCommands } from './train-commands.js';
import { registerFeatureStoreCommands } from './project-commands.js';
import { registerServeCommands } from './serve-commands.js';
import { registerOnlineCommands } from './online-commands.js';
import { registerBatchCommands } from './batch-commands.js';
import { registerBenchCommands } from './bench-commands.js';
import { type Io, processIo, reportError } from './output.js';

export function buildProgram(io: Io): Command {
  const program = new Command('fresco')
    .description('Fresco: feature store, feature plans, model registry, training and serving for TypeScript teams.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--json', 'print data and errors as JSON')
    // Usage errors are printed by reportError, in the one error style, not by commander.
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: () => {} })
    .exitOverride();
  registerPlanCommands(program, io);
  registerModelsCommands(program, io);
  registerDslCommands(program, io);
  registerTrainCommands(program, io);
  registerFeatureStoreCommands(program, io);
  registerServeCommands(program, io);
  registerOnlineCommands(program, io);
  registerBatchCommands(program, io);
  registerBenchCommands(program, io);
  return program;
}

/** Runs the CLI on `argv` (process.argv form) and returns the exit code. */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here too, successfully.
      if (error.exitCode === 0) return 0;
      const message = `${error.message.replace(/^error: /, '')} (run \`fresco --help\` for usage)`;
      return reportError(io, json, new FrescoError('FRESCO_ERR_USAGE', message));
    }
    return reportError(io, json, error);
  }
}
