/**
 * Pinned benchmark inputs: the same plans and the same pseudo-random columns on every run,
 * so results can be compared across commits (bench/results/*.json).
 */
import type { Column, Plan, PlanOp } from '../src/plan/index.js';
import { seededRandom } from '../src/util/seeded-random.js';

/** The benchmarks' seeded generator (mulberry32). */
export const rng = seededRandom;

/** A 10-op plan over two numbers, a timestamp and a string: the shape of a typical feature spec. */
export const TEN_OP_PLAN: Plan = {
  format: 'fresco.plan',
  version: 1,
  inputs: [
    { name: 'delay', type: 'num' },
    { name: 'distance', type: 'num' },
    { name: 'ts', type: 'num' },
    { name: 'origin', type: 'str' },
  ],
  ops: [
    { op: 'fill_null', args: [0], value: 0 }, // 4
    { op: 'clip', args: [4], lo: -60, hi: 600 }, // 5
    { op: 'standardize', args: [5], mean: 12, std: 35 }, // 6
    { op: 'log1p', args: [1] }, // 7
    { op: 'div', args: [0, 1] }, // 8
    { op: 'gt', args: [0, 6] }, // 9
    { op: 'if', args: [9, 7, 6] }, // 10
    { op: 'bucketize', args: [1], boundaries: [250, 500, 1000, 2000] }, // 11
    { op: 'hour', args: [2] }, // 12
    { op: 'one_hot', args: [3], categories: ['ATL', 'ORD', 'DFW', 'LAX'] }, // 13..17
  ],
  outputs: [6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17],
};

export function tenOpColumns(rows: number, seed = 42): Column[] {
  const r = rng(seed);
  const airports = ['ATL', 'ORD', 'DFW', 'LAX', 'PHX', 'DEN', 'SFO', 'SEA', 'JFK', 'BOS'];
  const delay = new Float64Array(rows);
  const distance = new Float64Array(rows);
  const ts = new Float64Array(rows);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    delay[i] = r() < 0.05 ? NaN : Math.round(r() * 200 - 20);
    distance[i] = Math.round(50 + r() * 2500);
    ts[i] = 978307200000 + Math.floor(r() * 365 * 86_400_000);
    codes[i] = r() < 0.01 ? -1 : Math.floor(r() * airports.length);
  }
  return [
    { kind: 'f64', values: delay },
    { kind: 'f64', values: distance },
    { kind: 'f64', values: ts },
    { kind: 'dict', codes, dictionary: airports },
  ];
}

/** 50 numeric features, each null-filled then standardized: 100 ops, 50 outputs. */
export function fiftyFeaturePlan(): Plan {
  const n = 50;
  const ops: PlanOp[] = [];
  for (let i = 0; i < n; i++) {
    ops.push({ op: 'fill_null', args: [i], value: 0 });
    ops.push({ op: 'standardize', args: [n + 2 * i], mean: i, std: 1 + i / 10 });
  }
  return {
    format: 'fresco.plan',
    version: 1,
    inputs: Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type: 'num' as const })),
    ops,
    outputs: Array.from({ length: n }, (_, i) => n + 2 * i + 1),
  };
}

export function f32Columns(count: number, rows: number, seed = 7): Float32Array[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: rows }, () => r() * 100));
}
