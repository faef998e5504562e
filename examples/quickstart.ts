/**
 * The quickstart (`npm run quickstart`): Fresco end to end on real data, the 3M US flights of 2001
 * from the npm package vega-datasets. Each step lives in examples/steps/ and does the real thing:
 *
 * the steps are listed, in order, in examples/steps.ts (kernels, offline, online, dsl, registry, ...).
 * `node dist/examples/run-step.js <name>` reruns one step on the existing project.
 *
 * Everything is written under .quickstart/ in the repository (recreated on every run).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { quickstartContext } from './context.js';
import { QUICKSTART_STEPS } from './steps.js';

const ctx = quickstartContext();
rmSync(ctx.projectDir, { recursive: true, force: true });
mkdirSync(ctx.projectDir, { recursive: true });

const started = performance.now();
for (const [i, step] of QUICKSTART_STEPS.entries()) {
  console.log(`\n== ${i + 1}/${QUICKSTART_STEPS.length} ${step.title}`);
  const t0 = performance.now();
  await step.run(ctx);
  console.log(`   (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`\nquickstart done in ${((performance.now() - started) / 1000).toFixed(0)} s; project in ${ctx.projectDir}`);
