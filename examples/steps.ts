import type { QuickstartContext } from './context.js';
import { batchStep } from './steps/batch.js';
import { dslStep } from './steps/dsl.js';
import { kernelsStep } from './steps/kernels.js';
import { offlineStep } from './steps/offline.js';
import { onlineStep } from './steps/online.js';
import { registryStep } from './steps/registry.js';

export interface QuickstartStep {
  name: string;
  title: string;
  run(ctx: QuickstartContext): Promise<unknown>;
}

/** The quickstart's steps, in the order they depend on each other. */
export const QUICKSTART_STEPS: QuickstartStep[] = [
  { name: 'kernels', title: 'native feature plan over 3M flights', run: kernelsStep },
  { name: 'offline', title: 'feature store: definitions and a point-in-time training set', run: offlineStep },
  { name: 'online', title: 'online store: materialize the flights features, read them back', run: onlineStep },
  { name: 'dsl', title: 'feature DSL: compile, fit, freeze', run: dslStep },
  { name: 'registry', title: 'model registry: register a package with an alias', run: registryStep },
  { name: 'batch', title: 'batch scoring: the held-out months with flights-delay@production', run: batchStep },
];
