/**
 * The model manager: which model versions are loaded, which refs clients may name, and how a
 * request's ref becomes a version (served refs, aliases, pinned versions, traffic split, shadow).
 *
 * Hot swap in place: when a served ref (`name@production`) moves to a new version — because the
 * alias moved in the registry (seen by `sync`, polled) or through the admin API — the new version
 * is loaded and warmed beside the old one, the ref is switched in one assignment, and the old
 * version is released once nothing refers to it: it drains (every request already routed to it
 * is answered) and then closes. A version that fails to load or warm leaves the old one serving
 * and the reason is kept (`lastError`) and logged.
 */
import { existsSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { FrescoError, toFrescoError } from '../errors/index.js';
import { loadPackage, type ModelPackage } from '../models/index.js';
import type { ModelRegistry } from '../registry/index.js';
import { parseRef } from '../registry/ref.js';
import type { FeatureLookup } from './feature-lookup.js';
import { checkContract } from './contract.js';
import { LoadedModel } from './loaded-model.js';
import type { ServingMetrics } from './metrics.js';
import { type ModelSettings, type ModelSettingsInput, parseModelSettings } from './settings.js';
import { betweenLoadSteps } from './pace.js';

export interface RoutePolicy {
  /** Weighted versions of the same model; each request picks one (naming a version pins it and skips the split). */
  split?: { version: number; weight: number }[];
  /** A version that receives a copy of every request; its answer is recorded, never returned. */
  shadow?: { version: number };
}

export interface ShadowRecord {
  at: string;
  requestId: number;
  primary: number;
  shadow: number;
  /** Largest absolute difference between the two answers' outputs (null when shapes differ). */
  maxAbsDiff: number | null;
  error?: string;
}

interface Served {
  ref: string;
  current: LoadedModel;
  lastError?: string;
  policy?: RoutePolicy;
  /** What the registry resolved the ref to when last looked at: sync swaps only when that changes,
   *  so an explicit admin swap is not undone by the next poll. */
  registryVersion: number;
  /** Served from a package folder: not re-resolved against the registry. */
  folder: boolean;
  /** Loaded models of the split and shadow, by version. */
  extra: Map<number, LoadedModel>;
}

export interface ManagerOptions {
  registry?: ModelRegistry | undefined;
  lookup?: FeatureLookup | undefined;
  metrics?: ServingMetrics | undefined;
  log: Logger;
  /** Settings for every model, overridden per model name by `models`. */
  defaults?: ModelSettingsInput;
  models?: Record<string, ModelSettingsInput>;
}

export class ModelManager {
  readonly #served = new Map<string, Served>();
  /** Loaded versions, by `name@version`, with how many refs hold them. */
  readonly #loaded = new Map<string, { model: LoadedModel; refs: number }>();
  /** Loads in progress, so two refs that want the same version share one load. */
  readonly #loading = new Map<string, Promise<LoadedModel>>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #shadowLog = new Map<string, ShadowRecord[]>();
  readonly #packages = new Map<string, ModelPackage>();
  readonly #settings = new Map<string, ModelSettings>();
  #closed = false;

  constructor(readonly options: ManagerOptions) {}

  get log(): Logger {
    return this.options.log;
  }

  settingsFor(name: string): ModelSettings {
    // Parsed once per model name: the settings are fixed for the manager's life, and a hot swap
    // should not spend its event-loop time validating them again.
    let settings = this.#settings.get(name);
    if (!settings) this.#settings.set(name, (settings = parseModelSettings({ ...this.options.defaults, ...this.options.models?.[name] }, `settings of model "${name}"`)));
    return settings;
  }

  /** Starts serving `ref` (a registry ref, or a package folder). Resolves once it is loaded and warm. */
  async serve(ref: string): Promise<LoadedModel> {
    return this.#locked(ref, async () => {
      const existing = this.#served.get(ref);
      if (existing) return existing.current;
      const { name, version, pkg } = await this.#resolve(ref);
      // A package folder is served under its manifest's name (clients name models, not paths).
      const key = isFolder(ref) ? name : ref;
      const known = this.#served.get(key);
      if (known) return known.current;
      const model = await this.#acquire(name, version, pkg);
      this.#served.set(key, { ref: key, current: model, extra: new Map(), registryVersion: version, folder: isFolder(ref) });
      return model;
    });
  }

  /** Stops serving `ref`; its versions drain and unload once nothing else holds them. */
  async unserve(ref: string): Promise<void> {
    await this.#locked(ref, async () => {
      const served = this.#served.get(ref);
      if (!served) throw new FrescoError('FRESCO_ERR_MODEL_NOT_FOUND', `"${ref}" is not served`);
      this.#served.delete(ref);
      await Promise.all([served.current, ...served.extra.values()].map((m) => this.#release(m)));
    });
  }

  /**
   * Moves `ref` to `version` (hot swap). Loads and warms it first; on failure the old version
   * keeps serving and the error (FRESCO_ERR_MODEL_LOAD_FAILED) says why.
   */
  async swap(ref: string, version: number, options: { force?: boolean } = {}): Promise<{ from: number; to: number }> {
    return this.#locked(ref, async () => {
      const served = this.#served.get(ref);
      if (!served) throw new FrescoError('FRESCO_ERR_MODEL_NOT_FOUND', `"${ref}" is not served`);
      const old = served.current;
      if (old.version === version) return { from: version, to: version };
      let next: LoadedModel;
      try {
        const pkg = await this.#package(old.name, version);
        // Before loading: a version that takes other inputs would fail every request (contract.ts).
        await checkContract(ref, old, { version, pkg }, options.force, this.options.lookup);
        await betweenLoadSteps();
        next = await this.#acquire(old.name, version, pkg);
      } catch (error) {
        const e = toFrescoError(error);
        served.lastError = e.message;
        this.options.metrics?.swaps.inc({ model: old.name, outcome: 'failed' });
        this.log.error({ ref, from: old.version, to: version, err: e.message }, 'hot swap failed; the old version keeps serving');
        throw e.code === 'FRESCO_ERR_MODEL_LOAD_FAILED' || e.code === 'FRESCO_ERR_CONTRACT_CHANGED' ? e : new FrescoError('FRESCO_ERR_MODEL_LOAD_FAILED', `${old.name}@${version} failed to load: ${e.message}`, { cause: e });
      }
      // The switch: one assignment; requests routed from now on go to the new version.
      served.current = next;
      served.lastError = undefined;
      this.options.metrics?.swaps.inc({ model: old.name, outcome: 'ok' });
      this.log.info({ ref, from: old.version, to: version }, 'hot swap complete');
      await this.#release(old);
      return { from: old.version, to: version };
    });
  }

  /** Loads `name@version`, then moves the registry alias to it and swaps every ref naming that alias. */
  async setAlias(name: string, alias: string, version: number, options: { force?: boolean } = {}): Promise<{ from: number | null; to: number }> {
    const registry = this.#registry();
    const refs = [...this.#served.keys()].filter((r) => r === `${name}@${alias}`);
    const pkg = await this.#package(name, version);
    // Before the alias moves: a served ref whose clients would all fail refuses the move (contract.ts).
    for (const ref of refs) {
      const current = this.#served.get(ref)?.current;
      if (current) await checkContract(ref, current, { version, pkg }, options.force, this.options.lookup);
    }
    // Load and warm before the alias moves, so a broken version never becomes the alias.
    const probe = await this.#acquire(name, version, pkg);
    try {
      const move = registry.setAlias(name, version, alias);
      for (const ref of refs) await this.swap(ref, version, options);
      return { from: move.fromVersion, to: move.toVersion };
    } finally {
      await this.#release(probe);
    }
  }

  /** Sets the split/shadow policy of a served ref, loading the versions it names. */
  async setPolicy(ref: string, policy: RoutePolicy, options: { force?: boolean } = {}): Promise<void> {
    await this.#locked(ref, async () => {
      const served = this.#served.get(ref);
      if (!served) throw new FrescoError('FRESCO_ERR_MODEL_NOT_FOUND', `"${ref}" is not served`);
      // A split answers clients of the ref: each of its versions must take the same inputs (a
      // shadow's answers are only recorded, so it may differ).
      for (const s of policy.split ?? []) await checkContract(ref, served.current, { version: s.version, pkg: await this.#package(served.current.name, s.version) }, options.force, this.options.lookup);
      const versions = new Set<number>([...(policy.split ?? []).map((s) => s.version), ...(policy.shadow ? [policy.shadow.version] : [])]);
      for (const s of policy.split ?? []) {
        if (!(s.weight >= 0) || !Number.isFinite(s.weight)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `split weight of version ${s.version} must be a non-negative number`);
      }
      if (policy.split && !policy.split.some((s) => s.weight > 0)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'a split needs at least one positive weight');
      const extra = new Map<number, LoadedModel>();
      try {
        for (const v of versions) extra.set(v, await this.#acquire(served.current.name, v, await this.#package(served.current.name, v)));
      } catch (error) {
        await Promise.all([...extra.values()].map((m) => this.#release(m)));
        throw error;
      }
      const old = served.extra;
      served.extra = extra;
      served.policy = policy.split || policy.shadow ? policy : undefined;
      await Promise.all([...old.values()].map((m) => this.#release(m)));
    });
  }

  /** The version that answers `ref`, and the shadow that gets a copy, if any. */
  route(ref: string): { primary: LoadedModel; shadow: LoadedModel | undefined } {
    if (this.#closed) throw new FrescoError('FRESCO_ERR_UNAVAILABLE', 'the server is shutting down');
    const served = this.#served.get(ref);
    if (served) {
      const policy = served.policy;
      if (!policy) return { primary: served.current, shadow: undefined };
      let primary = served.current;
      if (policy.split) {
        const total = policy.split.reduce((a, s) => a + s.weight, 0);
        let pick = Math.random() * total;
        for (const s of policy.split) {
          pick -= s.weight;
          if (pick < 0) {
            primary = served.extra.get(s.version) ?? primary;
            break;
          }
        }
      }
      return { primary, shadow: policy.shadow ? served.extra.get(policy.shadow.version) : undefined };
    }
    const parsed = parseRef(ref);
    let version: number;
    if ('version' in parsed) version = parsed.version;
    else {
      if (!this.options.registry) throw new FrescoError('FRESCO_ERR_MODEL_NOT_FOUND', `model "${ref}" is not served`);
      version = this.options.registry.resolve(ref).version;
    }
    const loaded = this.#loaded.get(`${parsed.name}@${version}`);
    if (!loaded) throw new FrescoError('FRESCO_ERR_MODEL_NOT_FOUND', `model "${ref}" (version ${version}) is not loaded on this server; serve it with --models or POST /admin/models`);
    return { primary: loaded.model, shadow: undefined };
  }

  /** Re-resolves every served registry ref and hot-swaps those whose alias moved. */
  async sync(): Promise<void> {
    const registry = this.options.registry;
    if (!registry || this.#closed) return;
    for (const served of [...this.#served.values()]) {
      if (served.folder) continue;
      let version: number;
      try {
        version = registry.resolve(served.ref).version;
      } catch (error) {
        served.lastError = toFrescoError(error).message;
        continue;
      }
      if (version === served.registryVersion) continue;
      served.registryVersion = version;
      if (version === served.current.version) continue;
      await this.swap(served.ref, version).catch(() => {});
    }
  }

  recordShadow(name: string, record: ShadowRecord): void {
    let log = this.#shadowLog.get(name);
    if (!log) this.#shadowLog.set(name, (log = []));
    log.push(record);
    if (log.length > 200) log.splice(0, log.length - 200);
  }

  shadowRecords(name: string): ShadowRecord[] {
    return this.#shadowLog.get(name) ?? [];
  }

  /** Every loaded version (for /v2/models and readiness). */
  loadedModels(): LoadedModel[] {
    return [...this.#loaded.values()].map((l) => l.model);
  }

  servedRefs(): { ref: string; version: number; lastError: string | undefined; policy: RoutePolicy | undefined }[] {
    return [...this.#served.values()].map((s) => ({ ref: s.ref, version: s.current.version, lastError: s.lastError, policy: s.policy }));
  }

  /** Stops routing, drains every loaded version and unloads it. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#loaded.values()].map((l) => l.model);
    this.#served.clear();
    this.#loaded.clear();
    await Promise.all(all.map(async (m) => {
      await m.drain();
      await m.close();
    }));
    this.options.metrics?.loaded.set(0);
  }

  async #resolve(ref: string): Promise<{ name: string; version: number; pkg: ModelPackage }> {
    if (isFolder(ref)) {
      const pkg = await loadPackage(ref);
      const name = pkg.manifest.name;
      // A folder is served as version 1 of its manifest's name (no registry involved).
      this.#packages.set(`${name}@1`, pkg);
      return { name, version: 1, pkg };
    }
    const v = this.#registry().resolve(ref);
    return { name: v.name, version: v.version, pkg: await this.#package(v.name, v.version) };
  }

  async #package(name: string, version: number): Promise<ModelPackage> {
    const key = `${name}@${version}`;
    const known = this.#packages.get(key);
    if (known) return known;
    // A registry version is immutable (its package checksum is recorded), so it is materialized
    // and verified once: verifying re-reads and hashes every file on the event loop, which a
    // swap back to a recent version should not pay again.
    const pkg = await this.#registry().materialize(key);
    this.#packages.set(key, pkg);
    return pkg;
  }

  #registry(): ModelRegistry {
    if (!this.options.registry) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'this server has no model registry (start it with --registry or --project)');
    return this.options.registry;
  }

  async #acquire(name: string, version: number, pkg: ModelPackage): Promise<LoadedModel> {
    const key = `${name}@${version}`;
    const have = this.#loaded.get(key);
    if (have) {
      have.refs++;
      return have.model;
    }
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = LoadedModel.load({ name, version, pkg, settings: this.settingsFor(name), lookup: this.options.lookup, metrics: this.options.metrics, log: this.log });
      this.#loading.set(key, loading);
      loading.then(
        (model) => {
          this.#loading.delete(key);
          this.#loaded.set(key, { model, refs: 0 });
          this.options.metrics?.loaded.set(this.#loaded.size);
        },
        () => this.#loading.delete(key),
      );
    }
    const model = await loading;
    const entry = this.#loaded.get(key) ?? { model, refs: 0 };
    if (!this.#loaded.has(key)) this.#loaded.set(key, entry);
    entry.refs++;
    return model;
  }

  async #release(model: LoadedModel): Promise<void> {
    const key = `${model.name}@${model.version}`;
    const entry = this.#loaded.get(key);
    if (!entry || entry.model !== model) return;
    if (--entry.refs > 0) return;
    this.#loaded.delete(key);
    this.options.metrics?.loaded.set(this.#loaded.size);
    await model.drain();
    await model.close();
    this.log.info({ model: model.name, version: model.version }, 'model version drained and unloaded');
  }

  async #locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.#locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    }
  }
}

function isFolder(ref: string): boolean {
  if (!ref.includes('/') && !ref.startsWith('.')) return false;
  return existsSync(ref) && statSync(ref).isDirectory();
}
