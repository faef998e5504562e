// Offline batch scoring (docs/batch.md): outputs equal the model package run directly on the same
// rows (offline/online parity through the same frozen plan), several models, HDF5, shards and
// resume, bad input, and a point-in-time feature join from the offline store.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchScore } from '../src/batch/index.js';
import { runCli } from '../src/cli/main.js';
import { FrescoError } from '../src/errors/index.js';
import { applyProject } from '../src/features/project.js';
import { writeManifest } from '../src/models/index.js';
import { describeHdf5, openEngine, writeHdf5FromQuery } from '../src/offline/index.js';
import { compilePlan, type Plan } from '../src/plan/index.js';
import { packageRoot } from '../src/package-root.js';
import { ModelRegistry } from '../src/registry/index.js';
import { mlpOnnx } from '../models/generate.js';
import { copyFixture, sqlRows as sql } from './offline-helpers.js';

const FLIGHTS = join(packageRoot(), 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
let dir: string;
let registry: string;
let input: string;


/**
 * Registers `name`@production: an MLP over the plan's outputs (`width` of them) behind `plan`,
 * a dataframe package as the trainer writes one. Returns the package folder.
 */
async function registerPlanModel(name: string, plan: Record<string, unknown>, width: number, seed: number): Promise<string> {
  const pkgDir = join(dir, `pkg-${name}`);
  mkdirSync(pkgDir);
  writeFileSync(join(pkgDir, 'model.onnx'), mlpOnnx({ inputs: width, hidden: 4, outputs: 1, seed, input: 'features', output: 'score', sigmoid: true }));
  await writeManifest(pkgDir, {
    name,
    backend: 'onnx',
    model: 'model.onnx',
    input_kind: 'dataframe',
    signature: { inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', width] }], outputs: [{ name: 'score', dtype: 'float32', shape: ['batch', 1] }] },
    plan,
  });
  const reg = ModelRegistry.open(registry);
  try {
    await reg.register(pkgDir, { aliases: ['production'] });
  } finally {
    reg.close();
  }
  return pkgDir;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fresco-batch-'));
  registry = join(dir, 'registry');
  const reg = ModelRegistry.open(registry);
  try {
    await reg.register(join(packageRoot(), 'models', 'flights-delay'), { aliases: ['production'] });
    await reg.register(join(packageRoot(), 'models', 'flights-delay'), { aliases: ['staging'] });
  } finally {
    reg.close();
  }
  input = join(dir, 'flights.parquet');
  // 5,000 real flights.
  await sql(`COPY (SELECT date, delay, distance, origin, destination FROM read_parquet('${FLIGHTS}') LIMIT 5000) TO '${input}' (FORMAT parquet)`);
});

afterAll(() => {});

/** The package run directly, row by row: the frozen plan's runRow (the online path) + an ONNX Runtime session. */
async function scoreDirectly(rows: { date: Date; distance: bigint | null; origin: string; destination: string }[]): Promise<Float32Array> {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'models', 'flights-delay', 'fresco.json'), 'utf8')) as { plan: Plan };
  const plan = compilePlan(pkg.plan);
  const session = await ort.InferenceSession.create(join(packageRoot(), 'models', 'flights-delay', 'model.onnx'));
  const width = plan.outputCount;
  const matrix = new Float32Array(rows.length * width);
  const row = new Float32Array(width);
  rows.forEach((r, i) => {
    const numeric = Float64Array.from([r.date.getTime(), r.distance === null ? NaN : Number(r.distance), NaN, NaN]);
    plan.runRow(numeric, [r.origin, r.destination], row);
    matrix.set(row, i * width);
  });
  const out = await session.run({ features: new ort.Tensor('float32', matrix, [rows.length, width]) });
  await session.release();
  return out.delay_probability!.data as Float32Array;
}

describe('fresco batch score', () => {
  it('writes the same scores as the package run directly on the same rows, with keys and model on every row', async () => {
    const out = join(dir, 'parity.parquet');
    const r = await batchScore({ registry, models: ['flights-delay@production'], input: [input], output: out, partRows: 1500, batchSize: 700 });
    expect(r.rows).toBe(5000);
    expect(r.parts).toMatchObject({ total: 4, scored: 4, skipped: 0 });
    const rows = await sql<{ date: Date; distance: bigint | null; origin: string; destination: string; delay: bigint; model_name: string; model_version: number; model_alias: string; delay_probability: number }>(
      `SELECT * FROM read_parquet('${out}')`,
    );
    const source = await sql<{ date: Date; delay: bigint; origin: string }>(`SELECT * FROM read_parquet('${input}')`);
    expect(rows.map((x) => [x.date.getTime(), x.delay, x.origin])).toEqual(source.map((x) => [x.date.getTime(), x.delay, x.origin]));
    expect(new Set(rows.map((x) => `${x.model_name}@${x.model_version}/${x.model_alias}`))).toEqual(new Set(['flights-delay@1/production']));
    const direct = await scoreDirectly(rows);
    const batch = Float32Array.from(rows, (x) => x.delay_probability);
    // Bit-for-bit: same plan semantics, same model, same runtime.
    expect(Array.from(batch)).toEqual(Array.from(direct));
    expect(existsSync(join(dir, '.parity.parquet.parts'))).toBe(false);
  });

  it('scores with several models at once; every row says which model scored it', async () => {
    const out = join(dir, 'two.parquet');
    await batchScore({ registry, models: ['flights-delay@production', 'flights-delay@staging'], input: [input], output: out });
    const counts = await sql<{ model_version: number; model_alias: string; n: bigint; s: number }>(
      `SELECT model_version, model_alias, count(*) AS n, sum(delay_probability) AS s FROM read_parquet('${out}') GROUP BY ALL ORDER BY 1`,
    );
    expect(counts.map((c) => [c.model_version, c.model_alias, Number(c.n)])).toEqual([
      [1, 'production', 5000],
      [2, 'staging', 5000],
    ]);
    expect(counts[0]!.s).toBeCloseTo(counts[1]!.s, 6);
  });

  it('splits deterministically into shards whose union is the whole job, and a rerun skips finished parts', async () => {
    const whole = join(dir, 'whole');
    await batchScore({ registry, models: ['flights-delay@production'], input: [input], output: whole, partRows: 800 });
    const sharded = join(dir, 'sharded');
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await batchScore({ registry, models: ['flights-delay@production'], input: [input], output: sharded, partRows: 800, shard: `${i}/3` }));
    expect(results.map((r) => r.parts.inShard)).toEqual([3, 2, 2]);
    expect(results.reduce((n, r) => n + r.rows, 0)).toBe(5000);
    const names = readdirSync(sharded).sort();
    expect(names.filter((n) => n.startsWith('_SUCCESS'))).toEqual(['_SUCCESS-shard-0-of-3.json', '_SUCCESS-shard-1-of-3.json', '_SUCCESS-shard-2-of-3.json']);
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
    const q = (folder: string) => `SELECT date, origin, destination, delay_probability FROM read_parquet('${folder}/part-*.parquet') ORDER BY filename`;
    const a = await sql(`SELECT * FROM (${q(whole).replace('ORDER BY filename', '')}) ORDER BY ALL`);
    const b = await sql(`SELECT * FROM (${q(sharded).replace('ORDER BY filename', '')}) ORDER BY ALL`);
    expect(b).toEqual(a);
    const again = await batchScore({ registry, models: ['flights-delay@production'], input: [input], output: sharded, partRows: 800, shard: '1/3' });
    expect(again.parts).toMatchObject({ inShard: 2, scored: 0, skipped: 2 });
    expect(again.rows).toBe(0);
    // A different job must not reuse these parts.
    await expect(batchScore({ registry, models: ['flights-delay@staging'], input: [input], output: sharded, partRows: 800, shard: '1/3' })).rejects.toThrow(/different batch job/);
  });

  it('reads HDF5 and writes HDF5 with the same scores', async () => {
    const h5in = join(dir, 'flights.h5');
    const engine = await openEngine();
    try {
      await writeHdf5FromQuery(engine, `SELECT * FROM read_parquet('${input}')`, h5in, 'flights');
    } finally {
      engine.close();
    }
    const out = join(dir, 'scores.h5');
    const r = await batchScore({ registry, models: ['flights-delay@production'], input: [h5in], inputGroup: 'flights', output: out, partRows: 2000 });
    expect(r.rows).toBe(5000);
    const info = await describeHdf5(out, 'scores');
    expect(info.rows).toBe(5000);
    expect(info.columns.map((c) => c.name)).toEqual(['date', 'delay', 'distance', 'origin', 'destination', 'model_name', 'model_version', 'model_alias', 'delay_probability']);
    const parquet = join(dir, 'from-h5.parquet');
    await batchScore({ registry, models: ['flights-delay@production'], input: [h5in], inputGroup: 'flights', output: parquet, keys: ['origin'] });
    const fromParquetInput = await sql<{ p: number }>(`SELECT delay_probability AS p FROM read_parquet('${join(dir, 'parity.parquet')}')`);
    const fromH5Input = await sql<{ p: number }>(`SELECT delay_probability AS p FROM read_parquet('${parquet}')`);
    expect(fromH5Input).toEqual(fromParquetInput);
  });

  it('names the file and row of a bad value; --on-error skip writes bad rows to an error file and carries on', async () => {
    const csv = join(dir, 'bad.csv');
    const lines = ['date,distance,origin,destination'];
    // Row 17: not a number. Row 25: no distance, which the flights plan passes on as NaN, so the
    // model's output is NaN: a row the model cannot score.
    for (let i = 0; i < 40; i++) lines.push(`2001-05-0${1 + (i % 9)} 10:00:00,${i === 17 ? 'far' : i === 25 ? '' : 300 + i},SFO,LAX`);
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const fail = batchScore({ registry, models: ['flights-delay@production'], input: [csv], output: join(dir, 'bad.parquet') });
    await expect(fail).rejects.toThrow(FrescoError);
    await expect(fail).rejects.toThrow(/bad\.csv: row 17: column "distance" does not hold a number/);
    expect(existsSync(join(dir, 'bad.parquet'))).toBe(false);

    const out = join(dir, 'skipped.parquet');
    const r = await batchScore({ registry, models: ['flights-delay@production'], input: [csv], output: out, onError: 'skip' });
    expect(r.errors).toBe(2);
    expect(r.errorFile).toBe(`${out}.errors.jsonl`);
    const errors = readFileSync(`${out}.errors.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(errors).toEqual([
      { file: csv, row: 17, model: 'flights-delay@production', reason: 'column "distance" does not hold a number', date: '2001-05-09 10:00:00', distance: 'far', origin: 'SFO', destination: 'LAX' },
      { file: csv, row: 25, model: 'flights-delay@production', reason: 'output "delay_probability" is NaN (not a finite number)', date: '2001-05-08 10:00:00', distance: null, origin: 'SFO', destination: 'LAX' },
    ]);
    expect((await sql<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet('${out}')`))[0]!.n).toBe(38n);
  });

  it('fails cleanly, naming the file, for a missing column, a wrong dtype and an unreadable file', async () => {
    const noDest = join(dir, 'nodest.parquet');
    await sql(`COPY (SELECT date, distance, origin FROM read_parquet('${input}') LIMIT 10) TO '${noDest}' (FORMAT parquet)`);
    await expect(batchScore({ registry, models: ['flights-delay@production'], input: [noDest], output: join(dir, 'x.parquet') })).rejects.toThrow(/nodest\.parquet: no column "destination"/);
    await expect(batchScore({ registry, models: ['flights-delay@production'], input: [input], keys: ['flight_id'], output: join(dir, 'x.parquet') })).rejects.toThrow(/flights\.parquet: no key column "flight_id"/);
    const wrongType = join(dir, 'wrongtype.parquet');
    await sql(`COPY (SELECT date, distance, 7 AS origin, destination FROM read_parquet('${input}') LIMIT 10) TO '${wrongType}' (FORMAT parquet)`);
    await expect(batchScore({ registry, models: ['flights-delay@production'], input: [wrongType], output: join(dir, 'x.parquet') })).rejects.toThrow(/wrongtype\.parquet: column "origin" has type INTEGER; the plan reads it as a string/);
    const garbage = join(dir, 'garbage.parquet');
    writeFileSync(garbage, 'not parquet at all');
    await expect(batchScore({ registry, models: ['flights-delay@production'], input: [garbage], output: join(dir, 'x.parquet') })).rejects.toThrow(/garbage\.parquet: cannot read it/);
    expect(existsSync(join(dir, 'x.parquet'))).toBe(false);
    await expect(batchScore({ registry, models: ['nope@production'], input: [input], output: join(dir, 'x.parquet') })).rejects.toThrow(/no model named "nope"/);
  });

  it('runs from the CLI with --json and refuses --shard with a file output', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const code = await runCli(['node', 'fresco', '--json', 'batch', 'score', 'flights-delay@production', '--registry', registry, '--input', input, '--output', join(dir, 'cli.parquet'), '--no-progress'], io);
    expect(code, err.join('\n')).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ rows: 5000, models: [{ name: 'flights-delay', version: 1, alias: 'production' }] });
    const usage = await runCli(['node', 'fresco', 'batch', 'score', 'flights-delay', '--registry', registry, '--input', input, '--output', join(dir, 'y.parquet'), '--shard', '0/2'], io);
    expect(usage).toBe(2);
    expect(err.join('\n')).toMatch(/--shard 0\/2 writes one part per file: give --output a folder/);
  });

  it('joins features point-in-time from the offline store before the plan runs', async () => {
    const project = copyFixture('pit-project');
    applyProject(project);
    // A model over one joined feature: score = MLP(fill_null(origin_delays__n_1h, 0)).
    const plan = { format: 'fresco.plan', version: 1, inputs: [{ name: 'origin_delays__n_1h', type: 'num' }], ops: [{ op: 'fill_null', args: [0], value: 0 }], outputs: [1], output_names: ['n_1h'] };
    const pkgDir = await registerPlanModel('joined', plan, 1, 7);
    const labels = join(project, 'data', 'flight_labels.csv');
    const out = join(dir, 'joined.parquet');
    const r = await batchScore({ registry, models: ['joined@production'], input: [labels], output: out, join: { project, timestamp: 'date', features: ['origin_delays.n_1h'] } });
    const labelRows = await sql(`SELECT * FROM read_csv('${labels}', header = true)`);
    expect(r.rows).toBe(labelRows.length);
    const scored = await sql<{ date: Date; origin: string; score: number }>(`SELECT * FROM read_parquet('${out}')`);
    // Keys in input order; the feature column is not copied, only used.
    expect(Object.keys(scored[0]!)).toEqual(['date', 'origin', 'model_name', 'model_version', 'model_alias', 'score']);
    // The expected scores: the dataset builder's point-in-time features through the same plan and model.
    const engine = await openEngine();
    const features = join(dir, 'features.parquet');
    const { buildDataset } = await import('../src/offline/index.js');
    await buildDataset({ project, labels, timestamp: 'date', features: ['origin_delays.n_1h'], out: features });
    engine.close();
    const joined = await sql<{ n: bigint | null }>(`SELECT origin_delays__n_1h AS n FROM read_parquet('${features}')`);
    const session = await ort.InferenceSession.create(join(pkgDir, 'model.onnx'));
    const x = Float32Array.from(joined, (j) => (j.n === null ? 0 : Number(j.n)));
    const expected = (await session.run({ features: new ort.Tensor('float32', x, [x.length, 1]) })).score!.data as Float32Array;
    await session.release();
    expect(new Set(scored.map((s) => s.score))).toEqual(new Set(Array.from(expected)));
    expect(new Set(joined.map((j) => j.n)).size).toBeGreaterThan(1);

    // The job ran the sources' quality checks once and saved the report, about this output.
    const qualityDir = join(project, '.fresco', 'quality');
    const reports = readdirSync(qualityDir).map((id) => JSON.parse(readFileSync(join(qualityDir, id, 'report.json'), 'utf8')) as { kind: string; subject: string; status: string; tables: { name: string }[] });
    const batchReports = reports.filter((q) => q.kind === 'batch');
    expect(batchReports).toHaveLength(1);
    expect(batchReports[0]).toMatchObject({ subject: out, status: 'passed', tables: [{ name: 'source:flights' }] });
    // A source that breaks an expectation of severity error stops the job before it writes anything.
    const yaml = join(project, 'features', 'flights.yaml');
    expect(readFileSync(yaml, 'utf8')).toContain('    timestamp: date\n');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('    timestamp: date\n', '    timestamp: date\n    expectations:\n      - { column: delay, max: -100000 }\n'));
    applyProject(project);
    const out2 = join(dir, 'joined-bad-source.parquet');
    await expect(batchScore({ registry, models: ['joined@production'], input: [labels], output: out2, join: { project, timestamp: 'date', features: ['origin_delays.n_1h'] } })).rejects.toMatchObject({
      code: 'FRESCO_ERR_QUALITY_FAILED',
      message: expect.stringMatching(/nothing scored[\s\S]*delay/),
    });
    expect(existsSync(out2)).toBe(false);
  });
});

describe('fresco batch score: feature join', () => {
  it('infers the features to join from the plan (table.feature inputs the input lacks) and joins each part point-in-time, row for row as the dataset builder does', async () => {
    const project = copyFixture('pit-project');
    applyProject(project);
    // Plan inputs named `table.feature`, as the DSL names feature-store columns.
    const plan = {
      format: 'fresco.plan',
      version: 1,
      inputs: [
        { name: 'origin_delays.n_1h', type: 'num' },
        { name: 'origin_delays.avg_2h', type: 'num' },
      ],
      ops: [
        { op: 'fill_null', args: [0], value: 0 },
        { op: 'fill_null', args: [1], value: 0 },
      ],
      outputs: [2, 3],
      output_names: ['n_1h', 'avg_2h'],
    };
    const pkgDir = await registerPlanModel('inferred', plan, 2, 11);
    const labels = join(project, 'data', 'flight_labels.csv');
    const lines: string[] = [];
    // Three parts of three rows: the feature tables are prepared once and every part joins against them.
    const r = await batchScore({ registry, models: ['inferred@production'], input: [labels], output: join(dir, 'inferred.parquet'), partRows: 3, join: { project, timestamp: 'date' }, log: (l) => lines.push(l) });
    expect(r.parts.scored).toBe(3);
    expect(lines.join('\n')).toMatch(/joining 2 feature\(s\) the plans read: origin_delays\.n_1h, origin_delays\.avg_2h/);
    const scored = await sql<{ score: number }>(`SELECT score FROM read_parquet('${join(dir, 'inferred.parquet')}')`);

    const features = join(dir, 'inferred-features.parquet');
    const { buildDataset } = await import('../src/offline/index.js');
    await buildDataset({ project, labels, timestamp: 'date', features: ['origin_delays.n_1h', 'origin_delays.avg_2h'], out: features });
    const joined = await sql<{ n: bigint | null; avg: number | null }>(`SELECT origin_delays__n_1h AS n, origin_delays__avg_2h AS avg FROM read_parquet('${features}')`);
    const x = Float32Array.from(joined.flatMap((j) => [j.n === null ? 0 : Number(j.n), j.avg ?? 0]));
    const session = await ort.InferenceSession.create(join(pkgDir, 'model.onnx'));
    const expected = (await session.run({ features: new ort.Tensor('float32', x, [joined.length, 2]) })).score!.data as Float32Array;
    await session.release();
    // Row for row, in input order.
    expect(scored.map((s) => s.score)).toEqual(Array.from(expected));
    expect(new Set(joined.map((j) => j.avg)).size).toBeGreaterThan(2);
    // The CLI infers them the same way when --timestamp comes without --features.
    const err: string[] = [];
    const cliOut = join(dir, 'inferred-cli.parquet');
    const code = await runCli(['node', 'fresco', '--json', 'batch', 'score', 'inferred@production', '--registry', registry, '--project', project, '--input', labels, '--timestamp', 'date', '--output', cliOut, '--no-progress'], { out: () => {}, err: (t) => err.push(t) });
    expect(code, err.join('\n')).toBe(0);
    expect((await sql<{ score: number }>(`SELECT score FROM read_parquet('${cliOut}')`)).map((s) => s.score)).toEqual(Array.from(expected));

    // A prediction set that already holds a feature column: only the missing one is joined.
    const partial = join(dir, 'partial.csv');
    await sql(`COPY (SELECT *, 5.0 AS origin_delays__avg_2h FROM read_csv('${labels}', header = true)) TO '${partial}' (HEADER)`);
    lines.length = 0;
    await batchScore({ registry, models: ['inferred@production'], input: [partial], output: join(dir, 'partial.parquet'), partRows: 3, join: { project, timestamp: 'date' }, log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/joining 1 feature\(s\) the plans read: origin_delays\.n_1h\n/);
  });
});

describe('fresco batch score: one output file', () => {
  it('holds exactly the rows of the same job written as a folder of parts, in order: several files, several models, rows set aside', async () => {
    const files: string[] = [];
    for (const [f, bad] of [[0, 7], [1, 30]] as const) {
      const lines = ['date,distance,origin,destination'];
      for (let i = 0; i < 40; i++) lines.push(`2001-0${1 + f}-0${1 + (i % 9)} ${10 + (i % 12)}:00:00,${i === bad ? 'far' : 200 + 13 * i + f},${i % 3 ? 'SFO' : 'ORD'},LAX`);
      files.push(join(dir, `many-${f}.csv`));
      writeFileSync(files.at(-1)!, `${lines.join('\n')}\n`);
    }
    const job = { registry, models: ['flights-delay@production', 'flights-delay@staging'], input: files, partRows: 15, onError: 'skip' as const };
    const file = await batchScore({ ...job, output: join(dir, 'many.parquet') });
    const folder = await batchScore({ ...job, output: join(dir, 'many-parts') });
    expect(file.rows).toBe(80);
    expect(file.errors).toBe(4); // one bad row per file, once per model
    const inFile = await sql(`SELECT * FROM read_parquet('${join(dir, 'many.parquet')}')`);
    const inParts = await sql(
      `SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet('${join(dir, 'many-parts')}/part-*.parquet', filename = true, file_row_number = true) ORDER BY filename, file_row_number`,
    );
    expect(inFile.length).toBe(2 * 80 - 4);
    expect(inFile).toEqual(inParts);
    expect(folder.errors).toBe(4);
  });
});

describe('fresco batch score: feature join, part by part', () => {
  it('matches the dataset builder row for row on unordered labels with ties, TTLs and created-timestamp tie-breaks, in parts of two rows', async () => {
    const project = copyFixture('pit-project');
    applyProject(project);
    const inputs = ['driver_hourly.conv_rate', 'driver_hourly.trips', 'driver_totals.trips_total'];
    const pkgDir = await registerPlanModel(
      'drivers',
      {
        format: 'fresco.plan',
        version: 1,
        inputs: inputs.map((name) => ({ name, type: 'num' })),
        ops: [0, 1, 2].map((i) => ({ op: 'fill_null', args: [i], value: -1 })),
        outputs: [3, 4, 5],
        output_names: ['a', 'b', 'c'],
      },
      3,
      5,
    );
    const labels = join(project, 'data', 'labels.csv');
    const out = join(dir, 'drivers.parquet');
    await batchScore({ registry, models: ['drivers@production'], input: [labels], output: out, partRows: 2, join: { project, timestamp: 'ts' } });
    const scored = await sql<{ label: string; score: number }>(`SELECT label, score FROM read_parquet('${out}')`);

    const features = join(dir, 'drivers-features.parquet');
    const { buildDataset } = await import('../src/offline/index.js');
    await buildDataset({ project, labels, timestamp: 'ts', features: inputs, out: features });
    const joined = await sql<Record<string, number | bigint | null | string>>(`SELECT * FROM read_parquet('${features}')`);
    const x = Float32Array.from(joined.flatMap((j) => inputs.map((i) => j[i.replace('.', '__')]).map((v) => (v === null ? -1 : Number(v)))));
    const session = await ort.InferenceSession.create(join(pkgDir, 'model.onnx'));
    const expected = (await session.run({ features: new ort.Tensor('float32', x, [joined.length, 3]) })).score!.data as Float32Array;
    await session.release();
    expect(scored.map((s) => s.label)).toEqual(joined.map((j) => j.label));
    expect(scored.map((s) => s.score)).toEqual(Array.from(expected));
    // The fixture's rows do differ (TTL misses, ties): the check is not vacuous.
    expect(new Set(joined.map((j) => j.driver_hourly__conv_rate)).size).toBeGreaterThan(2);
  });
});
