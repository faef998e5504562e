import type { QuickstartContext } from './context.js';
import { batchStep } from './steps/batch.js';
import { dslStep } from './steps/dsl.js';
import { kernelsStep } from './steps/kernels.js';
import { offlineStep } from './steps/offline.js';
import { onlineStep } from './steps/online.js';
import { registryStep } from './steps/registry.js';
import { servingStep } from './steps/serving.js';
import { trainingStep } from './steps/training.js';

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
  { name: 'registry', title: 'model registry: register the example package as flights-delay v1 (production)', run: registryStep },
  { name: 'training', title: 'training: a GBDT on the point-in-time training set, registered as v2 (production)', run: trainingStep },
  { name: 'batch', title: 'batch scoring: the held-out months with flights-delay@production, features joined point-in-time', run: batchStep },
  { name: 'serving', title: 'serving: flights-delay@production with online features, then a hot swap back to v1', run: servingStep },
];
