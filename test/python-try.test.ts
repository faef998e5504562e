// `fresco models try <dir> --input rows.json` (docs/python-models.md): a package folder run once
// without a server or a registry, through the serving runtime's path; the answers are predict()'s
// inside Python (tensor package) and the plan's columns into a Python DataFrame model.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { writeManifest } from '../src/models/index.js';
import { packageRoot } from '../src/package-root.js';
import { predictInPython, REQUIREMENTS, TENSOR_MODEL, writeTensorPackage } from './python-models-helpers.js';
import { eventually } from './serving-helpers.js';

/** Runner processes whose parent is `parent`. */
function runnersOf(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('fresco_runner.py')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'fresco-python-try-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['node', 'fresco', ...args], { out: (t) => void out.push(t), err: (t) => void err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

it('runs a tensor package once and prints what predict() returns inside Python', async () => {
  const pkg = await writeTensorPackage(join(root, 'tensor'));
  const x = [[1, 2, 3, 4], [-0.5, 0, 0.5, 8]];
  writeFileSync(join(root, 'x.json'), JSON.stringify({ x }));
  const r = await cli(['--json', 'models', 'try', pkg, '--input', join(root, 'x.json')]);
  expect(r.code, r.err).toBe(0);
  const result = JSON.parse(r.out);
  const want = await predictInPython(pkg, { x: ['float32', [2, 4], x.flat()] });
  expect(result.backend).toBe('python');
  expect(result.outputs.y).toEqual({ shape: [2, 2], data: want.y });
  expect(result.outputs.n).toEqual({ shape: [2], data: want.n });
  const human = await cli(['models', 'try', pkg, '--input', join(root, 'x.json')]);
  expect(human.out).toContain(`n [2]: ${JSON.stringify(want.n)}`);
}, 600_000);

it('runs a dataframe package on rows of request fields, and names a bad input file', async () => {
  const pkg = join(root, 'frame');
  mkdirSync(pkg);
  const flights = JSON.parse(readFileSync(join(packageRoot(), 'models', 'flights-delay', 'fresco.json'), 'utf8'));
  writeFileSync(join(pkg, 'model.py'), 'class Model:\n    def load(self, context):\n        pass\n\n    def predict(self, frame):\n        return {"delay_probability": frame[["hour"]].to_numpy() / 100}\n');
  writeFileSync(join(pkg, 'requirements.txt'), REQUIREMENTS);
  await writeManifest(pkg, { name: 'frame-try', backend: 'python', model: 'model.py', input_kind: 'dataframe', signature: flights.signature, plan: flights.plan });
  writeFileSync(join(root, 'rows.json'), JSON.stringify([{ date: '2024-06-01T13:00:00Z', distance: 500, origin: 'ORD', destination: 'SFO' }, { fields: { date: '2024-06-01T07:00:00Z', distance: 90, origin: 'ATL', destination: 'JFK' } }]));
  const r = await cli(['--json', 'models', 'try', pkg, '--input', join(root, 'rows.json')]);
  expect(r.code, r.err).toBe(0);
  // The plan's hour column (UTC), through a pandas DataFrame, as float32.
  expect(JSON.parse(r.out).outputs.delay_probability).toEqual({ shape: [2, 1], data: [Math.fround(0.13), Math.fround(0.07)] });
  writeFileSync(join(root, 'bad.json'), '{"x": 1}');
  const bad = await cli(['models', 'try', pkg, '--input', join(root, 'bad.json')]);
  expect(bad.code).toBe(2);
  expect(bad.err).toContain('bad.json: a dataframe package takes a list of rows');
}, 600_000);

it('a runner hung in load() dies with the fresco process that started it (kill -9)', async () => {
  // load() leaves a marker (its path from the environment), then sleeps.
  const pkg = await writeTensorPackage(join(root, 'hanging'), { model: `import os, time\n${TENSOR_MODEL.replace('self.w = ', 'open(os.environ["FRESCO_TEST_MARKER"], "w").close()\n        time.sleep(3600)\n        self.w = ')}` });
  writeFileSync(join(root, 'one.json'), JSON.stringify({ x: [[1, 2, 3, 4]] }));
  const marker = join(root, 'in-load');
  const child = spawn(join(packageRoot(), 'bin', 'fresco.js'), ['models', 'try', pkg, '--input', join(root, 'one.json')], { stdio: 'ignore', env: { ...process.env, FRESCO_TEST_MARKER: marker } });
  try {
    await eventually(() => existsSync(marker) && runnersOf(child.pid!).length === 1, 60_000);
    const [runner] = runnersOf(child.pid!);
    child.kill('SIGKILL');
    await eventually(() => {
      try {
        return readFileSync(`/proc/${runner}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
      } catch {
        return true; // reaped
      }
    }, 30_000);
  } finally {
    child.kill('SIGKILL');
  }
}, 120_000);

it('runs the committed example package models/numpy-delay (a numpy logistic over the flights plan)', async () => {
  writeFileSync(join(root, 'flights.json'), JSON.stringify([
    { date: '2001-03-02T20:15:00Z', distance: 740, origin: 'ORD', destination: 'LGA' },
    { date: '2001-03-02T08:15:00Z', distance: 740, origin: 'PHX', destination: 'LAX' },
  ]));
  const r = await cli(['--json', 'models', 'try', join(packageRoot(), 'models', 'numpy-delay'), '--input', join(root, 'flights.json')]);
  expect(r.code, r.err).toBe(0);
  const { shape, data } = JSON.parse(r.out).outputs.delay_probability as { shape: number[]; data: number[] };
  expect(shape).toEqual([2, 1]);
  for (const p of data) expect(p > 0 && p < 1).toBe(true);
  // An evening flight out of O'Hare is likelier delayed than a morning one out of Phoenix (weights.json).
  expect(data[0]!).toBeGreaterThan(data[1]!);
}, 600_000);
