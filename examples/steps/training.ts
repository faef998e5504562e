/**
 * Quickstart step: training. Runs after the offline step set up the flights project: trains a
 * GBDT delay classifier (examples/flights-train.yaml) on DSL features over the feature-store
 * columns, time-split (train on January to early May, early-stop on May, test on June), exports it
 * to ONNX (checked against the trainer), registers it with its report as the next version of
 * flights-delay with alias production (moved from the registry step's example package), and
 * prints the metrics.
 *
 * To stay quick on two cores it trains on one flight in 8 (~375k flights from every month: see
 * the yaml), its point-in-time features still computed from all 3M flights. The full 3M-row set
 * trains in a few minutes here (docs/training.md, Performance).
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';
import { ModelRegistry } from '../../src/registry/index.js';
import { loadTrainConfig } from '../../src/training/config.js';
import { trainFromConfig, type TrainResult } from '../../src/training/train.js';
import type { QuickstartContext } from '../context.js';
import { writeFlightLabels } from './offline.js';

/** One flight in SAMPLE_EVERY is a training label (the yaml's data/flight-labels-sample.parquet). */
const SAMPLE_EVERY = 8;

export async function trainingStep(ctx: QuickstartContext): Promise<TrainResult> {
  for (const file of ['flights-train.yaml', 'flights-train.features']) copyFileSync(join(packageRoot(), 'examples', file), join(ctx.projectDir, file));
  const config = loadTrainConfig(join(ctx.projectDir, 'flights-train.yaml'));
  const registryDir = join(ctx.projectDir, '.fresco', 'registry');
  const before = productionVersion(registryDir);

  await writeFlightLabels(ctx.flightsParquet, join(ctx.projectDir, 'data', 'flight-labels-sample.parquet'), undefined, SAMPLE_EVERY);
  ctx.log(`training on a sample: one flight in ${SAMPLE_EVERY} of every month (data/flight-labels-sample.parquet), features point-in-time from all 3M flights`);
  const result = await trainFromConfig(config, { log: (line) => ctx.log(`  ${line}`) });
  const m = result.metrics;
  const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(4));
  ctx.log(`test (June, ${result.test.rows} flights never seen in training): AUC ${f(m.auc)}, log loss ${f(m.logloss)}, accuracy ${f(m.accuracy)}, precision ${f(m.precision)}, recall ${f(m.recall)} at ${config.threshold}`);
  ctx.log(`trained in ${result.seconds.train} s (${result.model.summary.trees} trees; dataset ${result.seconds.dataset} s); ONNX Runtime vs trainer max |diff| ${result.onnxMaxAbsDiff.toExponential(2)}`);
  const v = result.version;
  ctx.log(`registered ${v?.name}@${v?.version}: alias production moved from v${before ?? '-'} to v${v?.version} (${result.model.summary.trees}-tree GBDT, plan ${v?.planHash})`);
  ctx.log(`report: ${result.reportFile} (also in the registry: fresco models show ${v?.name}@${v?.version})`);
  return result;
}

function productionVersion(registryDir: string): number | undefined {
  const registry = ModelRegistry.open(registryDir);
  try {
    return registry.resolve('flights-delay@production').version;
  } catch {
    return undefined;
  } finally {
    registry.close();
  }
}
