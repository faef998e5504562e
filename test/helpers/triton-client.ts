/**
 * Triton's Python client (`tritonclient[http,grpc]`, PyPI) for the tests that check Fresco with
 * the users' own tools. The virtual environment is created once and cached in
 * $FRESCO_TOOLS/tritonclient-<version> (default ~/.cache/fresco-tools, where perf-analyzer lives
 * too): the first run needs PyPI and about a minute, later runs none of either.
 *
 * Several test files may ask at once (in parallel vitest workers or processes): the venv is
 * built in a folder of its own and renamed into place, so a reader never sees a half-built one.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The pinned client: a new pin builds a new venv beside the old one. */
export const TRITONCLIENT_VERSION = '2.73.0';

export function toolsDir(): string {
  return process.env.FRESCO_TOOLS ?? join(homedir(), '.cache', 'fresco-tools');
}

let ready: Promise<string> | undefined;

/** The venv's python, with tritonclient[http,grpc] (and numpy) importable; builds it if missing. */
export function tritonPython(): Promise<string> {
  return (ready ??= build());
}

async function build(): Promise<string> {
  const dir = join(toolsDir(), `tritonclient-${TRITONCLIENT_VERSION}`);
  const python = join(dir, 'bin', 'python');
  if (existsSync(python)) return python;
  mkdirSync(toolsDir(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await run('python3', ['-m', 'venv', tmp]);
    await run(join(tmp, 'bin', 'python'), ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', `tritonclient[http,grpc]==${TRITONCLIENT_VERSION}`], { maxBuffer: 16 << 20 });
    // Another process may have finished first: its venv is as good as ours.
    try {
      renameSync(tmp, dir);
    } catch (error) {
      if (!existsSync(python)) throw error;
    }
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`could not create the tritonclient venv in ${dir} (needs python3 with venv and PyPI): ${e.stderr || e.message}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return python;
}

/** Runs a Python script file with the venv's python; rejects with its stderr if it fails. */
export async function runTritonScript(script: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const python = await tritonPython();
  try {
    const { stdout } = await run(python, [script, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${script} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}
