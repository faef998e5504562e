// Python model packages served (backend `python`, docs/python-models.md): registration checks and
// the environment build, a tensor and a dataframe model answering over the FlatBuffers RPC client
// and KServe v2 exactly as predict() does inside Python, a predict() that raises, a worker killed
// with SIGKILL, and broken new versions (load() raising or hanging) that leave the old one serving.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrescoClient } from '../src/client/index.js';
import { loadPackage, writeManifest } from '../src/models/index.js';
import { ensurePythonEnv, envKey, LOCK_FILE } from '../src/python/index.js';
import { requestKeyNames } from '../src/serving/online-lookup.js';
import { loadProject } from '../src/features/project.js';
import { EmbeddedOnlineStore } from '../src/online/index.js';
import { ModelRegistry } from '../src/registry/index.js';
import { FrescoServer } from '../src/serving/index.js';
import { plan, writeDataframeProject } from './dataframe-helpers.js';
import { predictInPython, REQUIREMENTS, TENSOR_MODEL, writeTensorPackage } from './python-models-helpers.js';
import { admin, eventually, TOKEN } from './serving-helpers.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'fresco-python-models-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const base = (port: number) => `http://127.0.0.1:${port}`;
const X = [1, 2, 3, 4, -0.5, 0, 0.5, 8, 0.25, -3, 7, 1.5];

async function kserve(port: number, model: string, inputs: unknown[]): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base(port)}/v2/models/${model}/infer`, { method: 'POST', body: JSON.stringify({ inputs }), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json() };
}

/** Runner processes started by this process (fresco_runner.py children). */
function runnerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('fresco_runner.py')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('python packages at registration', () => {
  it('the image ships the runner and python3 with venv (docker/Dockerfile)', () => {
    const dockerfile = readFileSync(join(import.meta.dirname, '..', 'docker', 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('COPY --from=build /src/python ./python');
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends python3 python3-venv/);
    expect(dockerfile).toContain('FRESCO_PYTHON_ENVS=/var/lib/fresco/python-envs');
  });

  it('refuses a model.py without a class with load() and predict(), naming the file', async () => {
    await expect(writeTensorPackage(join(root, 'no-class'), { model: 'def predict(inputs):\n    return inputs\n' })).rejects.toMatchObject({
      code: 'FRESCO_ERR_PACKAGE_INVALID',
      message: expect.stringContaining('model.py: a python model must define a class with load(self, context) and predict(self, inputs)'),
    });
  });

  it('stores the environment (key, Python version, pip freeze) with the version, and migrates a schema-1 registry', async () => {
    const dir = await writeTensorPackage(join(root, 'lineage'));
    const registry = ModelRegistry.open(join(root, 'reg-lineage'));
    try {
      const v = await registry.register(dir);
      const env = await ensurePythonEnv(dir, (await loadPackage(dir)).manifest);
      expect(v.environment).toEqual({ key: env.key, python: env.pythonVersion, lock: env.lock });
      expect(v.environment!.lock).toContain('numpy==2.2.6');
      expect(v.environment!.python).toMatch(/^3\.\d+\.\d+$/);
    } finally {
      registry.close();
    }
    // A registry written before the column existed (schema 1) is migrated when opened: old versions
    // read with no environment, and the column is as immutable as the rest of a version.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(root, 'reg-lineage', 'registry.db'));
    // Schema 1's trigger did not name the column (shortened here: the migration replaces it whole).
    db.exec("DROP TRIGGER versions_immutable; ALTER TABLE versions DROP COLUMN environment; CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions WHEN NEW.name IS NOT OLD.name BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;");
    db.pragma('user_version = 1');
    db.close();
    const reopened = ModelRegistry.open(join(root, 'reg-lineage'));
    try {
      expect(reopened.resolve('py-tensor@1').environment).toBeNull();
    } finally {
      reopened.close();
    }
    const raw = new Database(join(root, 'reg-lineage', 'registry.db'));
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(2);
      expect(() => raw.prepare("UPDATE versions SET environment = 'x'").run()).toThrow(/model versions are immutable/);
    } finally {
      raw.close();
    }
  }, 600_000);

  it('refuses a packages.txt line that is not a system package name, naming the line', async () => {
    const dir = join(root, 'bad-packages');
    writeFileSync(join(await writeTensorPackage(dir), 'packages.txt'), 'libgomp1\nrm -rf /\n');
    await expect(writeManifest(dir, { name: 'bad', backend: 'python', model: 'model.py', input_kind: 'tensor', signature: { inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }], outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }] } })).rejects.toMatchObject({
      code: 'FRESCO_ERR_PACKAGE_INVALID',
      message: expect.stringContaining('packages.txt:2: "rm -rf /" is not a system package name'),
    });
  });

  it('fails a registration whose requirement pip cannot install with pip\'s own words, and stores nothing', async () => {
    const dir = join(root, 'bad-requirement');
    await writeTensorPackage(dir);
    writeFileSync(join(dir, 'requirements.txt'), 'fresco-no-such-distribution-xyz==9.9.9\n');
    await writeManifest(dir, JSON.parse(readFileSync(join(dir, 'fresco.json'), 'utf8')));
    const wheelhouse = mkdtempSync(join(root, 'wheelhouse-'));
    const registry = ModelRegistry.open(join(root, 'reg-badreq'));
    // The air-gapped options: an (empty) local wheelhouse and no index, so no network is needed.
    process.env.FRESCO_PIP_FIND_LINKS = wheelhouse;
    process.env.FRESCO_PIP_NO_INDEX = '1';
    try {
      const error = await registry.register(dir).catch((e) => e);
      expect(error).toMatchObject({ code: 'FRESCO_ERR_PYTHON_ENV_FAILED' });
      expect(error.message).toMatch(/install requirements\.txt/);
      expect(error.message).toMatch(/No matching distribution found for fresco-no-such-distribution-xyz==9\.9\.9/);
      expect(() => registry.resolve('py-tensor')).toThrow(/py-tensor/);
    } finally {
      delete process.env.FRESCO_PIP_FIND_LINKS;
      delete process.env.FRESCO_PIP_NO_INDEX;
      registry.close();
    }
  }, 120_000);
});

describe('a tensor python model served', () => {
  let server: FrescoServer;
  let registry: ModelRegistry;
  let pkg: string;
  const logs: string[] = [];

  beforeAll(async () => {
    pkg = await writeTensorPackage(join(root, 'tensor-v1'));
    registry = ModelRegistry.open(join(root, 'reg-tensor'));
    await registry.register(pkg, { aliases: ['production'] }); // builds (or finds) the environment
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
    server = new FrescoServer({ port: 0, registry, models: ['py-tensor@production'], adminToken: TOKEN, logger, syncIntervalMs: 0, defaults: { timeoutMs: 30_000 }, modelSettings: { 'py-tensor': { instances: 2, maxBatchSize: 16 } } });
    await server.start();
  }, 600_000);

  afterAll(async () => {
    await server?.close();
    registry?.close();
  });

  it('answers over the FlatBuffers RPC and KServe v2 exactly as predict() inside Python', async () => {
    const want = await predictInPython(pkg, { x: ['float32', [3, 4], X] });
    const client = await FrescoClient.connect(base(server.port), { timeoutMs: 30_000 });
    try {
      const p = await client.predict('py-tensor@production', { tensors: { x: { shape: [3, 4], data: Float32Array.from(X) } } });
      expect(p.outputs.y!.shape).toEqual([3, 2]);
      expect([...(p.outputs.y!.data as Float32Array)]).toEqual(want.y);
      expect((p.outputs.n!.data as BigInt64Array)[Symbol.iterator] ? [...(p.outputs.n!.data as BigInt64Array)].map(Number) : []).toEqual(want.n);
    } finally {
      client.close();
    }
    const k = await kserve(server.port, 'py-tensor', [{ name: 'x', datatype: 'FP32', shape: [3, 4], data: X }]);
    expect(k.status).toBe(200);
    const y = k.body.outputs.find((o: { name: string }) => o.name === 'y');
    const n = k.body.outputs.find((o: { name: string }) => o.name === 'n');
    expect(y.data).toEqual(want.y);
    expect(n.data.map(Number)).toEqual(want.n);
  });

  it("describes itself to Triton's tools as a python backend model on CPU instances", async () => {
    const res = await fetch(`${base(server.port)}/v2/models/py-tensor/config`);
    expect(res.status).toBe(200);
    const config = (await res.json()) as { backend: string; platform: string; instance_group: { kind: string; count: number }[] };
    expect(config.backend).toBe('python');
    expect(config.platform).toBe('');
    expect(config.instance_group[0]).toMatchObject({ kind: 'KIND_CPU', count: 2 });
  });

  it('fails a batch whose predict() raises with FRESCO_ERR_PREDICT_FAILED, logs the traceback, and keeps serving', async () => {
    const bad = [-1, 0, 0, 0];
    const k = await kserve(server.port, 'py-tensor', [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: bad }]);
    expect(k.status).toBe(500);
    expect(JSON.stringify(k.body)).toContain('FRESCO_ERR_PREDICT_FAILED');
    expect(JSON.stringify(k.body)).toContain("builtins.ValueError: x[0, 0] is -1, which this model refuses");
    await eventually(() => logs.some((l) => l.includes('Traceback (most recent call last)')) && logs.some((l) => l.includes('line 12, in predict')));
    const ok = await kserve(server.port, 'py-tensor', [{ name: 'x', datatype: 'FP32', shape: [3, 4], data: X }]);
    expect(ok.status).toBe(200);
  });

  it('restarts a worker killed with SIGKILL and keeps answering', async () => {
    const want = await predictInPython(pkg, { x: ['float32', [3, 4], X] });
    const before = runnerPids();
    expect(before).toHaveLength(2);
    process.kill(before[0]!, 'SIGKILL');
    // Requests in flight on the killed worker may fail (FRESCO_ERR_PYTHON_WORKER_DIED); the other
    // worker answers meanwhile, and the killed one comes back.
    await eventually(() => {
      const now = runnerPids();
      return now.length === 2 && !now.includes(before[0]!);
    }, 60_000);
    expect(logs.some((l) => l.includes('python worker died (signal SIGKILL); restarting'))).toBe(true);
    const metrics = await (await fetch(`${base(server.port)}/metrics`)).text();
    expect(metrics).toContain('fresco_worker_restarts_total{model="py-tensor",version="1"} 1');
    for (let i = 0; i < 8; i++) {
      const k = await kserve(server.port, 'py-tensor', [{ name: 'x', datatype: 'FP32', shape: [3, 4], data: X }]);
      expect(k.status).toBe(200);
      expect(k.body.outputs.find((o: { name: string }) => o.name === 'y').data).toEqual(want.y);
    }
  }, 90_000);

  it('a worker that exits in the middle of a batch fails only that batch (FRESCO_ERR_PYTHON_WORKER_DIED); the other worker keeps serving', async () => {
    const before = runnerPids();
    expect(before).toHaveLength(2);
    const k = await kserve(server.port, 'py-tensor', [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [-2, 0, 0, 0] }]);
    expect(k.status).toBe(503);
    expect(JSON.stringify(k.body)).toContain('FRESCO_ERR_PYTHON_WORKER_DIED');
    // Served meanwhile by the worker that did not die (or the restarted one): never an error.
    for (let i = 0; i < 4; i++) expect((await kserve(server.port, 'py-tensor', [{ name: 'x', datatype: 'FP32', shape: [3, 4], data: X }])).status).toBe(200);
    await eventually(() => runnerPids().length === 2, 60_000);
    const after = runnerPids();
    expect(after.filter((p) => before.includes(p))).toHaveLength(1);
    expect(logs.some((l) => l.includes('python worker died (exit code 1); restarting'))).toBe(true);
    const metrics = await (await fetch(`${base(server.port)}/metrics`)).text();
    expect(metrics).toContain('fresco_worker_restarts_total{model="py-tensor",version="1"} 2');
  }, 90_000);

  it('a new version whose load() raises, or hangs past the load timeout, never takes traffic: the old one keeps serving', async () => {
    const raising = join(root, 'tensor-raising');
    await writeTensorPackage(raising, { model: TENSOR_MODEL.replace('self.w = ', 'raise RuntimeError("weights corrupt")\n        self.w = ') });
    const hanging = join(root, 'tensor-hanging');
    await writeTensorPackage(hanging, { model: `import time\n${TENSOR_MODEL.replace('self.w = ', 'time.sleep(3600)\n        self.w = ')}` });
    await registry.register(raising);
    await registry.register(hanging);
    const r2 = await admin(server, 'POST', '/admin/models/py-tensor%40production/swap', { version: 2 });
    expect(r2.status).toBe(422);
    expect(JSON.stringify(r2.body)).toContain('RuntimeError: weights corrupt');
    process.env.FRESCO_PYTHON_LOAD_TIMEOUT_MS = '2000';
    try {
      const r3 = await admin(server, 'POST', '/admin/models/py-tensor%40production/swap', { version: 3 });
      expect(r3.status).toBe(422);
      expect(JSON.stringify(r3.body)).toContain('load() did not finish within 2000 ms');
    } finally {
      delete process.env.FRESCO_PYTHON_LOAD_TIMEOUT_MS;
    }
    const k = await kserve(server.port, 'py-tensor', [{ name: 'x', datatype: 'FP32', shape: [3, 4], data: X }]);
    expect(k.status).toBe(200);
    expect(k.body.model_version).toBe('1');
    // The failed versions' processes are gone: only the serving version's two remain.
    await eventually(() => runnerPids().length === 2);
  }, 120_000);

  it('refuses to load a version whose packages.txt names a system package that is not installed, naming it', async () => {
    const dir = join(root, 'tensor-syspkg');
    await writeTensorPackage(dir);
    writeFileSync(join(dir, 'packages.txt'), '# system packages\nlibc6\nfresco-no-such-system-package\n');
    await writeManifest(dir, JSON.parse(readFileSync(join(dir, 'fresco.json'), 'utf8')));
    const { version } = await registry.register(dir);
    const r = await admin(server, 'POST', '/admin/models/py-tensor%40production/swap', { version });
    expect(r.status).toBe(422);
    const text = JSON.stringify(r.body);
    expect(text).toContain('FRESCO_ERR_MODEL_LOAD_FAILED');
    expect(text).toContain('packages.txt: system package not installed: fresco-no-such-system-package');
    expect(text).not.toContain('libc6');
  });

  it('installs a local package (setup.py) into a new environment, and hot swaps to the version that uses it', async () => {
    const dir = join(root, 'tensor-local');
    await writeTensorPackage(dir, { model: TENSOR_MODEL.replace('import numpy as np', 'import numpy as np\nfrom demo_scale import triple').replace('return {"y": (x @ self.w + self.b).astype(np.float32)', 'return {"y": triple(x @ self.w + self.b).astype(np.float32)') });
    // src/ layout: demo_scale is importable only once installed, not from the package folder.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'src', 'demo_scale'), { recursive: true });
    writeFileSync(join(dir, 'src', 'demo_scale', '__init__.py'), 'def triple(x):\n    return x * 3\n');
    writeFileSync(join(dir, 'setup.py'), 'from setuptools import setup\nsetup(name="demo-scale", version="1.0", package_dir={"": "src"}, packages=["demo_scale"])\n');
    const pkgLocal = await writeManifest(dir, JSON.parse(readFileSync(join(dir, 'fresco.json'), 'utf8')));
    const pkgV1 = await loadPackage(pkg);
    // Versions that change only model.py or artifacts share an environment; a local package makes another.
    expect(await envKey((await loadPackage(join(root, 'tensor-raising'))).manifest)).toBe(await envKey(pkgV1.manifest));
    expect(await envKey(pkgLocal.manifest)).not.toBe(await envKey(pkgV1.manifest));
    const { version } = await registry.register(dir);
    const env = await ensurePythonEnv(dir, pkgLocal.manifest);
    expect(readFileSync(join(env.dir, LOCK_FILE), 'utf8')).toMatch(/demo[-_]scale/i);
    const r = await admin(server, 'POST', '/admin/models/py-tensor%40production/swap', { version });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const want = await predictInPython(pkg, { x: ['float32', [3, 4], X] });
    const k = await kserve(server.port, 'py-tensor', [{ name: 'x', datatype: 'FP32', shape: [3, 4], data: X }]);
    expect(k.status).toBe(200);
    expect(k.body.model_version).toBe(String(version));
    expect(k.body.outputs.find((o: { name: string }) => o.name === 'y').data).toEqual(want.y.map((v) => Math.fround(Math.fround(v) * 3)));
    // The old version's workers ended with it.
    await eventually(() => runnerPids().length === 2);
  }, 600_000);
});

const DF_MODEL = `
import numpy as np
import pandas as pd

COLUMNS = ["avg_delay", "queue", "hour", "dow", "distance", "sfo", "jfk", "ord", "other"]

class Model:
    def load(self, context):
        self.scale = 0.001

    def predict(self, frame):
        if not isinstance(frame, pd.DataFrame) or list(frame.columns) != COLUMNS:
            raise TypeError(f"expected a DataFrame with the plan's columns, got {type(frame)} {list(getattr(frame, 'columns', []))}")
        risk = frame["avg_delay"] + 10 * frame["queue"] + self.scale * frame["distance"] + 100 * frame["sfo"] + frame["hour"] / 100
        return {"risk": risk.to_numpy(np.float32).reshape(-1, 1), "features": frame.to_numpy(np.float32)}
`;

describe('a dataframe python model served', () => {
  it('gets the plan\'s columns from the online store and answers over the RPC and KServe v2 as predict() in Python', async () => {
    const project = await writeDataframeProject();
    try {
      const pkg = join(project, 'pkg', 'risk-py');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(pkg, { recursive: true });
      writeFileSync(join(pkg, 'model.py'), DF_MODEL);
      writeFileSync(join(pkg, 'requirements.txt'), REQUIREMENTS);
      await writeManifest(pkg, {
        name: 'risk-py',
        backend: 'python',
        model: 'model.py',
        input_kind: 'dataframe',
        signature: {
          inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 9] }],
          outputs: [
            { name: 'risk', dtype: 'float32', shape: ['batch', 1] },
            { name: 'features', dtype: 'float32', shape: ['batch', 9] },
          ],
        },
        plan: plan as unknown as Record<string, unknown>,
      });
      const registry = ModelRegistry.open(join(project, '.fresco', 'registry'));
      await registry.register(pkg, { aliases: ['production'] });
      const store = new EmbeddedOnlineStore(join(project, '.fresco', 'online'));
      const server = new FrescoServer({ port: 0, registry, models: ['risk-py@production'], onlineStore: store, onlineKeyNames: requestKeyNames(loadProject(project)), logger: pino({ level: 'silent' }), syncIntervalMs: 0, defaults: { timeoutMs: 30_000 } });
      try {
        await server.start();
        const DATE = Date.UTC(2024, 5, 1, 13);
        const rows = [
          { keys: { origin: 'SFO', destination: 'SFO' }, fields: { date: DATE, distance: 337, origin: 'SFO' } },
          { keys: { origin: 'JFK', destination: 'ORD' }, fields: { date: DATE, distance: 1000, origin: 'JFK' } },
        ];
        const client = await FrescoClient.connect(base(server.port), { timeoutMs: 30_000 });
        let risk: number[];
        let features: number[];
        try {
          const p = await client.predict('risk-py@production', { rows });
          risk = [...(p.outputs.risk!.data as Float32Array)];
          features = [...(p.outputs.features!.data as Float32Array)];
        } finally {
          client.close();
        }
        // SFO's looked-up features (origin_stats.avg_delay 12.5, dest_live.queue 3), the request's
        // hour and distance, and the one-hot of the origin: the plan ran before the model.
        expect(features.slice(0, 9)).toEqual([12.5, 3, 13, features[3], 337, 1, 0, 0, 0]);
        expect(features.slice(9, 18)).toEqual([20.5, -1, 13, features[12], 1000, 0, 1, 0, 0]);
        const want = await predictInPython(pkg, { features: ['float32', [2, 9], features] }, ['avg_delay', 'queue', 'hour', 'dow', 'distance', 'sfo', 'jfk', 'ord', 'other']);
        expect(risk).toEqual(want.risk);
        const k = await kserve(server.port, 'risk-py', [
          { name: 'origin', datatype: 'BYTES', shape: [2], data: ['SFO', 'JFK'] },
          { name: 'destination', datatype: 'BYTES', shape: [2], data: ['SFO', 'ORD'] },
          { name: 'date', datatype: 'INT64', shape: [2], data: [DATE, DATE] },
          { name: 'distance', datatype: 'FP64', shape: [2], data: [337, 1000] },
        ]);
        expect(k.status, JSON.stringify(k.body)).toBe(200);
        expect(k.body.outputs.find((o: { name: string }) => o.name === 'risk').data).toEqual(want.risk);
      } finally {
        await server.close();
        registry.close();
        await store.close();
      }
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 600_000);
});

describe('a python model with a memory limit', () => {
  it('fails a batch that allocates past memoryLimitMb with MemoryError, and keeps serving', async () => {
    const dir = join(root, 'tensor-greedy');
    await writeTensorPackage(dir, { name: 'py-greedy', model: TENSOR_MODEL.replace('        x = inputs["x"]\n', '        x = inputs["x"]\n        if x[0, 0] == -3:\n            np.empty(6 << 30, dtype=np.uint8)  # 6 GiB of address space\n') });
    const registry = ModelRegistry.open(join(root, 'reg-greedy'));
    await registry.register(dir, { aliases: ['production'] });
    const server = new FrescoServer({ port: 0, registry, models: ['py-greedy@production'], logger: pino({ level: 'silent' }), syncIntervalMs: 0, defaults: { timeoutMs: 30_000 }, modelSettings: { 'py-greedy': { memoryLimitMb: 4096 } } });
    // numpy's OpenBLAS reserves address space per core at import: one thread keeps the runner's
    // own share small on machines with many cores (the limit counts it).
    const threads = process.env.OPENBLAS_NUM_THREADS;
    process.env.OPENBLAS_NUM_THREADS = '1';
    try {
      await server.start();
      const k = await kserve(server.port, 'py-greedy', [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [-3, 0, 0, 0] }]);
      expect(k.status).toBe(500);
      expect(JSON.stringify(k.body)).toContain('FRESCO_ERR_PREDICT_FAILED');
      expect(JSON.stringify(k.body)).toContain('MemoryError');
      expect((await kserve(server.port, 'py-greedy', [{ name: 'x', datatype: 'FP32', shape: [3, 4], data: X }])).status).toBe(200);
    } finally {
      if (threads === undefined) delete process.env.OPENBLAS_NUM_THREADS;
      else process.env.OPENBLAS_NUM_THREADS = threads;
      await server.close();
      registry.close();
    }
  }, 120_000);
});
