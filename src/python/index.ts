/**
 * Python model packages (backend `python`, docs/python-models.md): their environments (env.ts)
 * and the worker processes that serve them (worker.ts, python/fresco_runner.py).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ModelPackage } from '../models/index.js';
import { resolveInPackage } from '../models/index.js';
import { checkSystemPackages, ensurePythonEnv, systemPackages } from './env.js';
import { PythonWorker } from './worker.js';

export { ensurePythonEnv, envKey, pythonEnvRoot, checkSystemPackages, systemPackages, LOCK_FILE, type PythonEnv } from './env.js';
export { PythonWorker, runnerPath, type PythonWorkerOptions } from './worker.js';

/** How long a worker's load() may take: $FRESCO_PYTHON_LOAD_TIMEOUT_MS, default 120 s. */
export function loadTimeoutMs(): number {
  const value = Number(process.env.FRESCO_PYTHON_LOAD_TIMEOUT_MS);
  return Number.isFinite(value) && value > 0 ? value : 120_000;
}

/** The runner's configuration for a package (fresco_runner.py reads it once, at start). */
export function runnerConfig(pkg: ModelPackage): Record<string, unknown> {
  const m = pkg.manifest;
  return {
    dir: pkg.dir,
    model: m.model,
    input_kind: m.input_kind,
    inputs: m.signature.inputs.map((s) => s.name),
    outputs: m.signature.outputs.map((s) => ({ name: s.name, dtype: s.dtype, shape: s.shape })),
    // A dataframe model's columns: the frozen plan's named outputs.
    columns: pkg.plan ? pkg.plan.outputs.map((slot, i) => pkg.plan?.output_names?.[i] ?? `f${slot}`) : m.signature.inputs.map((s) => s.name),
  };
}

/**
 * Everything a served Python version needs before its workers start: the environment (built on
 * first use, cached) and the system packages of packages.txt. Returns a worker factory.
 */
export async function pythonWorkers(pkg: ModelPackage, slotBytes: number, log: Logger, onReady: () => void, onDied?: () => void, memoryLimitMb?: number): Promise<() => PythonWorker> {
  const env = await ensurePythonEnv(pkg.dir, pkg.manifest);
  const packagesTxt = resolveInPackage(pkg.dir, 'packages.txt');
  if (packagesTxt && Object.hasOwn(pkg.manifest.files, 'packages.txt')) await checkSystemPackages(systemPackages(readFileSync(packagesTxt, 'utf8')));
  const config = { ...runnerConfig(pkg), ...(memoryLimitMb ? { memory_limit_mb: memoryLimitMb } : {}) };
  const options = {
    python: env.python,
    config,
    inputNames: pkg.manifest.signature.inputs.map((s) => s.name),
    outputNames: pkg.manifest.signature.outputs.map((s) => s.name),
    slotBytes,
    loadTimeoutMs: loadTimeoutMs(),
    log: log.child({ pythonEnv: env.key }),
    onReady,
    ...(onDied ? { onDied } : {}),
  };
  return () => new PythonWorker(options);
}
