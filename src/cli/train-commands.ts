/**
 * `fresco train <train.yaml>` and `fresco models reproduce <ref>` (docs/training.md). Thin: the
 * work is in src/training. `reproduce` joins the `models` group registered by models-commands.ts.
 */
import type { Command } from 'commander';
import { FrescoError } from '../errors/index.js';
import { type Io, printData, table } from './output.js';

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString());

export function registerTrainCommands(program: Command, io: Io): void {
  const json = () => Boolean(program.opts().json);
  program
    .command('train <config>')
    .description('train a model from a train.yaml: dataset, DSL features, algorithm, split, search; evaluate, export to ONNX, register (docs/training.md)')
    .option('--no-register', 'train and evaluate only')
    .action(async (file: string, options: { register: boolean }) => {
      // Training (DuckDB, ONNX Runtime, the trainers) is imported when it runs, not for `--help`.
      const [{ loadTrainConfig }, { trainAny }] = await Promise.all([import('../training/config.js'), import('../training/train.js')]);
      const config = loadTrainConfig(file);
      const result = await trainAny(config, { register: options.register, log: json() ? () => {} : (line) => io.err(line) });
      // A Python script's model has no ONNX export: its metrics come from the package itself.
      const onnxMaxAbsDiff = 'onnxMaxAbsDiff' in result ? result.onnxMaxAbsDiff : null;
      const data = {
        name: config.name,
        version: result.version?.version ?? null,
        aliases: result.version?.aliases ?? [],
        metrics: result.metrics,
        validationMetrics: result.validationMetrics,
        trials: result.trials,
        onnxMaxAbsDiff,
        ...('python' in result ? { python: { script: result.python.script, scriptHash: result.python.scriptHash, environment: result.python.environment.key } } : {}),
        planHash: result.frozen.hash,
        report: result.reportFile ?? null,
        seconds: result.seconds,
      };
      printData(io, json(), data, () =>
        [
          result.version ? `registered ${result.version.name}@${result.version.version}${result.version.aliases.length ? ` (${result.version.aliases.join(', ')})` : ''}` : `trained ${config.name} (not registered)`,
          table(['metric', 'test', 'validation'], Object.entries(result.metrics).map(([k, v]) => [k, fmt(v), fmt(result.validationMetrics[k] ?? NaN)])),
          onnxMaxAbsDiff !== null ? `ONNX Runtime vs trainer: max |diff| ${onnxMaxAbsDiff.toExponential(2)}` : 'metrics from the package scored through the serving runner',
          result.reportFile ? `report: ${result.reportFile}` : result.version ? `report: stored with the version (fresco models show ${config.name}@${result.version.version})` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });

  const models = program.commands.find((c) => c.name() === 'models') ?? program.command('models');
  models
    .command('reproduce <ref>')
    .description('rebuild a version\'s dataset from its lineage, retrain with its config and seed, and compare metrics and predictions')
    .option('--registry <dir>', 'registry folder (default: <project>/.fresco/registry)')
    .option('--project <dir>', 'project folder (default: the current folder)')
    .action(async (ref: string, options: { registry?: string; project?: string }) => {
      const [{ reproduceVersion }, { registryDir }] = await Promise.all([import('../training/reproduce.js'), import('./registry-dir.js')]);
      const report = await reproduceVersion(registryDir(options), ref, json() ? () => {} : (line) => io.err(line));
      printData(io, json(), report, () =>
        [
          `${report.ref}: ${report.ok ? 'REPRODUCED' : 'NOT REPRODUCED'} (tolerance: metrics ${report.tolerance.metrics}, predictions ${report.tolerance.predictions})`,
          table(['input', 'same hash'], report.inputs.map((i) => [i.path, i.now === i.recorded ? 'yes' : i.now ? 'CHANGED' : 'MISSING'])),
          table(['metric', 'recorded', 'reproduced', '|diff|'], report.metrics.map((m) => [m.name, fmt(m.recorded), fmt(m.reproduced), m.diff.toExponential(2)])),
          `predictions on ${report.rows} test rows: max |diff| ${report.predictionMaxAbsDiff.toExponential(2)}`,
          `plan hash ${report.planHashSame ? 'same' : 'DIFFERENT'}; training code ${report.codeHashSame ? 'same' : 'different (informational)'}`,
          `report: ${report.report} (this run, with its rebuilt dataset: ${report.dir})`,
        ].join('\n'),
      );
      if (!report.ok) throw new FrescoError('FRESCO_ERR_REPRODUCE_MISMATCH', `${report.ref} was not reproduced within tolerance (see above)`);
    });
}
