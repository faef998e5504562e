/**
 * A Python package's environment (docs/python-models.md): a venv built with pip from the
 * package's requirements.txt and its local package (setup.py / pyproject.toml), keyed by the
 * sha256 of those files and the Python version, and cached in `pythonEnvRoot()/<key>`, shared by
 * every model version with the same key. Built in a folder of its own and renamed into place, so
 * concurrent builders never see a half-built one (the loser's is dropped). `pip freeze` is
 * written beside it as `fresco-lock.txt`.
 *
 * Air-gapped machines: FRESCO_PIP_FIND_LINKS (a wheelhouse folder, pip's --find-links) and
 * FRESCO_PIP_NO_INDEX=1 (pip's --no-index) are passed to every install.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FrescoError } from '../errors/index.js';
import type { Manifest } from '../models/index.js';

const run = promisify(execFile);

export const LOCK_FILE = 'fresco-lock.txt';
/** Files that make a local package: any of them turns `pip install <package>` on. */
const LOCAL_PACKAGE_FILES = ['setup.py', 'pyproject.toml'];

export interface PythonEnv {
  /** The venv folder. */
  dir: string;
  python: string;
  key: string;
  /** The base Python's version (part of the key). */
  pythonVersion: string;
  /** `pip freeze` of the venv. */
  lock: string;
}

/** Where environments are cached: $FRESCO_PYTHON_ENVS, default ~/.cache/fresco/python-envs. */
export function pythonEnvRoot(): string {
  return process.env.FRESCO_PYTHON_ENVS ?? join(homedir(), '.cache', 'fresco', 'python-envs');
}

/** The Python that builds venvs: $FRESCO_PYTHON, default python3. */
export function basePython(): string {
  return process.env.FRESCO_PYTHON ?? 'python3';
}

let version: Promise<string> | undefined;
async function pythonVersion(): Promise<string> {
  version ??= run(basePython(), ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])']).then(
    (r) => r.stdout.trim(),
    (error: Error) => {
      version = undefined;
      throw new FrescoError('FRESCO_ERR_PYTHON_ENV_FAILED', `python models need Python 3 (${basePython()}; set FRESCO_PYTHON): ${error.message}`, { cause: error });
    },
  );
  return version;
}

/**
 * The environment key: sha256 over the Python version, requirements.txt and, when the package
 * has a local package, every .py / .toml / .cfg file but model.py (its sources). Artifacts and
 * model.py do not count: versions that only retrain share their environment.
 */
export async function envKey(manifest: Manifest): Promise<string> {
  const hash = createHash('sha256').update(`python ${await pythonVersion()}\n`);
  const paths = Object.keys(manifest.files).sort();
  const local = paths.some((p) => LOCAL_PACKAGE_FILES.includes(p));
  for (const path of paths) {
    const counts = path === 'requirements.txt' || (local && path !== manifest.model && /\.(py|toml|cfg)$/.test(path));
    if (counts) hash.update(`${path}\0${manifest.files[path]}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

function pipOptions(): string[] {
  const options = ['--disable-pip-version-check', '--no-input', '-q'];
  if (process.env.FRESCO_PIP_FIND_LINKS) options.push('--find-links', process.env.FRESCO_PIP_FIND_LINKS);
  if (process.env.FRESCO_PIP_NO_INDEX === '1') options.push('--no-index');
  return options;
}

const building = new Map<string, Promise<PythonEnv>>();

/** The package's environment, built on first use (pip's own words on failure; nothing is kept). */
export async function ensurePythonEnv(dir: string, manifest: Manifest): Promise<PythonEnv> {
  const key = await envKey(manifest);
  let pending = building.get(key);
  if (!pending) {
    pending = build(dir, manifest, key).finally(() => building.delete(key));
    building.set(key, pending);
  }
  return pending;
}

async function build(pkgDir: string, manifest: Manifest, key: string): Promise<PythonEnv> {
  const root = pythonEnvRoot();
  const dir = join(root, key);
  const python = join(dir, 'bin', 'python');
  if (existsSync(join(dir, LOCK_FILE))) return { dir, python, key, pythonVersion: await pythonVersion(), lock: readFileSync(join(dir, LOCK_FILE), 'utf8') };
  mkdirSync(root, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const tmpPython = join(tmp, 'bin', 'python');
  // pip builds a local package in its source folder (egg-info, build/): a copy keeps the package clean.
  const source = join(tmpdir(), `fresco-pysrc-${process.pid}-${Date.now()}`);
  try {
    await step('create the venv', basePython(), ['-m', 'venv', tmp]);
    const files = Object.keys(manifest.files);
    if (files.includes('requirements.txt')) {
      await step('install requirements.txt', tmpPython, ['-m', 'pip', 'install', ...pipOptions(), '-r', join(pkgDir, 'requirements.txt')], pkgDir);
    }
    if (files.some((p) => LOCAL_PACKAGE_FILES.includes(p))) {
      cpSync(pkgDir, source, { recursive: true });
      await step('install the local package (setup.py / pyproject.toml)', tmpPython, ['-m', 'pip', 'install', ...pipOptions(), source]);
    }
    await step('import numpy (the runner needs it: list numpy in requirements.txt)', tmpPython, ['-c', 'import numpy']);
    const lock = (await step('pip freeze', tmpPython, ['-m', 'pip', 'freeze', '--disable-pip-version-check'])).trim() + '\n';
    writeFileSync(join(tmp, LOCK_FILE), lock);
    try {
      renameSync(tmp, dir);
    } catch (error) {
      // Another process built the same environment first: it is as good as ours.
      if (!existsSync(join(dir, LOCK_FILE))) throw error;
    }
    return { dir, python, key, pythonVersion: await pythonVersion(), lock: readFileSync(join(dir, LOCK_FILE), 'utf8') };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(source, { recursive: true, force: true });
  }
}

async function step(what: string, cmd: string, args: string[], cwd?: string): Promise<string> {
  try {
    return (await run(cmd, args, { maxBuffer: 32 << 20, ...(cwd ? { cwd } : {}) })).stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    const words = (e.stderr || e.stdout || e.message).trim().split('\n').slice(-30).join('\n');
    throw new FrescoError('FRESCO_ERR_PYTHON_ENV_FAILED', `the python environment could not be built (${what}):\n${words}`, { cause: error });
  }
}

/** Names in packages.txt (one Debian package a line; `#` comments). */
export function systemPackages(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
}

/** Fails naming every packages.txt entry dpkg does not know as installed. */
export async function checkSystemPackages(names: string[], file = 'packages.txt'): Promise<void> {
  if (!names.length) return;
  const missing: string[] = [];
  for (const name of names) {
    try {
      const { stdout } = await run('dpkg-query', ['-W', '-f=${Status}', name]);
      if (!stdout.includes('install ok installed')) missing.push(name);
    } catch {
      missing.push(name);
    }
  }
  if (missing.length) {
    throw new FrescoError('FRESCO_ERR_SYSTEM_PACKAGE_MISSING', `${file}: system package${missing.length > 1 ? 's' : ''} not installed: ${missing.join(', ')} (install with apt-get, or build the image from the package)`, { location: { file } });
  }
}
