/**
 * A custom Fresco model: load() runs once when the package is loaded, predict() on every call.
 * This one labels a score 1 when it reaches a threshold kept in threshold.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface State {
  threshold: number;
}

export function load(ctx: { dir: string }): State {
  return JSON.parse(readFileSync(join(ctx.dir, 'threshold.json'), 'utf8')) as State;
}

export function predict(state: State, inputs: { score: Float32Array }): { label: Float32Array } {
  return { label: inputs.score.map((s) => (s >= state.threshold ? 1 : 0)) };
}
