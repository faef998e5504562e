/**
 * Builds point-in-time datasets: training sets (label rows + features as of each label's time)
 * and prediction sets (entity rows + features as of one time). Composes the statements of the
 * SQL dialect (sql-dialect.ts), profiles what it read and wrote, checks expectations, and writes
 * the output and its manifest under temporary names, renamed only once everything succeeded.
 */
import { accessSync, constants, existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { featureColumnName } from '../features/feature-schema-from-definitions.js';
import { selectFeatures } from '../features/definitions.js';
import { loadProject, requireApplied, type Project } from '../features/project.js';
import { openEngine, type Engine, type EngineOptions } from './engine.js';
import { commitFiles, discard, sha256File, temporaryPath } from './files.js';
import { writeHdf5FromQuery } from './hdf5-lake.js';
import { allowedAggregates, checkColumn, type CheckResult } from './quality/checks.js';
import { checkSources } from './quality/source-checks.js';
import { profileRelation, type TableProfile } from './quality/profile.js';
import { finishQualityRun, removeLeftoverReports, summarize, type QualityReport } from './quality/report.js';
import { registerFile, requireColumn } from './sources.js';
import { DuckDbDialect, type SqlDialect } from './sql-dialect.js';
import { prepareFeatureTables } from './feature-tables.js';
import { runWithProgress, type DatasetProgress } from './dataset-progress.js';
import { removeLeftoverScratchDirs, removeLeftoverTemporariesOf, scratchDir } from '../util/leftovers.js';

export interface DatasetRequest {
  /** Project folder (default: the current folder) or a loaded project. */
  project?: string | Project;
  /** Training set: the label file (.parquet, .csv, .h5) and its timestamp column. */
  labels?: string;
  timestamp?: string;
  /** HDF5 label files: the group to read. */
  labelsGroup?: string;
  /** Prediction set: a file of entity rows (join-key columns), and the time to look features up as of (default: now). */
  entities?: string;
  asOf?: string | Date;
  /** `table.feature`, `table.*` or feature service names. */
  features: string[];
  /** Output file: `.parquet` or `.h5`. The manifest goes to `<out>.manifest.json`. */
  out: string;
  /** HDF5 output: the group name (default `dataset`). */
  outGroup?: string;
  engine?: EngineOptions;
  /** Where progress lines go. */
  log?: (line: string) => void;
  /** Step-by-step progress (the CLI draws it on a terminal). */
  onProgress?: (p: DatasetProgress) => void;
}

export interface DatasetManifest {
  format: 'fresco.dataset';
  version: 1;
  kind: 'training' | 'prediction';
  createdAt: string;
  project: string;
  output: { file: string; format: 'parquet' | 'h5'; rows: number; columns: { name: string; type: string }[] };
  labels?: { file: string; timestamp: string; rows: number; files: { path: string; sha256: string }[] };
  entities?: { file: string; asOf: string; rows: number; files: { path: string; sha256: string }[] };
  features: { table: string; feature: string; column: string; type: string }[];
  /** table -> definition version label (`v3-<hash>`). */
  versions: Record<string, string>;
  sources: Record<string, { files: { path: string; sha256: string }[]; rows: number }>;
  pointInTime: { engine: string; rule: string };
  quality: { report: string; html: string; status: QualityReport['status']; summary: string };
  timingsMs: Record<string, number>;
}

export interface DatasetResult {
  out: string;
  manifestFile: string;
  manifest: DatasetManifest;
  report: QualityReport;
}

const RULE =
  'feature event timestamp <= label timestamp (inclusive) and >= label timestamp - ttl when ttl > 0; latest event timestamp wins, then latest created timestamp; every label row exactly once';

const AS_OF = '__fresco_as_of';
/** The instant of a label timestamp given as zoned text. */
const LABEL_TS = '__fresco_label_ts';
const SCRATCH_PREFIX = 'dataset-';

function outputFormat(out: string): 'parquet' | 'h5' {
  const ext = extname(out).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.h5' || ext === '.hdf5') return 'h5';
  throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${out}: the output must end in .parquet or .h5`, { location: { file: out } });
}

function parseAsOf(value: string | Date | undefined): Date {
  if (value === undefined) return new Date();
  const d = value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  if (Number.isNaN(d.getTime())) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--as-of "${String(value)}" is not a time (use ISO 8601, e.g. 2001-06-01T00:00:00Z)`);
  return d;
}

/** Fails early (before any join) when `out` cannot be written: a folder, or under a file or an unwritable folder. */
function checkOutputLocation(out: string): void {
  const fail = (why: string) => new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${out}: cannot write the dataset there: ${why}`, { location: { file: out } });
  if (existsSync(out) && statSync(out).isDirectory()) throw fail('it is a folder');
  let dir = dirname(out);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  if (!statSync(dir).isDirectory()) throw fail(`${dir} is a file, not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw fail(`the folder ${dir} is not writable`);
  }
}

/** A time as the quality profile prints it (`2021-01-01 10:00:00`, `...+00` for TIMESTAMPTZ), as a Date. */
function profileTime(text: string): Date {
  let s = text.replace(' ', 'T');
  if (/[+-]\d\d$/.test(s)) s += ':00';
  else if (!/([zZ]|[+-]\d\d:?\d\d)$/.test(s)) s += 'Z';
  return new Date(s);
}

export async function buildDataset(request: DatasetRequest): Promise<DatasetResult> {
  const log = request.log ?? (() => {});
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };
  const project = typeof request.project === 'object' ? request.project : loadProject(request.project ?? '.');
  const defs = project.definitions;
  const training = request.labels !== undefined;
  if (training === (request.entities !== undefined)) {
    throw new FrescoError('FRESCO_ERR_USAGE', 'give either labels (a training set, with --timestamp) or entities (a prediction set, with --as-of)');
  }
  if (training && !request.timestamp) throw new FrescoError('FRESCO_ERR_USAGE', 'a training set needs the label timestamp column (--timestamp)');
  const out = resolve(request.out);
  const format = outputFormat(out);
  checkOutputLocation(out);
  const selection = selectFeatures(defs, request.features);
  const versions = requireApplied(project, selection.keys());
  const asOf = training ? undefined : parseAsOf(request.asOf);
  const dialect: SqlDialect = new DuckDbDialect();
  const q = (s: string) => dialect.ident(s);
  const manifestFile = `${out}.manifest.json`;
  // A build killed with SIGKILL leaves its temporaries, spill folder and quality report
  // temporaries: remove those of dead builds (a concurrent build's are left alone: util/leftovers.ts).
  const tmpRoot = resolve(project.config.root, '.fresco', 'tmp');
  removeLeftoverTemporariesOf(out);
  removeLeftoverTemporariesOf(manifestFile);
  removeLeftoverScratchDirs(tmpRoot, SCRATCH_PREFIX);
  removeLeftoverReports(project.config.qualityDir);
  const steps = 5 + selection.size;
  let stepIndex = 0;
  const started = performance.now();
  const progress = (step: string, fraction?: number) =>
    request.onProgress?.({ step, index: stepIndex, count: steps, ...(fraction !== undefined ? { fraction } : {}), elapsedSeconds: (performance.now() - started) / 1000 });
  const step = (name: string) => {
    stepIndex++;
    progress(name);
  };
  const scratch = scratchDir(tmpRoot, SCRATCH_PREFIX);
  let engine: Engine | undefined;
  const startedAt = new Date();
  const temporaries: string[] = [];
  try {
    engine = await openEngine({ tempDir: scratch, ...request.engine });
    // Label (or entity) rows, and every check that needs no more than their columns.
    const inputFile = resolve((training ? request.labels : request.entities)!);
    step(`reading ${training ? 'labels' : 'entity rows'} ${inputFile}`);
    const labels = await registerFile(engine, dialect, {
      name: '__fresco_labels_raw',
      path: inputFile,
      what: training ? 'labels' : 'entity rows',
      ...(request.labelsGroup ? { group: request.labelsGroup } : {}),
      keepZonedText: true,
    });
    let labelRelation = q(labels.name);
    let labelTs = request.timestamp ?? AS_OF;
    let joinTs = labelTs;
    // The relation and columns the label profile reads: zoned text profiled as the instants it names.
    let profiled = { relation: q(labels.name), columns: labels.columns };
    if (training && labels.zonedText?.includes(labelTs)) {
      // `+02:00` text: copied to the output as it is; the join compares the instant it names.
      await requireZonedTimes(engine, dialect, labels.name, inputFile, labelTs);
      labelRelation = `(SELECT *, CAST(${q(labelTs)} AS TIMESTAMPTZ) AS ${q(LABEL_TS)} FROM ${q(labels.name)})`;
      joinTs = LABEL_TS;
      profiled = { relation: `(SELECT * REPLACE (CAST(${q(labelTs)} AS TIMESTAMPTZ) AS ${q(labelTs)}) FROM ${q(labels.name)})`, columns: new Map([...labels.columns].map(([c, t]) => [c, c === labelTs ? 'TIMESTAMP WITH TIME ZONE' : t])) };
    } else if (training) {
      requireColumn(labels, labelTs, 'temporal', 'label timestamp');
    } else {
      if (labels.columns.has(AS_OF)) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${inputFile}: column "${AS_OF}" is reserved`, { location: { file: inputFile, key: AS_OF } });
      labelRelation = `(SELECT *, TIMESTAMP '${asOf!.toISOString().replace('T', ' ').replace('Z', '')}' AS ${AS_OF} FROM ${q(labels.name)})`;
      labelTs = AS_OF;
      joinTs = AS_OF;
    }
    if (labels.columns.has(LABEL_TS)) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${inputFile}: column "${LABEL_TS}" is reserved`, { location: { file: inputFile, key: LABEL_TS } });
    const labelColumns = [...labels.columns.keys()];
    lap('readLabels');

    // Feature tables: register sources and check every column for all tables, then build each
    // table's feature-row relation (windowed tables aggregate their whole source).
    step('checking feature tables');
    const { plans, sourceRelations } = await prepareFeatureTables(engine, dialect, defs, selection, labels, (table) => step(`building feature rows of ${table.name} (${table.kind})`));
    lap('prepareFeatures');

    const join = dialect.pointInTimeJoin({
      labels: labelRelation,
      labelColumns: training ? labelColumns : labelColumns.filter((c) => c !== AS_OF),
      labelTimestamp: joinTs,
      tables: plans.map((p) => p.pit),
    });
    const joinStep = `joining ${plans.length} feature table(s) onto the ${training ? 'labels' : 'entity rows'}`;
    stepIndex = steps - 3;
    step(joinStep);
    const create = `CREATE TEMP TABLE __fresco_dataset AS ${join}`;
    if (request.onProgress) await runWithProgress(engine, create, (fraction) => progress(joinStep, fraction));
    else await engine.run(create);
    lap('pointInTimeJoin');
    log(`joined ${plans.length} feature table(s) onto the ${training ? 'labels' : 'entity rows'}`);

    // Quality: profile what was read and written, check expectations.
    step('profiling and checking quality');
    const profiles: TableProfile[] = [];
    const checks: CheckResult[] = [];
    const labelProfile = await profileRelation(engine, { name: training ? 'labels' : 'entities', relation: profiled.relation, columns: profiled.columns, file: labels.path, ...(training ? { timeColumn: labelTs } : {}) });
    profiles.push(labelProfile.profile);
    const referenceTime = training ? (labelProfile.profile.freshness?.newest ? profileTime(labelProfile.profile.freshness.newest) : undefined) : asOf;
    const sources = await checkSources(engine, dialect, defs, { plans, sourceRelations }, project.config.stateFile, referenceTime);
    profiles.push(...sources.profiles);
    checks.push(...sources.checks);
    const sourceRows = sources.rows;
    const datasetColumns = await engine.describe('__fresco_dataset');
    const featureChecks = plans.flatMap((p) => p.features.flatMap((f) => f.expectations.map((e) => ({ column: featureColumnName(p.table.name, f.name), e }))));
    const { profile: datasetProfile, extra: datasetExtra } = await profileRelation(engine, {
      name: 'dataset',
      relation: '__fresco_dataset',
      columns: datasetColumns,
      file: out,
      extra: allowedAggregates(featureChecks.filter((c) => c.e.allowed).map((c) => ({ column: c.column, allowed: c.e.allowed! }))),
    });
    profiles.push(datasetProfile);
    for (const { column, e } of featureChecks) checks.push(...checkColumn(datasetProfile, column, e, datasetExtra));
    if (datasetProfile.rows !== labelProfile.profile.rows) {
      throw new FrescoError('FRESCO_ERR_INTERNAL', `the point-in-time join produced ${datasetProfile.rows} rows for ${labelProfile.profile.rows} label rows`);
    }
    const { report, saved } = finishQualityRun({
      qualityDir: project.config.qualityDir,
      stateFile: project.config.stateFile,
      kind: 'dataset',
      subject: out,
      startedAt,
      tables: profiles,
      checks,
      notDone: 'no dataset written',
      log,
    });
    lap('quality');

    // Output, then the manifest; each under a temporary name until both are complete.
    step(`writing ${out}`);
    const tmpOut = temporaryPath(out);
    temporaries.push(tmpOut);
    const datasetQuery = 'SELECT * FROM __fresco_dataset';
    if (format === 'parquet') await engine.run(`COPY (${datasetQuery}) TO ${dialect.literal(tmpOut)} (FORMAT parquet, COMPRESSION zstd)`);
    else await writeHdf5FromQuery(engine, datasetQuery, tmpOut, request.outGroup ?? 'dataset');
    lap('write');
    const hashes = async (files: string[]) => Promise.all(files.map(async (path) => ({ path, sha256: await sha256File(path) })));
    const manifest: DatasetManifest = {
      format: 'fresco.dataset',
      version: 1,
      kind: training ? 'training' : 'prediction',
      createdAt: new Date().toISOString(),
      project: project.config.name,
      output: { file: out, format, rows: datasetProfile.rows, columns: [...datasetColumns].map(([name, type]) => ({ name, type })) },
      ...(training
        ? { labels: { file: labels.path, timestamp: labelTs, rows: labelProfile.profile.rows, files: await hashes(labels.files) } }
        : { entities: { file: labels.path, asOf: asOf!.toISOString(), rows: labelProfile.profile.rows, files: await hashes(labels.files) } }),
      features: plans.flatMap((p) => p.features.map((f) => ({ table: p.table.name, feature: f.name, column: featureColumnName(p.table.name, f.name), type: f.type }))),
      versions,
      sources: Object.fromEntries(await Promise.all([...sourceRelations].map(async ([name, r]) => [name, { files: await hashes(r.files), rows: sourceRows[name] ?? 0 }] as const))),
      pointInTime: { engine: dialect.name, rule: RULE },
      quality: { report: saved.json, html: saved.html, status: report.status, summary: summarize(report) },
      timingsMs: timings,
    };
    lap('hash');
    manifest.timingsMs = { ...timings };
    const tmpManifest = temporaryPath(manifestFile);
    temporaries.push(tmpManifest);
    writeFileSync(tmpManifest, `${JSON.stringify(manifest, null, 2)}\n`);
    // Data first, manifest last: a dataset without its manifest is not complete (and a stale
    // manifest from an earlier build must not describe the new data).
    discard([manifestFile]);
    commitFiles([{ tmp: tmpOut, final: out }, { tmp: tmpManifest, final: manifestFile }]);
    return { out, manifestFile, manifest, report };
  } finally {
    discard(temporaries);
    engine?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Zoned label times kept as text must all name a time: the first that does not is reported, before any join. */
async function requireZonedTimes(engine: Engine, dialect: SqlDialect, relation: string, file: string, column: string): Promise<void> {
  const c = dialect.ident(column);
  const [bad] = await engine.rows(`SELECT ${c} AS v, __row FROM (SELECT ${c}, row_number() OVER () AS __row FROM ${dialect.ident(relation)}) WHERE ${c} IS NOT NULL AND TRY_CAST(${c} AS TIMESTAMPTZ) IS NULL LIMIT 1`);
  if (bad) {
    throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${file}: row ${String(bad.__row)}, column "${column}" (label timestamp): "${String(bad.v)}" is not a time`, { location: { file, key: column } });
  }
}
