/**
 * Runs one quickstart step on an existing .quickstart/ project, for working on a step alone:
 * `node dist/examples/run-step.js online` (after `npm run quickstart` has built the project).
 */
import { quickstartContext } from './context.js';
import { QUICKSTART_STEPS } from './steps.js';

const name = process.argv[2];
const step = QUICKSTART_STEPS.find((s) => s.name === name);
if (!step) {
  console.error(`usage: run-step <${QUICKSTART_STEPS.map((s) => s.name).join('|')}>`);
  process.exit(2);
}
const ctx = quickstartContext();
await step.run(ctx);
