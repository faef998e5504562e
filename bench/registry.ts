/**
 * Registry benchmarks, each against a baseline measured in the same run:
 *  - resolving `name@alias` to the version's metadata (manifest included), cached, against the
 *    same lookup done without a cache (SQLite queries + reading and parsing the manifest);
 *  - registering a 10 MB ONNX package (validate, hash, copy, fsync, commit), against copying the
 *    same bytes with fs.copyFile + fsync: the disk speed it should be bound by. Reports MB/s.
 */
import { closeSync, copyFileSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Bench } from 'tinybench';
import { mlpOnnx } from '../models/generate.js';
import { writeManifest } from '../src/models/index.js';
import { ModelRegistry } from '../src/registry/index.js';
import type { BenchRow } from './row.js';

async function meanNs(tasks: Record<string, () => void>, time: number): Promise<Record<string, number>> {
  const bench = new Bench({ time, warmupTime: Math.min(300, time / 2) });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const out: Record<string, number> = {};
  for (const task of bench.tasks) {
    if (task.result.state !== 'completed') throw new Error(`benchmark ${task.name} did not complete`);
    out[task.name] = task.result.latency.mean * 1e6;
  }
  return out;
}

export async function runRegistryBenchmarks(log: (line: string) => void = console.log): Promise<BenchRow[]> {
  const work = mkdtempSync(join(tmpdir(), 'fresco-bench-registry-'));
  const rows: BenchRow[] = [];
  try {
    // 1. name@alias -> metadata.
    const small = join(process.cwd(), 'models', 'flights-delay');
    const registry = ModelRegistry.open(join(work, 'resolve'));
    for (let i = 0; i < 20; i++) await registry.register(small, { metrics: { auc: 0.7 + i / 100 } });
    registry.setAlias('flights-delay', 7, 'production');
    const db = new Database(join(registry.dir, 'registry.db'), { readonly: true });
    const aliasStmt = db.prepare('SELECT version FROM aliases WHERE name = ? AND alias = ?');
    const versionStmt = db.prepare('SELECT * FROM versions WHERE name = ? AND version = ?');
    const filesStmt = db.prepare('SELECT path, checksum, size FROM version_files WHERE name = ? AND version = ?');
    const uncached = () => {
      const { version } = aliasStmt.get('flights-delay', 'production') as { version: number };
      const row = versionStmt.get('flights-delay', version) as { package_checksum: string };
      filesStmt.all('flights-delay', version);
      const hex = row.package_checksum.slice(7);
      JSON.parse(readFileSync(join(registry.dir, 'objects', hex.slice(0, 2), hex), 'utf8'));
    };
    log('resolve name@alias ...');
    const t = await meanNs({ cached: () => void registry.resolve('flights-delay@production'), uncached }, 1500);
    rows.push({ name: 'resolve name@alias -> metadata (cached)', baseline: 'SQLite lookup + manifest read, no cache', nativeNs: t.cached!, baselineNs: t.uncached!, speedup: t.uncached! / t.cached!, extra: { cachedMicroseconds: t.cached! / 1e3 } });
    db.close();
    registry.close();

    // 2. Register a 10 MB package: an MLP 50-50000-1 (10.2 MB of float32 weights).
    const pkgDir = join(work, 'big');
    mkdirSync(pkgDir);
    writeFileSync(join(pkgDir, 'model.onnx'), mlpOnnx({ inputs: 50, hidden: 50_000, outputs: 1, seed: 7, input: 'x', output: 'y', sigmoid: false }));
    await writeManifest(pkgDir, {
      name: 'big',
      backend: 'onnx',
      model: 'model.onnx',
      input_kind: 'tensor',
      signature: { inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 50] }], outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 1] }] },
    });
    const bytes = statSync(join(pkgDir, 'model.onnx')).size + statSync(join(pkgDir, 'fresco.json')).size;
    const runs = 6;
    let registerMs = 0;
    let copyMs = 0;
    log(`register a ${(bytes / 1e6).toFixed(1)} MB package x ${runs} ...`);
    for (let i = 0; i < runs; i++) {
      // A fresh registry each time: content already stored would be deduplicated, not copied.
      const r = ModelRegistry.open(join(work, `reg-${i}`));
      const t0 = performance.now();
      await r.register(pkgDir);
      const t1 = performance.now();
      r.close();
      const target = join(work, `copy-${i}.onnx`);
      const t2 = performance.now();
      copyFileSync(join(pkgDir, 'model.onnx'), target);
      const fd = openSync(target, 'r+');
      fsyncSync(fd);
      closeSync(fd);
      const t3 = performance.now();
      if (i > 0) {
        registerMs += t1 - t0;
        copyMs += t3 - t2;
      }
    }
    const reg = (registerMs / (runs - 1)) * 1e6;
    const copy = (copyMs / (runs - 1)) * 1e6;
    rows.push({
      name: `register a ${(bytes / 1e6).toFixed(1)} MB package`,
      baseline: 'fs.copyFile + fsync of the same bytes',
      nativeNs: reg,
      baselineNs: copy,
      speedup: copy / reg,
      extra: { registerMBps: bytes / 1e6 / (reg / 1e9), copyMBps: bytes / 1e6 / (copy / 1e9) },
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}
