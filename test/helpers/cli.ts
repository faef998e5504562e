import { runCli } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/output.js';

/** Runs the fresco CLI in-process on `args` and returns its exit code and what it printed. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const line = (t: string) => (t.endsWith('\n') ? t : `${t}\n`);
  const io: Io = { out: (t) => void (out += line(t)), err: (t) => void (err += line(t)) };
  const code = await runCli(['node', 'fresco', ...args], io);
  return { code, out, err };
}
