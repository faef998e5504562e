// A write killed with SIGKILL cannot remove its temporaries; the next run of the same command
// removes those of dead processes (named after host and pid, as the registry's staging folders)
// and leaves a live writer's alone.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchScore } from '../src/batch/index.js';
import { applyProject, initProject } from '../src/features/project.js';
import { writeManifest, type ManifestDraft } from '../src/models/index.js';
import { mlpOnnx } from '../models/generate.js';
import { buildDataset } from '../src/offline/dataset-builder.js';
import { importToHdf5 } from '../src/offline/lake-import.js';
import { materialize, push } from '../src/online/index.js';
import { packageRoot } from '../src/package-root.js';
import { ModelRegistry } from '../src/registry/index.js';
import { loadTrainConfig } from '../src/training/config.js';
import { trainFromConfig } from '../src/training/train.js';
import { cli } from './helpers/cli.js';
import { copyFixture, sqlRows } from './offline-helpers.js';
import { writeOnlineProject } from './online-project.js';
import { makeProject, trainYaml } from './training-helpers.js';

/** The pid of a process that has exited (as a killed writer's is). */
const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
/** A live process other than this one: a concurrent writer. */
let live: ChildProcess;
const host = hostname();

beforeAll(() => {
  live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
});
afterAll(() => {
  live.kill('SIGKILL');
});

/** Creates the temporaries a killed writer (dead pid, also in the host-less form of earlier versions) and a live one would leave. */
function leave(dir: string, name: string): { dead: string[]; alive: string } {
  mkdirSync(dir, { recursive: true });
  const dead = [join(dir, `.${name}.tmp-${host}-${deadPid}-0a1b2c3d`), join(dir, `.${name}.tmp-${deadPid}-deadbeef`)];
  const alive = join(dir, `.${name}.tmp-${host}-${live.pid}-12345678`);
  for (const f of [...dead, alive]) writeFileSync(f, 'partial');
  return { dead, alive };
}

function leaveDir(parent: string, prefix: string): { dead: string; alive: string } {
  const dead = join(parent, `${prefix}${host}-${deadPid}-0a1b2c3d`);
  const alive = join(parent, `${prefix}${host}-${live.pid}-12345678`);
  for (const d of [dead, alive]) mkdirSync(d, { recursive: true });
  writeFileSync(join(dead, 'rows.jsonl'), '{}\n');
  return { dead, alive };
}

const names = (paths: string[]) => paths.map((p) => p.split('/').pop()!).sort();

/**
 * Quality run folders: one a killed run left with only its temporaries (removed whole), one whose
 * run was killed after committing report.html (the temporary goes, the report stays), and a
 * live run's (left alone).
 */
function leaveReports(qualityDir: string): { dead: string; committed: string; alive: string; aliveTemp: string } {
  const dead = join(qualityDir, '20240101T000000Z-0000d1');
  const committed = join(qualityDir, '20240101T000000Z-0000d2');
  const alive = join(qualityDir, '20240101T000000Z-0000a1');
  for (const d of [dead, committed, alive]) mkdirSync(d, { recursive: true });
  writeFileSync(join(dead, `.report.html.tmp-${host}-${deadPid}-0a1b2c3d`), '<p>partial');
  writeFileSync(join(dead, `.report.json.tmp-${deadPid}-deadbeef`), '{');
  writeFileSync(join(committed, 'report.html'), '<p>whole</p>');
  writeFileSync(join(committed, `.report.json.tmp-${host}-${deadPid}-0a1b2c3e`), '{');
  const aliveTemp = join(alive, `.report.json.tmp-${host}-${live.pid}-12345678`);
  writeFileSync(aliveTemp, '{');
  return { dead, committed, alive, aliveTemp };
}

function expectReportsSwept(left: ReturnType<typeof leaveReports>): void {
  expect(existsSync(left.dead)).toBe(false);
  expect(readdirSync(left.committed)).toEqual(['report.html']);
  expect(readdirSync(left.alive)).toEqual(names([left.aliveTemp]));
}

describe('the next run removes what a killed one left', () => {
  it('push: lake temporaries and scratch folders of dead pushes', async () => {
    const dir = writeOnlineProject({ drivers: 5, airports: 2 });
    try {
      applyProject(dir);
      const data = join(dir, 'data');
      const stats = leave(data, 'driver_stats.csv');
      const other = leave(data, 'flights.csv'); // another file's temporaries: not this push's to remove
      const scratch = leaveDir(join(dir, '.fresco', 'tmp'), 'push-');
      writeFileSync(join(dir, 'new.csv'), 'event_timestamp,created,driver_id,conv_rate\n2024-01-02 10:00:00,2024-01-02 10:00:00,1,0.5\n');
      await push({ project: dir, source: 'driver_stats', file: join(dir, 'new.csv') });
      for (const f of stats.dead) expect(existsSync(f), f).toBe(false);
      expect(existsSync(stats.alive)).toBe(true);
      for (const f of [...other.dead, other.alive]) expect(existsSync(f)).toBe(true);
      expect(existsSync(scratch.dead)).toBe(false);
      expect(readdirSync(join(dir, '.fresco', 'tmp'))).toEqual([scratch.alive.split('/').pop()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dataset build: output and manifest temporaries and spill folders of dead builds', async () => {
    const dir = copyFixture('pit-project');
    try {
      applyProject(dir);
      const outDir = join(dir, 'out');
      const data = leave(outDir, 'train.parquet');
      const manifest = leave(outDir, 'train.parquet.manifest.json');
      const spill = leaveDir(join(dir, '.fresco', 'tmp'), 'dataset-');
      const reports = leaveReports(join(dir, '.fresco', 'quality'));
      await buildDataset({ project: dir, labels: join(dir, 'data/labels.csv'), timestamp: 'ts', features: ['driver_model'], out: join(outDir, 'train.parquet') });
      for (const f of [...data.dead, ...manifest.dead, spill.dead]) expect(existsSync(f), f).toBe(false);
      expect(readdirSync(outDir).sort()).toEqual([data.alive, manifest.alive].map((f) => f.split('/').pop()).concat(['train.parquet', 'train.parquet.manifest.json']).sort());
      expect(readdirSync(join(dir, '.fresco', 'tmp'))).toEqual([spill.alive.split('/').pop()]);
      expectReportsSwept(reports);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('batch score: scratch folders of dead jobs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-leftovers-batch-'));
    try {
      const registry = join(dir, 'registry');
      const reg = ModelRegistry.open(registry);
      await reg.register(join(packageRoot(), 'models', 'flights-delay'), { aliases: ['production'] });
      reg.close();
      const input = join(dir, 'flights.parquet');
      const flights = join(packageRoot(), 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
      await sqlRows(`COPY (SELECT * FROM read_parquet('${flights}') LIMIT 2000) TO '${input}' (FORMAT parquet)`);
      const scratchParent = join(dir, 'scratch');
      const left = leaveDir(scratchParent, 'fresco-batch-scratch-');
      await batchScore({ registry, models: ['flights-delay@production'], input: [input], output: join(dir, 'scores.parquet'), tempDir: scratchParent, workers: 1 });
      expect(existsSync(left.dead)).toBe(false);
      expect(readdirSync(scratchParent)).toEqual([left.alive.split('/').pop()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('batch score with a feature join: quality report temporaries of dead jobs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-leftovers-batch-join-'));
    const project = copyFixture('pit-project');
    try {
      applyProject(project);
      const pkg = join(dir, 'pkg');
      mkdirSync(pkg);
      writeFileSync(join(pkg, 'model.onnx'), mlpOnnx({ inputs: 1, hidden: 4, outputs: 1, seed: 7, input: 'features', output: 'score', sigmoid: true }));
      await writeManifest(pkg, {
        name: 'joined',
        backend: 'onnx',
        model: 'model.onnx',
        input_kind: 'dataframe',
        signature: { inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 1] }], outputs: [{ name: 'score', dtype: 'float32', shape: ['batch', 1] }] },
        plan: { format: 'fresco.plan', version: 1, inputs: [{ name: 'origin_delays__n_1h', type: 'num' }], ops: [{ op: 'fill_null', args: [0], value: 0 }], outputs: [1], output_names: ['n_1h'] },
      });
      const registry = join(dir, 'registry');
      const reg = ModelRegistry.open(registry);
      await reg.register(pkg, { aliases: ['production'] });
      reg.close();
      const reports = leaveReports(join(project, '.fresco', 'quality'));
      const labels = join(project, 'data', 'flight_labels.csv');
      await batchScore({ registry, models: ['joined@production'], input: [labels], output: join(dir, 'scores.parquet'), join: { project, timestamp: 'date', features: ['origin_delays.n_1h'] } });
      expectReportsSwept(reports);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('materialize: spill folders and quality report temporaries of dead runs', async () => {
    const dir = writeOnlineProject({ drivers: 5, airports: 2 });
    try {
      applyProject(dir);
      const spill = leaveDir(join(dir, '.fresco', 'tmp'), 'materialize-');
      const other = leaveDir(join(dir, '.fresco', 'tmp'), 'dataset-'); // another command's: not materialize's to remove
      const reports = leaveReports(join(dir, '.fresco', 'quality'));
      const result = await materialize({ project: dir });
      expect(result.tables.length).toBeGreaterThan(0);
      expect(readdirSync(join(dir, '.fresco', 'tmp')).sort()).toEqual(names([spill.alive, other.dead, other.alive]));
      expectReportsSwept(reports);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lake import: temporaries of dead imports of the same file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-leftovers-import-'));
    try {
      const csv = join(dir, 'trips.csv');
      writeFileSync(csv, 'driver_id,trips\n1,3\n2,5\n');
      const lake = join(dir, 'lake');
      const trips = leave(lake, 'trips.h5');
      const other = leave(lake, 'other.h5');
      const r = await importToHdf5(csv, join(lake, 'trips.h5'));
      expect(r.rows).toBe(2);
      expect(readdirSync(lake).sort()).toEqual(names([trips.alive, ...other.dead, other.alive, join(lake, 'trips.h5')]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('models register and export: staging folders of dead registrations, archive temporaries of dead exports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-leftovers-registry-'));
    try {
      const registry = ModelRegistry.open(join(dir, 'registry'));
      try {
        const staging = leaveDir(join(dir, 'registry', 'tmp'), '');
        await registry.register(join(packageRoot(), 'models', 'mlp-50'));
        expect(readdirSync(join(dir, 'registry', 'tmp'))).toEqual(names([staging.alive]));
        const archive = leave(join(dir, 'out'), 'mlp-50.tgz');
        await registry.export('mlp-50@1', join(dir, 'out', 'mlp-50.tgz'));
        expect(readdirSync(join(dir, 'out')).sort()).toEqual(names([archive.alive, join(dir, 'out', 'mlp-50.tgz')]));
      } finally {
        registry.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writing a package manifest: dead writers\' manifest temporaries are neither kept nor listed as package files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-leftovers-package-'));
    try {
      cpSync(join(packageRoot(), 'models', 'mlp-50'), dir, { recursive: true });
      const { files: _files, format_version: _v, ...draft } = JSON.parse(readFileSync(join(dir, 'fresco.json'), 'utf8')) as ManifestDraft & { files: unknown; format_version: unknown };
      const temps = leave(dir, 'fresco.json');
      const pkg = await writeManifest(dir, draft);
      for (const f of temps.dead) expect(existsSync(f), f).toBe(false);
      expect(existsSync(temps.alive)).toBe(true);
      const listed = pkg.files.map((f) => f.path);
      for (const name of names(temps.dead)) expect(listed).not.toContain(name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('train: report temporaries and package folders of dead runs', async () => {
    const dir = await makeProject(1200);
    const packages = leaveDir(tmpdir(), 'fresco-train-package-');
    try {
      const report = leave(join(dir, 'out'), 'report.html');
      writeFileSync(join(dir, 'train.yaml'), trainYaml({ features: 'filled.features', algorithm: '  type: logistic\n  params: { l2: 0.001 }', extra: 'report: out/report.html\n' }));
      const result = await trainFromConfig(loadTrainConfig(join(dir, 'train.yaml')));
      expect(result.version?.version).toBe(1);
      expect(readdirSync(join(dir, 'out')).sort()).toEqual(names([report.alive, join(dir, 'out', 'report.html')]));
      expect(existsSync(packages.dead)).toBe(false);
      expect(existsSync(packages.alive)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(packages.alive, { recursive: true, force: true });
    }
  }, 60_000);

  it('init: temporaries of dead inits of the same folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-leftovers-init-'));
    try {
      const config = leave(dir, 'fresco.yaml');
      initProject(dir);
      expect(readdirSync(dir).filter((n) => n.includes('fresco.yaml')).sort()).toEqual(names([config.alive, join(dir, 'fresco.yaml')]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dsl explain --out: temporaries of dead writers of the same plan file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-leftovers-dsl-'));
    try {
      const csv = join(dir, 'train.csv');
      writeFileSync(csv, 'date,distance,origin,destination\n2001-01-01 08:00:00,300,SFO,LAX\n2001-01-06 18:30:00,2500,JFK,SFO\n');
      const plans = join(dir, 'plans');
      const plan = leave(plans, 'frozen.json');
      const root = packageRoot();
      const r = await cli('dsl', 'explain', join(root, 'examples', 'flights.features'), '--schema', join(root, 'examples', 'flights.schema.json'), '--fit', csv, '--out', join(plans, 'frozen.json'));
      expect(r.code, r.err).toBe(0);
      expect(readdirSync(plans).sort()).toEqual(names([plan.alive, join(plans, 'frozen.json')]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
