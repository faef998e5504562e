/**
 * The model registry (docs/registry.md): immutable, numbered versions of model packages with
 * their lineage and metrics, aliases that move atomically with a history, and a content-addressed
 * artifact store. One registry folder holds registry.db (SQLite, WAL) and objects/; any number of
 * processes may open it at once.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { unpackArchive } from '../models/archive.js';
import { checksumHex } from '../models/checksum.js';
import { type Manifest, type ModelPackage, loadPackage, type PackageFile, packArchive, parseManifest } from '../models/index.js';
import { BlobStore } from './blob-store.js';
import { type Db, openDatabase } from './db.js';
import { diffVersions, type VersionDiff } from './diff.js';
import { type AliasMove, deepFreeze, type ModelSummary, type ModelVersion, toVersion, type VersionRow } from './records.js';
import { checkAliasName, checkModelName, parseRef } from './ref.js';
import { stagePackage } from './stage-package.js';
import { pauseForTest } from './test-hooks.js';

/** Everything a trainer knows about a version beyond its package. All optional; stored as given. */
export interface RegisterOptions {
  /** Registers under this name instead of the manifest's. */
  name?: string;
  /** Who registers (default: $FRESCO_USER, else the OS user). */
  createdBy?: string;
  description?: string;
  tags?: string[];
  /** Any named numbers: auc, logloss, rmse... */
  metrics?: Record<string, number>;
  trainingConfig?: unknown;
  /** Dataset manifests by role: { train: ..., eval: ... }. */
  datasets?: Record<string, unknown>;
  /** The feature definitions the plan was compiled from. */
  featureDefinitions?: unknown;
  /** A hash of the training code. */
  codeHash?: string;
  /** Learned parameters summary (counts, shapes, importances...). */
  paramsSummary?: unknown;
  /** The HTML report (stored in the artifact store). */
  reportHtml?: string;
  /** Aliases to point at the new version, in the same transaction. */
  aliases?: string[];
}

const now = () => new Date().toISOString();

export function defaultUser(): string {
  if (process.env.FRESCO_USER) return process.env.FRESCO_USER;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function checkMetrics(metrics: Record<string, unknown>): Record<string, number> {
  for (const [key, value] of Object.entries(metrics)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `metric "${key}" must be a finite number, got ${JSON.stringify(value)}`, { location: { key } });
    }
  }
  return metrics as Record<string, number>;
}

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

export class ModelRegistry {
  readonly dir: string;
  private readonly db: Db;
  private readonly store: BlobStore;
  private readonly stmts;
  /** ref -> version; valid while PRAGMA data_version (other connections' commits) is unchanged. */
  private readonly cache = new Map<string, ModelVersion>();
  private cacheDataVersion = -1;
  /** Manifests never change for a checksum: cached for the registry's lifetime. */
  private readonly manifests = new Map<string, Manifest>();

  private constructor(dir: string, create: boolean) {
    this.dir = dir;
    if (create) mkdirSync(dir, { recursive: true });
    this.store = new BlobStore(dir, create);
    // A reader of a registry that does not exist yet sees an empty one, and creates nothing.
    this.db = openDatabase(create || ModelRegistry.exists(dir) ? join(dir, 'registry.db') : ':memory:');
    const db = this.db;
    this.stmts = {
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      version: db.prepare<[string, number], VersionRow>('SELECT * FROM versions WHERE name = ? AND version = ?'),
      latest: db.prepare<[string], VersionRow>('SELECT * FROM versions WHERE name = ? AND archived_at IS NULL ORDER BY version DESC LIMIT 1'),
      aliasTarget: db.prepare<[string, string], { version: number }>('SELECT version FROM aliases WHERE name = ? AND alias = ?'),
      files: db.prepare<[string, number], PackageFile>('SELECT path, checksum, size FROM version_files WHERE name = ? AND version = ? ORDER BY path'),
      aliasesOf: db.prepare<[string, number], string>('SELECT alias FROM aliases WHERE name = ? AND version = ? ORDER BY alias').pluck(),
      nextVersion: db.prepare<[string], number>('SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE name = ?').pluck(),
      insertVersion: db.prepare(
        `INSERT INTO versions (name, version, created_by, created_at, package_checksum, backend, input_kind, plan_hash, training_config, datasets,
           feature_definitions, code_hash, metrics, report_checksum, params_summary, tags, description, environment)
         VALUES (@name, @version, @created_by, @created_at, @package_checksum, @backend, @input_kind, @plan_hash, @training_config, @datasets,
           @feature_definitions, @code_hash, @metrics, @report_checksum, @params_summary, @tags, @description, @environment)`,
      ),
      insertFile: db.prepare('INSERT INTO version_files (name, version, path, checksum, size) VALUES (?, ?, ?, ?, ?)'),
      upsertAlias: db.prepare(
        `INSERT INTO aliases (name, alias, version, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      ),
      insertHistory: db.prepare('INSERT INTO alias_history (name, alias, from_version, to_version, at, by) VALUES (?, ?, ?, ?, ?, ?)'),
    };
  }

  /**
   * Opens the registry in `dir`, creating it if needed; with `create: false` (read commands),
   * a registry that does not exist reads as empty and nothing is written to disk.
   */
  static open(dir: string, options: { create?: boolean } = {}): ModelRegistry {
    return new ModelRegistry(dir, options.create ?? true);
  }

  /** Whether `dir` holds a registry (its database). */
  static exists(dir: string): boolean {
    return existsSync(join(dir, 'registry.db'));
  }

  close(): void {
    this.db.close();
  }

  // ---- registration -------------------------------------------------------------------------

  /**
   * Registers a package folder or .tgz archive as the next version of its model. Every check
   * runs before anything is stored; a failure or a kill at any point leaves no version behind.
   */
  async register(source: string, options: RegisterOptions = {}): Promise<ModelVersion> {
    this.sweepDeadStaging();
    const staging = this.store.newStagingDir();
    try {
      let dir = source;
      if (!existsSync(source)) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${source}: no such model package (folder or .tgz archive)`, { location: { file: source } });
      if (statSync(source).isFile()) {
        dir = join(staging, 'package');
        await unpackArchive(source, dir);
      }
      const metrics = checkMetrics(options.metrics ?? {});
      const aliases = (options.aliases ?? []).map(checkAliasName);
      const tags = options.tags ?? [];
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'tags must be a list of strings');
      if (options.name !== undefined) checkModelName(options.name);
      // Every check of loadPackage, done while copying each file into staging once.
      const { pkg, blobs } = await stagePackage(this.store, dir, staging);
      const name = checkModelName(options.name ?? pkg.manifest.name);
      const by = options.createdBy ?? defaultUser();
      // A Python package's environment is built (or found in the cache) before anything is
      // stored: a requirement pip cannot install fails the registration (src/python/env.ts).
      // Its key, Python version and `pip freeze` are stored with the version (lineage).
      const env = pkg.manifest.backend === 'python' ? await (await import('../python/env.js')).ensurePythonEnv(dir, pkg.manifest) : undefined;

      const report = options.reportHtml === undefined ? undefined : this.store.stageBytes(Buffer.from(options.reportHtml, 'utf8'), staging);
      pauseForTest('after-copy');

      const version = this.db
        .transaction(() => {
          const next = this.stmts.nextVersion.get(name) as number;
          // Inside the write lock: a concurrent gc cannot see these objects before the rows exist.
          for (const blob of blobs) this.store.commit(blob);
          if (report) this.store.commit(report);
          pauseForTest('in-transaction');
          const at = now();
          this.stmts.insertVersion.run({
            name,
            version: next,
            created_by: by,
            created_at: at,
            package_checksum: pkg.checksum,
            backend: pkg.manifest.backend,
            input_kind: pkg.manifest.input_kind,
            plan_hash: pkg.manifest.plan_hash ?? null,
            training_config: json(options.trainingConfig),
            datasets: json(options.datasets),
            feature_definitions: json(options.featureDefinitions),
            code_hash: options.codeHash ?? null,
            metrics: JSON.stringify(metrics),
            report_checksum: report?.checksum ?? null,
            params_summary: json(options.paramsSummary),
            tags: JSON.stringify(tags),
            description: options.description ?? pkg.manifest.description ?? null,
            environment: env ? JSON.stringify({ key: env.key, python: env.pythonVersion, lock: env.lock }) : null,
          });
          for (const f of pkg.files) this.stmts.insertFile.run(name, next, f.path, f.checksum, f.size);
          for (const alias of aliases) this.moveAlias(name, alias, next, by, at);
          return next;
        })
        .immediate();
      this.invalidate();
      return this.get(name, version);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /** Removes staging folders of killed registrations, and then the objects they orphaned. */
  private sweepDeadStaging(): void {
    if (this.store.removeDeadStagingDirs() > 0) this.gc();
  }

  /**
   * Deletes artifacts no version references (left by a registration killed inside its
   * transaction) and staging folders of dead processes. Runs under the write lock, so it never
   * races a registration that is moving its files in.
   */
  gc(): { objects: number; staging: number; packages: number } {
    const staging = this.store.removeDeadStagingDirs();
    return this.db
      .transaction(() => {
        const referenced = new Set<string>(this.db.prepare('SELECT checksum FROM version_files UNION SELECT report_checksum FROM versions WHERE report_checksum IS NOT NULL').pluck().all() as string[]);
        let objects = 0;
        for (const checksum of [...this.store.list()]) {
          if (!referenced.has(checksum)) {
            this.store.remove(checksum);
            objects++;
          }
        }
        const packages = new Set((this.db.prepare('SELECT DISTINCT package_checksum FROM versions').pluck().all() as string[]).map(checksumHex));
        let removedPackages = 0;
        const packagesDir = join(this.dir, 'packages');
        if (existsSync(packagesDir)) {
          for (const entry of readdirSync(packagesDir)) {
            if (!packages.has(entry)) {
              rmSync(join(packagesDir, entry), { recursive: true, force: true });
              removedPackages++;
            }
          }
        }
        return { objects, staging, packages: removedPackages };
      })
      .immediate();
  }

  // ---- reading ------------------------------------------------------------------------------

  /** Clears the resolve cache when another process committed since it was filled. */
  private checkCache(): void {
    const dataVersion = this.stmts.dataVersion.get() as number;
    if (dataVersion !== this.cacheDataVersion) {
      this.cache.clear();
      this.cacheDataVersion = dataVersion;
    }
  }

  /** After our own writes (data_version only counts other connections' commits). */
  private invalidate(): void {
    this.cache.clear();
    this.cacheDataVersion = -1;
  }

  private manifestOf(checksum: string): Manifest {
    let manifest = this.manifests.get(checksum);
    if (!manifest) {
      manifest = deepFreeze(parseManifest(JSON.parse(readFileSync(this.store.path(checksum), 'utf8')), `${checksum} (fresco.json)`));
      this.manifests.set(checksum, manifest);
    }
    return manifest;
  }

  private toRecord(row: VersionRow): ModelVersion {
    return toVersion(row, this.manifestOf(row.package_checksum), this.stmts.files.all(row.name, row.version), this.stmts.aliasesOf.all(row.name, row.version) as string[]);
  }

  private notFound(message: string): FrescoError {
    return new FrescoError('FRESCO_ERR_MODEL_NOT_FOUND', message);
  }

  /** One version by number (archived ones included: a pinned version stays readable). */
  get(name: string, version: number): ModelVersion {
    const row = this.stmts.version.get(name, version);
    if (!row) throw this.notFound(this.hasModel(name) ? `model "${name}" has no version ${version}` : `no model named "${name}" in the registry`);
    return this.toRecord(row);
  }

  private hasModel(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM versions WHERE name = ? LIMIT 1').get(name) !== undefined;
  }

  /**
   * Resolves `name`, `name@<version>`, `name@latest` or `name@<alias>` to a version record.
   * Cached; the cache is dropped whenever any process commits to the registry.
   */
  resolve(ref: string): ModelVersion {
    this.checkCache();
    const hit = this.cache.get(ref);
    if (hit) return hit;
    const parsed = parseRef(ref);
    let record: ModelVersion;
    if ('version' in parsed) {
      record = this.get(parsed.name, parsed.version);
    } else if ('alias' in parsed) {
      const target = this.stmts.aliasTarget.get(parsed.name, parsed.alias);
      if (!target) throw this.notFound(this.hasModel(parsed.name) ? `model "${parsed.name}" has no alias "${parsed.alias}"` : `no model named "${parsed.name}" in the registry`);
      record = this.get(parsed.name, target.version);
    } else {
      const row = this.stmts.latest.get(parsed.name);
      if (!row) throw this.notFound(this.hasModel(parsed.name) ? `model "${parsed.name}" has only archived versions` : `no model named "${parsed.name}" in the registry`);
      record = this.toRecord(row);
    }
    this.cache.set(ref, record);
    return record;
  }

  /** Every model: version count, latest version and its aliases. */
  list(): ModelSummary[] {
    const rows = this.db
      .prepare('SELECT name, COUNT(*) AS versions, MAX(version) AS latestVersion, MAX(created_at) AS latestCreatedAt FROM versions GROUP BY name ORDER BY name')
      .all() as Omit<ModelSummary, 'aliases'>[];
    const aliases = this.db.prepare('SELECT name, alias, version FROM aliases ORDER BY name, alias').all() as { name: string; alias: string; version: number }[];
    return rows.map((r) => ({ ...r, aliases: Object.fromEntries(aliases.filter((a) => a.name === r.name).map((a) => [a.alias, a.version])) }));
  }

  /** Every version of a model, oldest first. */
  versions(name: string): ModelVersion[] {
    const rows = this.db.prepare('SELECT * FROM versions WHERE name = ? ORDER BY version').all(name) as VersionRow[];
    if (rows.length === 0) throw this.notFound(`no model named "${name}" in the registry`);
    return rows.map((r) => this.toRecord(r));
  }

  /** The HTML report of a version, if one was registered. */
  report(ref: string): string | undefined {
    const v = this.resolve(ref);
    return v.reportChecksum ? readFileSync(this.store.path(v.reportChecksum), 'utf8') : undefined;
  }

  diff(name: string, a: number, b: number): VersionDiff {
    return diffVersions(this.get(name, a), this.get(name, b));
  }

  // ---- aliases and archiving ----------------------------------------------------------------

  private moveAlias(name: string, alias: string, version: number, by: string, at: string): AliasMove {
    const previous = this.stmts.aliasTarget.get(name, alias)?.version ?? null;
    this.stmts.upsertAlias.run(name, alias, version, at, by);
    this.stmts.insertHistory.run(name, alias, previous, version, at, by);
    return { name, alias, fromVersion: previous, toVersion: version, at, by };
  }

  /** Points `alias` at `name`'s `version` (atomically; the move is recorded in the alias history). */
  setAlias(name: string, version: number, alias: string, by = defaultUser()): AliasMove {
    checkAliasName(alias);
    const move = this.db
      .transaction(() => {
        const row = this.stmts.version.get(name, version);
        if (!row) throw this.notFound(this.hasModel(name) ? `model "${name}" has no version ${version}` : `no model named "${name}" in the registry`);
        if (row.archived_at) throw new FrescoError('FRESCO_ERR_MODEL_ARCHIVED', `${name}@${version} is archived; an alias cannot point at it`);
        return this.moveAlias(name, alias, version, by, now());
      })
      .immediate();
    this.invalidate();
    return move;
  }

  /** Every move of a model's aliases (or of one alias), oldest first. */
  aliasHistory(name: string, alias?: string): AliasMove[] {
    const rows = (
      alias === undefined
        ? this.db.prepare('SELECT * FROM alias_history WHERE name = ? ORDER BY id').all(name)
        : this.db.prepare('SELECT * FROM alias_history WHERE name = ? AND alias = ? ORDER BY id').all(name, alias)
    ) as { name: string; alias: string; from_version: number | null; to_version: number; at: string; by: string }[];
    return rows.map((r) => ({ name: r.name, alias: r.alias, fromVersion: r.from_version, toVersion: r.to_version, at: r.at, by: r.by }));
  }

  /** Archives a version: it stays readable by number but no longer counts as the latest. */
  archive(name: string, version: number, by = defaultUser()): ModelVersion {
    this.db
      .transaction(() => {
        const row = this.stmts.version.get(name, version);
        if (!row) throw this.notFound(this.hasModel(name) ? `model "${name}" has no version ${version}` : `no model named "${name}" in the registry`);
        if (row.archived_at) return;
        const aliases = this.stmts.aliasesOf.all(name, version) as string[];
        if (aliases.length) throw new FrescoError('FRESCO_ERR_MODEL_ARCHIVED', `${name}@${version} is the target of alias(es) ${aliases.join(', ')}; move them before archiving it`);
        this.db.prepare('UPDATE versions SET archived_at = ?, archived_by = ? WHERE name = ? AND version = ?').run(now(), by, name, version);
      })
      .immediate();
    this.invalidate();
    return this.get(name, version);
  }

  // ---- packages out -------------------------------------------------------------------------

  /**
   * A verified package folder for `ref` (under <registry>/packages/<checksum>), materialized from
   * the artifact store on first use. Serving and batch load models from here.
   */
  async materialize(ref: string): Promise<ModelPackage> {
    const v = this.resolve(ref);
    const dir = join(this.dir, 'packages', checksumHex(v.packageChecksum));
    if (existsSync(dir)) return this.verified(await loadPackage(dir), v);
    const tmp = this.store.newStagingDir();
    try {
      for (const f of v.files) {
        const target = join(tmp, f.path);
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(this.store.path(f.checksum), target);
      }
      const pkg = this.verified(await loadPackage(tmp), v);
      mkdirSync(dirname(dir), { recursive: true });
      try {
        renameSync(tmp, dir);
      } catch (error) {
        // Another process materialized it first: theirs is identical.
        if (!existsSync(dir)) throw error;
      }
      return { ...pkg, dir };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  private verified(pkg: ModelPackage, v: ModelVersion): ModelPackage {
    if (pkg.checksum !== v.packageChecksum) {
      throw new FrescoError('FRESCO_ERR_REGISTRY_CORRUPT', `${pkg.dir}: package checksum ${pkg.checksum} differs from ${v.name}@${v.version}'s ${v.packageChecksum}`, { location: { file: pkg.dir } });
    }
    return pkg;
  }

  /** Writes `ref`'s package as a .tgz archive; registering it elsewhere gives the same checksums. */
  async export(ref: string, file: string): Promise<{ file: string; name: string; version: number; packageChecksum: string }> {
    const pkg = await this.materialize(ref);
    const v = this.resolve(ref);
    await packArchive(pkg, file);
    return { file, name: v.name, version: v.version, packageChecksum: pkg.checksum };
  }
}
