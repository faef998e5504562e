/** `fresco dataset build`: point-in-time training and prediction sets (docs/feature-store.md). */
import type { Command } from 'commander';
import { FrescoError } from '../errors/index.js';
import type { DatasetRequest } from '../offline/dataset-builder.js';
import { type Io, printData } from './output.js';

interface BuildOptions {
  project: string;
  spec?: string;
  labels?: string;
  timestamp?: string;
  entities?: string;
  asOf?: string;
  features?: string;
  out?: string;
  group?: string;
  progress: boolean;
}

export function registerDatasetCommands(program: Command, io: Io): void {
  const dataset = program.command('dataset').description('build point-in-time datasets');
  dataset
    .command('build')
    .description('join features onto label rows as of each label time (or onto entity rows as of one time), write Parquet or HDF5 + a manifest')
    .option('--project <dir>', 'project folder', '.')
    .option('--spec <file.yaml>', 'read the arguments from a dataset spec (options given here win)')
    .option('--labels <file>', 'label rows (.parquet, .csv, .h5): a training set')
    .option('--timestamp <column>', 'the label timestamp column')
    .option('--entities <file>', 'entity rows (join-key columns): a prediction set')
    .option('--as-of <time>', 'prediction sets: look features up as of this time (ISO 8601, UTC; default now)')
    .option('--features <list>', 'comma-separated table.feature, table.* or feature service names')
    .option('--out <file>', 'output file, .parquet or .h5')
    .option('--group <name>', 'HDF5: group of the label file to read')
    .option('--no-progress', 'do not draw the progress line (drawn only when stderr is a terminal)')
    .action(async (options: BuildOptions) => {
      // Loaded here, not at the top: the builder pulls in DuckDB, and `fresco --help` must not.
      const [{ buildDataset }, { datasetProgressPrinter }, { readDatasetSpec }] = await Promise.all([
        import('../offline/dataset-builder.js'),
        import('../offline/dataset-progress.js'),
        import('../offline/dataset-spec.js'),
      ]);
      const spec = options.spec ? readDatasetSpec(options.spec) : undefined;
      const features = options.features ? options.features.split(',').map((s) => s.trim()).filter(Boolean) : spec?.features;
      const out = options.out ?? spec?.out;
      if (!features?.length) throw new FrescoError('FRESCO_ERR_USAGE', 'dataset build needs --features (or a --spec with features)');
      if (!out) throw new FrescoError('FRESCO_ERR_USAGE', 'dataset build needs --out (or a --spec with out)');
      const request: DatasetRequest = {
        ...spec,
        project: options.project,
        features,
        out,
        ...(options.labels ? { labels: options.labels } : {}),
        ...(options.timestamp ? { timestamp: options.timestamp } : {}),
        ...(options.entities ? { entities: options.entities } : {}),
        ...(options.asOf ? { asOf: options.asOf } : {}),
        ...(options.group ? { labelsGroup: options.group } : {}),
      };
      const json = program.opts<{ json?: boolean }>().json ?? false;
      // A redrawn line on a terminal only, as batch scoring draws its bar: logs stay plain.
      const printer = options.progress && !json && process.stderr.isTTY === true ? datasetProgressPrinter((text) => process.stderr.write(text)) : undefined;
      const log = (line: string) => {
        printer?.end();
        io.err(line);
      };
      let result;
      try {
        result = await buildDataset({ ...request, log: json ? () => {} : log, ...(printer ? { onProgress: (p) => printer.update(p) } : {}) });
      } finally {
        printer?.end();
      }
      const m = result.manifest;
      printData(io, json, { out: result.out, manifest: result.manifestFile, rows: m.output.rows, columns: m.output.columns.length, versions: m.versions, quality: m.quality, timingsMs: m.timingsMs }, () =>
        [
          `${m.kind} set: ${m.output.rows} rows x ${m.output.columns.length} columns -> ${result.out}`,
          `  versions: ${Object.entries(m.versions).map(([t, v]) => `${t} ${v}`).join(', ')}`,
          `  quality: ${m.quality.summary}`,
          `  report: ${m.quality.html}`,
          `  manifest: ${result.manifestFile}`,
        ].join('\n'),
      );
    });
}
