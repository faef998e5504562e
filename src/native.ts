/**
 * The one TypeScript module that loads the native addon. It is loaded lazily, on first use, and
 * cached. Where it comes from, in order:
 *   1. the prebuilt package for this platform, `fresco-ml-<platform>` (e.g. fresco-ml-linux-x64-gnu),
 *      which npm installs through fresco-ml's optionalDependencies (scripts/pack-release.mjs
 *      writes them into the published package.json; the repository's own does not list them,
 *      so a checkout never picks up a published binary instead of its own build);
 *   2. native/fresco.node under the package root: the build from source (`npm run build:native`),
 *      the contributor's path and the one for platforms without a prebuilt package.
 *
 * Errors: no addon at all is FRESCO_ERR_NATIVE_MISSING, naming the package to install for this
 * platform and how to build from source; one built for another ABI (or one that will not load)
 * is FRESCO_ERR_NATIVE_STALE. The addon throws errors whose `code` is a Fresco error code;
 * `nativeError` below turns them into FrescoErrors, in one place.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FrescoError, isErrorCode } from './errors/index.js';
import { PACKAGE_NAME, packageRoot } from './package-root.js';
import { planToJson } from './plan/json.js';

/** Must equal fresco_core::ABI_VERSION (native/core/src/lib.rs); bump both together. */
const NATIVE_ABI = 2;

export interface NativeColumn {
  kind: 'f64' | 'f32' | 'i32' | 'i64' | 'bool' | 'dict' | 'utf8';
  values?: Float64Array | Float32Array | Int32Array | BigInt64Array | Uint8Array; // numeric kinds (bool = Uint8Array)
  validity?: Uint8Array; // optional Arrow-style bitmap, LSB first
  codes?: Int32Array;
  dictionary?: string[]; // dict
  offsets?: Int32Array;
  data?: Uint8Array; // utf8
}

export interface NativePlan {
  readonly inputCount: number;
  readonly outputCount: number;
  /** rows x outputCount row-major matrix */
  run(columns: NativeColumn[], rows: number): Float32Array;
  /** Like run, into a caller's buffer of exactly rows x outputCount floats: reusing one buffer
   *  across batches saves allocating and page-faulting a new matrix each time. */
  runInto(columns: NativeColumn[], rows: number, out: Float32Array): void;
  /** One row, the online path: numeric[i] is input slot i's value (NaN = null; ignored for str inputs);
   *  strings holds the str inputs in slot order (null = null). Writes outputCount floats into out. */
  runRow(numeric: Float64Array, strings: (string | null)[], out: Float32Array): void;
}

/** The addon's raw surface (native/binding/src/lib.rs). */
type PlanHandle = object;
interface Binding {
  abiVersion(): number;
  compilePlan(json: string): PlanHandle;
  compilePlanAsync?(json: string): Promise<PlanHandle>;
  planInfo(handle: PlanHandle): { inputCount: number; outputCount: number; strInputCount: number; inputNames: string[] };
  planRun(handle: PlanHandle, columns: unknown, rows: number, out: Float32Array): void;
  planRunRow(handle: PlanHandle, numeric: unknown, strings: unknown, out: unknown): void;
  assembleColumns(columns: unknown, rows: number, out: Float32Array): void;
}

const REBUILD = 'run `npm run build:native`';
let binding: Binding | undefined;
let addonPath: string | undefined;
/** The addon chosen (see the top of this file), resolved once. */
let chosen: { path: string; prebuilt: boolean } | undefined;

/**
 * napi-rs's name for a platform, the suffix of its prebuilt package: linux-x64-gnu,
 * linux-arm64-musl, darwin-arm64, win32-x64-msvc... (scripts/pack-native.mjs names packages the same way).
 */
export function nativePlatform(platform: string = process.platform, arch: string = process.arch, musl: boolean = isMusl()): string {
  if (platform === 'linux') return arch === 'arm' ? `linux-arm-${musl ? 'musleabihf' : 'gnueabihf'}` : `linux-${arch}-${musl ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** The npm package holding the prebuilt addon for this platform. */
export function nativePackageName(platform?: string, arch?: string, musl?: boolean): string {
  return `${PACKAGE_NAME}-${nativePlatform(platform, arch, musl)}`;
}

function isMusl(): boolean {
  if (process.platform !== 'linux') return false;
  // As napi-rs's loaders do: ldd names musl on musl systems (a cheap read); failing that, Node's
  // report (about 15 ms) names the glibc it runs on, and on musl there is none.
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    // no ldd: ask the report
  }
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return !header?.glibcVersionRuntime;
}

function packageManifest(): { version: string; optionalDependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string; optionalDependencies?: Record<string, string> };
}

function choose(): { path: string; prebuilt: boolean } {
  if (addonPath) return { path: addonPath, prebuilt: false };
  if (!chosen) {
    let prebuilt: string | undefined;
    try {
      // The package's main is its .node file; resolving finds it wherever npm placed it.
      prebuilt = createRequire(import.meta.url).resolve(nativePackageName());
    } catch {
      prebuilt = undefined;
    }
    chosen = prebuilt ? { path: prebuilt, prebuilt: true } : { path: join(packageRoot(), 'native', 'fresco.node'), prebuilt: false };
  }
  return chosen;
}

/** Absolute path of the addon that is (or would be) loaded. */
export function nativeAddonPath(): string {
  return choose().path;
}

/** What to do about an addon that is stale or incomplete: reinstall the prebuilt one, or rebuild. */
function remedy(): string {
  if (!choose().prebuilt) return `rebuild it: ${REBUILD}`;
  return `reinstall it at ${PACKAGE_NAME}'s version: \`npm install ${nativePackageName()}@${packageManifest().version}\``;
}

/** Why there is no addon, and what to install (or build) on this platform. */
function missingMessage(path: string): string {
  if (addonPath) return `The native addon is not built: ${path} does not exist; ${REBUILD}.`;
  const name = nativePackageName();
  const { version, optionalDependencies = {} } = packageManifest();
  const prebuilt = Object.keys(optionalDependencies).filter((dep) => dep.startsWith(`${PACKAGE_NAME}-`));
  const install = prebuilt.includes(name)
    ? `Install the prebuilt addon for this platform: \`npm install ${name}@${version}\` (npm leaves it out when optional dependencies are omitted, e.g. --omit=optional)`
    : `No prebuilt addon is published for ${nativePlatform()} (prebuilt: ${prebuilt.map((dep) => dep.slice(PACKAGE_NAME.length + 1)).join(', ') || 'none in this checkout'})`;
  return `The native addon is missing: no package ${name} and no build at ${path}. ${install}; or build it from source with Rust (cargo): ${REBUILD} in ${packageRoot()}.`;
}

/** For tests only: load the addon from another path (undefined: the default), dropping the cache. */
export function setNativeAddonPathForTests(path: string | undefined): void {
  addonPath = path;
  chosen = undefined;
  binding = undefined;
}

function load(): Binding {
  if (binding) return binding;
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    throw new FrescoError('FRESCO_ERR_NATIVE_MISSING', missingMessage(path));
  }
  let loaded: Partial<Binding>;
  try {
    loaded = createRequire(import.meta.url)(path) as Partial<Binding>;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new FrescoError('FRESCO_ERR_NATIVE_STALE', `The native addon at ${path} could not be loaded (${detail}); ${remedy()}.`, { cause: error });
  }
  const abi = typeof loaded.abiVersion === 'function' ? loaded.abiVersion() : undefined;
  if (abi !== NATIVE_ABI) {
    throw new FrescoError(
      'FRESCO_ERR_NATIVE_STALE',
      `The native addon at ${path} has ABI version ${abi ?? '(none)'}, but this package expects ${NATIVE_ABI}; ${remedy()}.`,
    );
  }
  binding = loaded as Binding;
  return binding;
}

/** The one place where an error thrown by the addon becomes a FrescoError. */
function nativeError(error: unknown): FrescoError {
  if (error instanceof FrescoError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && isErrorCode(code)) return new FrescoError(code, message, { cause: error });
  const tagged = /^\[(FRESCO_ERR_[A-Z_]+)\] ([\s\S]*)$/.exec(message);
  if (tagged && isErrorCode(tagged[1] as string)) return new FrescoError(tagged[1] as never, tagged[2] as string, { cause: error });
  return new FrescoError('FRESCO_ERR_INTERNAL', `native addon: ${message}`, { cause: error });
}


function checkRows(rows: unknown): number {
  if (typeof rows !== 'number' || !Number.isInteger(rows) || rows < 0 || rows > 0xffff_ffff) {
    throw new FrescoError('FRESCO_ERR_PLAN_INPUT', `rows must be an integer from 0 to 4294967295, got ${String(rows)}`);
  }
  return rows;
}

function allocate(length: number): Float32Array {
  try {
    return new Float32Array(length);
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_PLAN_INPUT', `the output matrix (${length} floats) is too large to allocate`, { cause: error });
  }
}

class CompiledNativePlan implements NativePlan {
  readonly inputCount: number;
  readonly outputCount: number;
  readonly inputNames: readonly string[];
  readonly #handle: PlanHandle;
  readonly #binding: Binding;

  constructor(b: Binding, handle: PlanHandle) {
    this.#binding = b;
    this.#handle = handle;
    const info = b.planInfo(handle);
    this.inputCount = info.inputCount;
    this.outputCount = info.outputCount;
    this.inputNames = info.inputNames;
  }

  run(columns: NativeColumn[], rows: number): Float32Array {
    checkRows(rows);
    const out = allocate(rows * this.outputCount);
    this.runInto(columns, rows, out);
    return out;
  }

  runInto(columns: NativeColumn[], rows: number, out: Float32Array): void {
    checkRows(rows);
    if (!Array.isArray(columns)) {
      throw new FrescoError('FRESCO_ERR_PLAN_INPUT', `columns must be an array (one column per plan input), got ${typeof columns}`);
    }
    try {
      this.#binding.planRun(this.#handle, columns, rows, out);
    } catch (error) {
      throw nativeError(error);
    }
  }

  runRow(numeric: Float64Array, strings: (string | null)[], out: Float32Array): void {
    try {
      this.#binding.planRunRow(this.#handle, numeric, strings, out);
    } catch (error) {
      throw nativeError(error);
    }
  }
}

/**
 * Validates and compiles a plan (the plan object, or its JSON text) for the native executor.
 * Throws FRESCO_ERR_PLAN_INVALID for a malformed plan (the message names the op).
 */
export function compileNativePlan(plan: unknown): NativePlan {
  const b = load();
  let json: string | undefined;
  if (typeof plan === 'string') {
    json = plan;
  } else {
    json = planToJson(plan);
  }
  try {
    return new CompiledNativePlan(b, b.compilePlan(json));
  } catch (error) {
    throw nativeError(error);
  }
}

/**
 * compileNativePlan with the parse and compile on libuv's thread pool (the event loop only turns
 * the plan into JSON text and wraps the result): a server compiles a version's plan this way
 * while it serves the old one.
 */
export async function compileNativePlanAsync(plan: unknown): Promise<NativePlan> {
  const b = load();
  const json = typeof plan === 'string' ? plan : planToJson(plan);
  if (typeof b.compilePlanAsync !== 'function') throw new FrescoError('FRESCO_ERR_NATIVE_STALE', `The native addon at ${nativeAddonPath()} cannot compile plans off the event loop; ${remedy()}.`);
  try {
    return new CompiledNativePlan(b, await b.compilePlanAsync(json));
  } catch (error) {
    throw nativeError(error);
  }
}

/** Interleaves f32 columns (each `rows` long) into a row-major rows x columns.length matrix. */
export function assembleColumns(columns: Float32Array[], rows: number): Float32Array {
  const b = load();
  checkRows(rows);
  if (!Array.isArray(columns)) throw new FrescoError('FRESCO_ERR_PLAN_INPUT', `columns must be an array of Float32Array, got ${typeof columns}`);
  const out = allocate(rows * columns.length);
  try {
    b.assembleColumns(columns, rows, out);
  } catch (error) {
    throw nativeError(error);
  }
  return out;
}

/** The loaded addon's ABI version and path (loads it). */
export function nativeInfo(): { abi: number; path: string } {
  const b = load();
  return { abi: b.abiVersion(), path: nativeAddonPath() };
}

// ---------------------------------------------------------------- online store (embedded)
// Wrappers over the embedded online store's functions (native/binding/src/online.rs). The
// layout of write batches and rows is documented in src/online/row-codec.ts.

type OnlineHandle = object;
interface OnlineBinding {
  onlineOpen(path: string, mapSize: number): OnlineHandle;
  onlineClose(handle: OnlineHandle): void;
  onlineApply(handle: OnlineHandle, ops: Uint8Array): { written: number; skippedOlder: number; deleted: number };
  onlineMeta(handle: OnlineHandle, table: string): Buffer | null;
  onlineTables(handle: OnlineHandle): string[];
  onlineCount(handle: OnlineHandle, table: string): number;
  onlineRead(
    handle: OnlineHandle,
    table: string,
    keys: string[],
    asOfMs: number,
    values: Float64Array,
    valid: Uint8Array,
    times: Float64Array,
    status: Uint8Array,
    strings: (string | null)[],
  ): number;
}

/** An open embedded (LMDB) online store: plain calls into the native core. */
export interface NativeOnlineStore {
  /** Applies a framed write batch in one transaction (all or nothing). */
  apply(ops: Uint8Array): { written: number; skippedOlder: number; deleted: number };
  meta(table: string): Uint8Array | null;
  tables(): string[];
  count(table: string): number;
  /**
   * Reads `keys` of `table` in one transaction into the given arrays (keys x features for
   * values/valid); string features are appended to `strings`. Returns the table's schema hash
   * (see src/online/row-codec.ts), or -1 when the table is unknown.
   */
  read(table: string, keys: string[], asOfMs: number, values: Float64Array, valid: Uint8Array, times: Float64Array, status: Uint8Array, strings: (string | null)[]): number;
  close(): void;
}

export function openNativeOnlineStore(path: string, mapSize: number): NativeOnlineStore {
  const b = load() as unknown as Binding & OnlineBinding;
  if (typeof b.onlineOpen !== 'function') {
    throw new FrescoError('FRESCO_ERR_NATIVE_STALE', `The native addon at ${nativeAddonPath()} has no online store; ${remedy()}.`);
  }
  const call = <T>(f: () => T): T => {
    try {
      return f();
    } catch (error) {
      throw nativeError(error);
    }
  };
  const handle = call(() => b.onlineOpen(path, mapSize));
  return {
    apply: (ops) => call(() => b.onlineApply(handle, ops)),
    meta: (table) => call(() => b.onlineMeta(handle, table)),
    tables: () => call(() => b.onlineTables(handle)),
    count: (table) => call(() => b.onlineCount(handle, table)),
    read: (table, keys, asOfMs, values, valid, times, status, strings) => {
      try {
        return b.onlineRead(handle, table, keys, asOfMs, values, valid, times, status, strings);
      } catch (error) {
        throw nativeError(error);
      }
    },
    close: () => call(() => b.onlineClose(handle)),
  };
}

// ---- training: gradient-boosted trees (native/train, native/binding/src/train.rs) -------------

interface TrainBinding {
  trainGbdt(x: Float32Array, rows: number, cols: number, y: Float64Array, validX: Float32Array | null, validRows: number, validY: Float64Array | null, params: string): string;
  predictGbdt(booster: string, x: Float32Array, rows: number, cols: number): Float64Array;
}

function trainBinding(): TrainBinding {
  const b = load() as unknown as Binding & Partial<TrainBinding>;
  if (typeof b.trainGbdt !== 'function' || typeof b.predictGbdt !== 'function') {
    throw new FrescoError('FRESCO_ERR_NATIVE_STALE', `The native addon at ${nativeAddonPath()} has no GBDT trainer; ${remedy()}.`);
  }
  return b as TrainBinding;
}

/** Trains gradient-boosted trees on a row-major f32 matrix; returns the trainer's JSON output (src/training/gbdt.ts reads it). */
export function nativeTrainGbdt(x: Float32Array, rows: number, cols: number, y: Float64Array, valid: { x: Float32Array; rows: number; y: Float64Array } | undefined, params: string): string {
  const b = trainBinding();
  try {
    return b.trainGbdt(x, rows, cols, y, valid?.x ?? null, valid?.rows ?? 0, valid?.y ?? null, params);
  } catch (error) {
    throw nativeError(error);
  }
}

/** Raw scores (log-odds for binary) of a row-major f32 matrix under a booster from nativeTrainGbdt. */
export function nativePredictGbdt(booster: string, x: Float32Array, rows: number, cols: number): Float64Array {
  const b = trainBinding();
  try {
    return b.predictGbdt(booster, x, rows, cols);
  } catch (error) {
    throw nativeError(error);
  }
}

// ---- thread scheduling classes (native/binding/src/sched.rs) ------------------------------------

/**
 * Moves thread `tid` of this process into Linux's SCHED_IDLE class (`background`) or back into
 * the normal class. Returns undefined when done, or why not (another process's thread, the OS
 * refused, not Linux). Never throws: callers treat scheduling as best effort.
 */
export function nativeSetThreadBackground(tid: number, background: boolean): string | undefined {
  const b = load() as unknown as Binding & { setThreadBackground?(tid: number, background: boolean): string | null };
  if (typeof b.setThreadBackground !== 'function') return `the native addon at ${nativeAddonPath()} cannot set scheduling classes; ${remedy()}`;
  return b.setThreadBackground(tid, background) ?? undefined;
}

// ---- completion signals (native/binding/src/signal.rs) ---------------------------------------

export interface NativeSignals {
  /** Opens a signal whose sends call `callback(value)` on this thread's event loop; returns its id. */
  signalOpen(callback: (value: number) => void): number;
  /** From any thread that loaded the addon: false when there is no such signal. */
  signalSend(id: number, value: number): boolean;
  signalClose(id: number): void;
}

/** The addon's completion signals, or undefined when the addon is missing or predates them. */
export function nativeSignals(): NativeSignals | undefined {
  try {
    const b = load() as unknown as Binding & Partial<NativeSignals>;
    return typeof b.signalOpen === 'function' && typeof b.signalSend === 'function' && typeof b.signalClose === 'function' ? (b as unknown as NativeSignals) : undefined;
  } catch {
    return undefined;
  }
}
