// A batch job killed with SIGKILL mid-run leaves no output that looks complete: the output file
// is absent, finished parts are whole, and a rerun skips them and produces the full result.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { batchScore } from '../src/batch/index.js';
import { packageRoot } from '../src/package-root.js';
import { ModelRegistry } from '../src/registry/index.js';
import { sqlRows as sql } from './offline-helpers.js';

const FLIGHTS = join(packageRoot(), 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');


/** A script that runs the CLI from the TypeScript sources (Node 20 cannot run .ts itself: module hooks transpile them). */
function childScript(dir: string): string {
  const script = join(dir, 'child.mjs');
  writeFileSync(
    script,
    `import ${JSON.stringify(pathToFileURL(join(packageRoot(), 'test', 'helpers', 'ts-hooks.mjs')).href)};
const { runCli } = await import(${JSON.stringify(pathToFileURL(join(packageRoot(), 'src', 'cli', 'main.ts')).href)});
process.exitCode = await runCli(process.argv);
`,
  );
  return script;
}

describe('a killed batch job', () => {
  it('leaves nothing that looks complete, and a rerun finishes it by skipping the finished parts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-batch-kill-'));
    const registry = join(dir, 'registry');
    const reg = ModelRegistry.open(registry);
    await reg.register(join(packageRoot(), 'models', 'flights-delay'), { aliases: ['production'] });
    reg.close();
    const input = join(dir, 'flights.parquet');
    await sql(`COPY (SELECT * FROM read_parquet('${FLIGHTS}') LIMIT 200000) TO '${input}' (FORMAT parquet)`);
    const out = join(dir, 'scores.parquet');
    const parts = join(dir, '.scores.parquet.parts');
    const args = ['batch', 'score', 'flights-delay@production', '--registry', registry, '--input', input, '--output', out, '--part-rows', '10000', '--batch-size', '2048', '--workers', '1', '--no-progress'];

    const child = spawn(process.execPath, [childScript(dir), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const finishedParts = () => (existsSync(parts) ? readdirSync(parts).filter((n) => /^part-.*\.parquet$/.test(n)) : []);
    const deadline = Date.now() + 40_000;
    while (finishedParts().length < 2 && Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the job ended before it could be killed (exit ${child.exitCode}): ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    const done = finishedParts();
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done.length).toBeLessThan(20);
    // Nothing that looks complete: no output file; every part file present is whole.
    expect(existsSync(out)).toBe(false);
    for (const name of done) {
      const [row] = await sql(`SELECT count(*) AS n FROM read_parquet('${join(parts, name)}')`);
      expect(Number(row!.n)).toBe(10000);
    }

    const rerun = await batchScore({ registry, models: ['flights-delay@production'], input: [input], output: out, partRows: 10000, batchSize: 2048 });
    expect(rerun.parts.skipped).toBe(done.length);
    expect(rerun.parts.scored).toBe(20 - done.length);
    expect(existsSync(parts)).toBe(false);
    const reference = join(dir, 'reference.parquet');
    await batchScore({ registry, models: ['flights-delay@production'], input: [input], output: reference, partRows: 10000 });
    const [diff] = await sql(
      `SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet('${out}') EXCEPT ALL SELECT * FROM read_parquet('${reference}'))) AS a,
              (SELECT count(*) FROM (SELECT * FROM read_parquet('${reference}') EXCEPT ALL SELECT * FROM read_parquet('${out}'))) AS b,
              (SELECT count(*) FROM read_parquet('${out}')) AS n`,
    );
    expect(diff).toEqual({ a: 0n, b: 0n, n: 200000n });
  });
});
