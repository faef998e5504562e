/**
 * Registry benchmarks, each against a baseline measured in the same run:
 *  - resolving `name@alias` to the version's metadata (manifest included), cached, against the
 *    same lookup done without a cache (SQLite queries + reading and parsing the manifest);
 *  - registering a 10 MB ONNX package (validate, hash, copy, fsync, commit), against copying the
 *    same bytes with fs.copyFile + fsync (the disk speed it should be bound by), and against the
 *    plain way of copying while hashing (read, sha256, write, fsync). Reports MB/s;
 *  - reading the ONNX signature of that model, against decoding it whole with onnx-proto.
 */
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Bench } from 'tinybench';
import { mlpOnnx } from '../models/generate.js';
import onnxProto from 'onnx-proto';
import { readOnnxSignature, writeManifest } from '../src/models/index.js';
import { ModelRegistry } from '../src/registry/index.js';
import type { BenchRow } from './row.js';

const { onnx } = onnxProto;

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
    const files = ['fresco.json', 'model.onnx'];
    const bytes = files.reduce((sum, f) => sum + statSync(join(pkgDir, f)).size, 0);
    const mb = (bytes / 1e6).toFixed(1);
    let n = 0;
    // Each registration gets a fresh registry (opened outside the timing): content already
    // stored would be deduplicated, not copied. The baselines write both files of the package,
    // each to a new file in a new folder, and fsync each, as registration does.
    const register = (dir: string) => async () => {
      const r = ModelRegistry.open(join(work, `reg-${n++}`));
      const t0 = performance.now();
      await r.register(dir);
      const ms = performance.now() - t0;
      r.close();
      return ms;
    };
    const copyAll = (copy: (from: string, to: string) => void) => async () => {
      const target = join(work, `copy-${n++}`);
      mkdirSync(target);
      const t0 = performance.now();
      for (const f of files) copy(join(pkgDir, f), join(target, f));
      return performance.now() - t0;
    };
    const chunk = Buffer.allocUnsafe(1 << 18);
    const tasks = {
      register: register(pkgDir),
      // "Disk speed": the kernel copies the bytes (copy_file_range), then they are made durable.
      copy: copyAll((from, to) => {
        copyFileSync(from, to);
        const fd = openSync(to, 'r+');
        fsyncSync(fd);
        closeSync(fd);
      }),
      // The same copy done the simple way while hashing: read, sha256, write 256 KiB at a time, fsync.
      copyHash: copyAll((from, to) => {
        const input = openSync(from, 'r');
        const output = openSync(to, 'wx');
        const hash = createHash('sha256');
        for (;;) {
          const got = readSync(input, chunk, 0, chunk.length, null);
          if (got === 0) break;
          hash.update(chunk.subarray(0, got));
          writeSync(output, chunk, 0, got);
        }
        fsyncSync(output);
        closeSync(input);
        closeSync(output);
        hash.digest();
      }),
      // What a registration costs besides its bytes: a 13 KB package.
      registerTiny: register(join(process.cwd(), 'models', 'mlp-50')),
    };
    const runs = 15;
    log(`register a ${mb} MB package x ${runs}, interleaved with its baselines ...`);
    const times: Record<keyof typeof tasks, number[]> = { register: [], copy: [], copyHash: [], registerTiny: [] };
    // Interleaved rounds, so that other load on the machine falls on every task alike; round 0 warms up.
    for (let round = 0; round <= runs; round++) {
      for (const [name, task] of Object.entries(tasks) as [keyof typeof tasks, () => Promise<number>][]) {
        const ms = await task();
        if (round > 0) times[name].push(ms);
      }
    }
    const model = readFileSync(join(pkgDir, 'model.onnx'));
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) createHash('sha256').update(model).digest();
    const sha256MBps = (model.length * 10) / 1e3 / (performance.now() - t0);
    const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length) * 1e6;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
    const MBps = (ns: number) => bytes / 1e3 / (ns / 1e6);
    const reg = mean(times.register);
    const copy = mean(times.copy);
    const copyHash = mean(times.copyHash);
    rows.push({
      name: `register a ${mb} MB package`,
      baseline: 'fs.copyFile + fsync of the same bytes',
      nativeNs: reg,
      baselineNs: copy,
      speedup: copy / reg,
      extra: { registerMBps: MBps(reg), copyMBps: MBps(copy), registerMedianMs: median(times.register), copyMedianMs: median(times.copy), tinyPackageMs: mean(times.registerTiny) / 1e6 },
    });
    rows.push({
      name: `register a ${mb} MB package`,
      baseline: 'read + sha256 + write 256 KiB chunks, fsync',
      nativeNs: reg,
      baselineNs: copyHash,
      speedup: copyHash / reg,
      extra: { registerMBps: MBps(reg), copyHashMBps: MBps(copyHash), copyHashMedianMs: median(times.copyHash), sha256MBps },
    });

    // 3. The ONNX signature check alone, against decoding the whole model with onnx-proto.
    const modelFile = join(pkgDir, 'model.onnx');
    log('read the ONNX signature of the 10 MB model ...');
    const s = await meanNs({ walk: () => void readOnnxSignature(modelFile), decode: () => void onnx.ModelProto.decode(readFileSync(modelFile)) }, 1500);
    rows.push({ name: `read the ONNX signature of a ${(model.length / 1e6).toFixed(1)} MB model`, baseline: 'readFile + onnx-proto (protobufjs) ModelProto.decode', nativeNs: s.walk!, baselineNs: s.decode!, speedup: s.decode! / s.walk! });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}
