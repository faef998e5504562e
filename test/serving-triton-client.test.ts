/**
 * `fresco serve` (the executable) driven by Triton's own Python client, tritonclient.http, as a
 * user of the Triton tool chain would: health, server and model metadata, model configuration,
 * infer (JSON, binary and compressed), statistics, the repository index, and load/unload with
 * and without the admin token. The client's venv is cached (test/helpers/triton-client.ts); its
 * first creation needs PyPI.
 *
 * perf_analyzer reads the same endpoints at start-up and after each measurement: the fields its
 * parser requires without checking (model_parser.cc, triton_client_backend.cc: the config's
 * max_batch_size, every stats entry's version string and inference_stats.cache_hit/cache_miss)
 * are asserted here too. The run of perf_analyzer itself is scripts/perf-analyzer-check.sh.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-root.js';
import { runTritonScript, tritonPython } from './helpers/triton-client.js';
import { eventually, type Fixture, makeServingFixture, TOKEN } from './serving-helpers.js';

let fixture: Fixture;
let child: ReturnType<typeof spawn> | undefined;
let port = 0;
let results: Record<string, { ok?: any; error?: string; status?: string; exception?: string }>;

beforeAll(async () => {
  // The venv first (a minute on its first run), then the server.
  await tritonPython();
  fixture = await makeServingFixture(5);
  fixture.registry.close();
  const root = packageRoot();
  child = spawn(join(root, 'bin', 'fresco.js'), ['serve', '--port', '0', '--registry', join(fixture.dir, 'registry'), '--models', 'mlp-50@production', '--admin-token', TOKEN, '--no-prioritize-serving'], {
    env: { ...process.env, FRESCO_LOG_LEVEL: 'warn' },
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  await eventually(() => {
    if (child!.exitCode !== null) throw new Error(`fresco serve exited (code ${child!.exitCode}): ${err}`);
    return /listening on http:\/\/127\.0\.0\.1:(\d+)/.test(err);
  }, 60_000);
  port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)![1]);
  results = JSON.parse(await runTritonScript(join(root, 'test', 'triton', 'http_client_check.py'), [`127.0.0.1:${port}`, TOKEN]));
}, 300_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('close', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

const ok = (step: string) => {
  const r = results[step];
  expect(r, step).toBeDefined();
  expect(r!.error ?? r!.exception, `${step} failed`).toBeUndefined();
  return r!.ok;
};

describe('tritonclient.http against fresco serve', () => {
  it('health, server metadata (with the extensions) and model metadata', () => {
    expect(ok('live')).toBe(true);
    expect(ok('ready')).toBe(true);
    expect(ok('server_metadata')).toMatchObject({ name: 'fresco', extensions: expect.arrayContaining(['binary_tensor_data', 'model_configuration', 'statistics', 'model_repository']) });
    expect(ok('model_metadata')).toMatchObject({ name: 'mlp-50', platform: 'onnxruntime_onnx', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 50] }] });
    expect(ok('model_ready')).toBe(true);
  });

  it('model configuration, as perf_analyzer reads it', () => {
    for (const step of ['model_config', 'model_config_v1']) {
      expect(ok(step), step).toMatchObject({ name: 'mlp-50', platform: 'onnxruntime_onnx', max_batch_size: 64, input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [50] }], output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [1] }], dynamic_batching: {} });
    }
  });

  it('infer with JSON, binary and compressed tensors: the same answer each way', () => {
    const json = ok('infer_json');
    expect(json).toMatchObject({ shape: [2, 1], id: '7', version: '1', binary: false });
    expect(json.y.every((v: number) => Number.isFinite(v))).toBe(true);
    for (const step of ['infer_binary', 'infer_all_outputs_binary', 'infer_gzip', 'infer_deflate']) {
      const r = ok(step);
      expect(r, step).toMatchObject({ shape: [2, 1], id: '7' });
      r.y.forEach((v: number, i: number) => expect(v, `${step} y[${i}]`).toBeCloseTo(json.y[i], 5));
    }
    expect(ok('infer_binary').binary).toBe(true);
    expect(ok('infer_all_outputs_binary').binary).toBe(true);
  });

  it('statistics count the requests just made, in the fields perf_analyzer parses', () => {
    const stats = ok('stats_model').model_stats;
    expect(stats).toHaveLength(1);
    const s = stats[0];
    expect(s).toMatchObject({ name: 'mlp-50', version: '1', inference_count: 10, execution_count: expect.any(Number) });
    for (const k of ['success', 'queue', 'compute_input', 'compute_infer', 'compute_output']) expect(s.inference_stats[k].count, k).toBe(5);
    expect(s.inference_stats.fail.count).toBe(0);
    expect(s.inference_stats.cache_hit).toEqual({ count: 0, ns: 0 });
    expect(s.inference_stats.cache_miss).toEqual({ count: 0, ns: 0 });
    expect(ok('stats_all').model_stats.map((m: { name: string }) => m.name)).toEqual(['mlp-50']);
  });

  it('repository: index, and load/unload only with the admin token', () => {
    expect(ok('index')).toEqual(expect.arrayContaining([{ name: 'mlp-50', version: '1', state: 'READY' }, { name: 'flights-delay', state: 'UNAVAILABLE', reason: 'not loaded' }]));
    expect(results.load_without_token).toMatchObject({ status: '401', error: expect.stringMatching(/Authorization: Bearer/) });
    ok('load');
    expect(ok('v2_ready_after_load')).toBe(true);
    expect(ok('index_after_load')).toContainEqual({ name: 'mlp-50', version: '2', state: 'READY' });
    expect(results.unload_without_token).toMatchObject({ status: '401' });
    ok('unload');
    expect(ok('v2_ready_after_unload')).toBe(false);
    expect(ok('v1_ready_after_unload')).toBe(true);
  });
});
