/**
 * Hyper-parameter search over the time-based validation split: grid (every combination) or
 * random (seeded draws from lists or ranges). Every trial trains with early stopping on the
 * validation rows and is recorded with its parameters, validation metric, trees kept and time.
 */
import { seededRandom } from '../util/seeded-random.js';
import type { TrainConfig } from './config.js';

export type SearchSpace = NonNullable<TrainConfig['search']>['space'];

/** The parameter overrides of each trial, in order. Without a search: one trial, no overrides. */
export function trialOverrides(search: TrainConfig['search'], seed: number): Record<string, number>[] {
  if (!search) return [{}];
  const keys = Object.keys(search.space).sort();
  if (search.method === 'grid') {
    let combos: Record<string, number>[] = [{}];
    for (const key of keys) {
      const values = search.space[key] as number[];
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
    }
    return combos;
  }
  const random = seededRandom(seed ^ 0x5eed);
  return Array.from({ length: search.trials }, () => {
    const trial: Record<string, number> = {};
    for (const key of keys) {
      const space = search.space[key]!;
      if (Array.isArray(space)) trial[key] = space[Math.floor(random() * space.length)] as number;
      else {
        const u = random();
        let v = space.log && space.min > 0 ? Math.exp(Math.log(space.min) + u * (Math.log(space.max) - Math.log(space.min))) : space.min + u * (space.max - space.min);
        if (space.integer) v = Math.round(v);
        trial[key] = v;
      }
    }
    return trial;
  });
}

/** Higher is better for AUC, lower for log loss and RMSE. */
export function better(metric: string, a: number, b: number): boolean {
  if (Number.isNaN(b)) return !Number.isNaN(a);
  return metric === 'auc' ? a > b : a < b;
}
