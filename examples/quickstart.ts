/**
 * The quickstart (`npm run quickstart`): Fresco end to end on real data, the 3M US flights of 2001
 * from the npm package vega-datasets. Each step lives in examples/steps/ and does the real thing:
 *
 *  1. kernels   - a feature plan over 3M flights, natively and in the reference evaluator
 *  2. offline   - a feature-store project: definitions, apply, a point-in-time training set
 *  3. dsl       - a feature spec compiled, fitted on flights and frozen into a plan
 *  4. registry  - an example ONNX model package registered with an alias
 *
 * Everything is written under .quickstart/ in the repository (recreated on every run).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.js';
import { type QuickstartContext, vegaDataFile } from './context.js';
import { dslStep } from './steps/dsl.js';
import { kernelsStep } from './steps/kernels.js';
import { offlineStep } from './steps/offline.js';
import { registryStep } from './steps/registry.js';

const projectDir = join(packageRoot(), '.quickstart');
rmSync(projectDir, { recursive: true, force: true });
mkdirSync(projectDir, { recursive: true });

const ctx: QuickstartContext = {
  projectDir,
  flightsParquet: vegaDataFile('flights-3m.parquet'),
  airportsCsv: vegaDataFile('airports.csv'),
  log: (line) => console.log(line.replace(/^/gm, '  ')),
};

const steps: [string, (ctx: QuickstartContext) => Promise<unknown>][] = [
  ['native feature plan over 3M flights', kernelsStep],
  ['feature store: definitions and a point-in-time training set', offlineStep],
  ['feature DSL: compile, fit, freeze', dslStep],
  ['model registry: register a package with an alias', registryStep],
];

const started = performance.now();
for (const [i, [title, step]] of steps.entries()) {
  console.log(`\n== ${i + 1}/${steps.length} ${title}`);
  const t0 = performance.now();
  await step(ctx);
  console.log(`   (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`\nquickstart done in ${((performance.now() - started) / 1000).toFixed(0)} s; project in ${projectDir}`);
