/**
 * Quickstart step: training. Runs after the offline step built the flights training set in the
 * project: trains a GBDT delay classifier (examples/flights-train.yaml) on DSL features over the
 * feature-store columns, evaluates it on the later month, exports it to ONNX (checked against the
 * trainer), registers it with its report as flights-delay@production, and prints the metrics.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';
import { loadTrainConfig } from '../../src/training/config.js';
import { trainFromConfig, type TrainResult } from '../../src/training/train.js';
import type { QuickstartContext } from '../context.js';

export async function trainingStep(ctx: QuickstartContext): Promise<TrainResult> {
  for (const file of ['flights-train.yaml', 'flights-train.features']) copyFileSync(join(packageRoot(), 'examples', file), join(ctx.projectDir, file));
  const config = loadTrainConfig(join(ctx.projectDir, 'flights-train.yaml'));
  const result = await trainFromConfig(config, { log: (line) => ctx.log(`  ${line}`) });
  const m = result.metrics;
  const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(4));
  ctx.log(`test (June): AUC ${f(m.auc)}, log loss ${f(m.logloss)}, accuracy ${f(m.accuracy)}, precision ${f(m.precision)}, recall ${f(m.recall)} at ${config.threshold}`);
  ctx.log(`trained in ${result.seconds.train} s (${result.model.summary.trees} trees); ONNX Runtime vs trainer max |diff| ${result.onnxMaxAbsDiff.toExponential(2)}`);
  ctx.log(`registered ${result.version?.name}@${result.version?.version} (production); report: ${result.reportFile}`);
  return result;
}
