/**
 * The serving event loop's own work per request, without sockets, workers or other load: what
 * the main thread does for one user-score request (one entity's 50 features looked up, the plan,
 * the MLP's input tensor) from the frame's bytes to the answer's bytes:
 *   copy the transport's bytes -> decode -> route -> look up + gather -> plan -> input tensor
 *   written into a SharedArrayBuffer slot -> metrics -> encode the answer.
 * The model itself runs elsewhere (a worker); its output is a fixed one-float tensor here.
 * Batches: `b` requests are prepared, then coalesced into one tensor (as the batcher does).
 * Reported: mean µs per request, by wall clock and by process CPU time (less sensitive to other
 * jobs on a shared machine); best and median of several rounds.
 * Run: node dist/bench/load/main-path.js [requests-per-round] [rounds]
 */
import pino from 'pino';
import { pathToFileURL } from 'node:url';
import { rmSync } from 'node:fs';
import { makeServingFixture } from './fixtures.js';
import { ModelManager } from '../../src/serving/manager.js';
import { ServingMetrics } from '../../src/serving/metrics.js';
import { inputPreparer, type Prepared } from '../../src/serving/inputs.js';
import { responseFor } from '../../src/serving/predict.js';
import { decodeFrame, encodeFrame } from '../../src/serving/protocol/codec.js';
import type { PredictRequestMsg } from '../../src/serving/protocol/messages.js';

export interface MainPathResult {
  batch: number;
  wallUs: { best: number; median: number };
  cpuUs: { best: number; median: number };
}

export async function measureMainPath(requests = 20_000, rounds = 7, batches = [1, 8]): Promise<MainPathResult[]> {
  const fixture = await makeServingFixture(10_000, { store: 'embedded' });
  const metrics = new ServingMetrics();
  const manager = new ModelManager({ registry: fixture.registry, lookup: fixture.lookup, metrics, log: pino({ level: 'warn' }), defaults: { maxBatchSize: 64 } });
  await manager.serve('user-score@production');
  const model = manager.route('user-score@production').primary;
  const preparer = inputPreparer(model.pkg.manifest, model.pkg.plan, 64, fixture.lookup);
  const slot = new Uint8Array(new SharedArrayBuffer(1 << 20), 2048);
  const y = new Float32Array(1);
  // What a client sends: 1,000 distinct users, encoded once.
  const frames = Array.from({ length: 1000 }, (_, i) =>
    encodeFrame({ type: 'predict_request', id: i + 1, model: 'user-score@production', rows: [{ keys: { user: `u${(i * 7919) % 10_000}` }, fields: {} }], tensors: [], timeoutUs: 0, outputs: [] }),
  );
  const results: MainPathResult[] = [];
  let sink = 0;
  for (const b of batches) {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const pending: { msg: PredictRequestMsg; prepared: Prepared; started: number }[] = [];
      for (let i = 0; i < requests; i++) {
        const started = performance.now();
        // The transport's memory is only valid during its callback: the server copies it.
        const frame = frames[i % frames.length]!;
        const bytes = new Uint8Array(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength));
        const msg = decodeFrame(bytes) as PredictRequestMsg;
        const { primary } = manager.route(msg.model);
        const prepared = await preparer.prepare(msg);
        pending.push({ msg, prepared, started });
        if (pending.length < b) continue;
        // The batch: one input tensor written into the slot.
        let rows = 0;
        for (const p of pending) rows += p.prepared.rows;
        primary.meters!.batchSize.observe(rows);
        for (const input of preparer.batchInputs(pending.map((p) => p.prepared), rows)) input.write(slot.subarray(0, input.byteLength));
        sink += slot[7]!;
        for (const p of pending) {
          const out = responseFor(p.msg.id, { model: primary.name, version: primary.version, outputs: [{ name: 'y', dtype: 'float32', shape: [1, 1], data: y }], rowErrors: p.prepared.rowErrors, featureStatus: p.prepared.featureSummary ? { summary: p.prepared.featureSummary, states: p.prepared.featureStates, tables: preparer.featureTables ?? [] } : undefined });
          primary.meters!.request('ws');
          primary.meters!.latency.observe((performance.now() - p.started) / 1000);
          sink += encodeFrame(out, { reuse: true }).byteLength;
        }
        primary.meters!.queueDepth = 0;
        pending.length = 0;
      }
      wall.push(((performance.now() - t0) * 1000) / requests);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / requests);
    }
    const stat = (v: number[]) => {
      const s = [...v].sort((a, z) => a - z);
      return { best: s[0]!, median: s[Math.floor(s.length / 2)]! };
    };
    results.push({ batch: b, wallUs: stat(wall), cpuUs: stat(cpu) });
  }
  if (sink === -1) console.log(sink);
  await manager.close();
  await fixture.store?.close();
  fixture.registry.close();
  rmSync(fixture.dir, { recursive: true, force: true });
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = await measureMainPath(Number(process.argv[2] ?? 20_000), Number(process.argv[3] ?? 7));
  for (const r of results) {
    console.log(`batch ${r.batch}: wall ${r.wallUs.best.toFixed(2)} µs/request best, ${r.wallUs.median.toFixed(2)} median; CPU ${r.cpuUs.best.toFixed(2)} best, ${r.cpuUs.median.toFixed(2)} median`);
  }
}
