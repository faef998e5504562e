/**
 * The inference worker's code, as a string evaluated by `new Worker(source, { eval: true })`.
 * Why a string: the worker must run the same way from the TypeScript sources (tests), from
 * dist/ and from a bundle, and Node 20 cannot run a .ts file in a worker. It is small and only
 * does this, once per `open` message: open one ONNX Runtime session (trying execution providers
 * in order), then loop: spin briefly, then block in Atomics.wait until the slot holds a batch, run
 * it, write the outputs back, notify; on EXIT, release the session, say `closed` and wait for the
 * next `open` (threads outlive model versions: threads.ts).
 * Lifecycle messages (booted, ready, failed, closed, crashed) use postMessage; batches never do.
 */
import { DATA_END, DESC_BASE, DESC_INTS, DONE, ERR_LEN, ERROR, EXIT, HEADER_BYTES, IDLE, MAX_RANK, MAX_TENSORS, N_IN, N_OUT, REQUEST, ROWS, SLEEPING, STATE } from './layout.js';

export const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const C = { STATE: ${STATE}, ROWS: ${ROWS}, N_IN: ${N_IN}, N_OUT: ${N_OUT}, ERR_LEN: ${ERR_LEN}, DATA_END: ${DATA_END}, SLEEPING: ${SLEEPING},
  IDLE: ${IDLE}, REQUEST: ${REQUEST}, DONE: ${DONE}, ERROR: ${ERROR}, EXIT: ${EXIT},
  DESC_BASE: ${DESC_BASE}, DESC_INTS: ${DESC_INTS}, MAX_RANK: ${MAX_RANK}, MAX_TENSORS: ${MAX_TENSORS}, HEADER_BYTES: ${HEADER_BYTES} };
// Wire dtype code -> [ort type name, typed array, bytes per element]
const DT = {
  1: ['float32', Float32Array, 4], 2: ['float64', Float64Array, 8], 3: ['float16', Uint16Array, 2],
  4: ['int8', Int8Array, 1], 5: ['int16', Int16Array, 2], 6: ['int32', Int32Array, 4], 7: ['int64', BigInt64Array, 8],
  8: ['uint8', Uint8Array, 1], 9: ['uint16', Uint16Array, 2], 10: ['uint32', Uint32Array, 4], 11: ['uint64', BigUint64Array, 8],
  12: ['bool', Uint8Array, 1],
};
const CODE = { float32: 1, float64: 2, float16: 3, int8: 4, int16: 5, int32: 6, int64: 7, uint8: 8, uint16: 9, uint32: 10, uint64: 11, bool: 12 };
const encoder = new TextEncoder();
const align8 = (n) => (n + 7) & ~7;

// onnxruntime-node's public session.run defers every call by a setImmediate (a full event-loop
// turn of this thread, with an epoll_wait) and wraps it in promises. This thread does nothing but
// run batches, so it calls the addon's session synchronously when the addon has the expected
// shape (onnxruntime-node 1.2x-1.3x: dist/binding.js), and falls back to the public API otherwise.
// Completion signals to the event loop (native/binding/src/signal.rs), when the addon loads here.
let signals = null;
try {
  const addon = require(workerData.addonPath);
  if (typeof addon.signalSend === 'function') signals = addon;
} catch { signals = null; }

let direct = null;
try {
  const b = require(require('node:path').join(require('node:path').dirname(workerData.ortPath), 'binding.js'));
  if (b && typeof b.initOrt === 'function' && b.binding && typeof b.binding.InferenceSession === 'function') direct = b;
} catch { direct = null; }

// job: the open message (modelPath, providers, intraOpThreads, inputNames, outputNames, sab, slotBytes, spinMicros, signalId, slotId).
function createSession(job, options) {
  if (!direct) return ort.InferenceSession.create(job.modelPath, options);
  const native = new direct.binding.InferenceSession();
  native.loadModel(job.modelPath, options);
  const fetches = {};
  for (const name of job.outputNames) fetches[name] = null;
  return {
    inputNames: native.inputMetadata ? native.inputMetadata.map((m) => m.name) : job.inputNames,
    outputNames: native.outputMetadata ? native.outputMetadata.map((m) => m.name) : job.outputNames,
    native,
    fetches,
    release: () => native.dispose(),
  };
}

// One call site for every session of this thread (a closure per session would make the thread's
// optimized serve loop bail out at each new version: "wrong call target").
const NO_OPTIONS = {};
function runSession(session, feeds) {
  return session.native ? session.native.run(feeds, session.fetches, NO_OPTIONS) : session.run(feeds);
}

async function open(job) {
  const available = new Set((ort.listSupportedBackends ? ort.listSupportedBackends() : []).map((b) => b.name));
  const tried = [];
  for (const provider of job.providers) {
    // A provider whose binaries are not installed is skipped without trying (creating a session
    // with it would throw after loading the whole model).
    if (available.size && !available.has(provider)) { tried.push(provider + ' (not installed)'); continue; }
    try {
      const session = await createSession(job, {
        executionProviders: [provider],
        intraOpNumThreads: job.intraOpThreads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      return { session, provider, tried };
    } catch (error) {
      tried.push(provider + ' (' + (error && error.message ? error.message.split('\n')[0] : String(error)) + ')');
    }
  }
  throw new Error('no execution provider could open the model: ' + tried.join('; '));
}

// Preallocated, non-shared staging buffers: ONNX Runtime refuses tensors over SharedArrayBuffer.
// One session's (grown when a batch needs more; dropped when the session is released).
const staging = new Map();
function stage(index, Array, count) {
  let buf = staging.get(index);
  if (!buf || buf.length < count * Array.BYTES_PER_ELEMENT) { buf = new Uint8Array(Math.max(count * Array.BYTES_PER_ELEMENT, 64)); staging.set(index, buf); }
  return buf;
}

function fail(ctrl, data, message) {
  const bytes = encoder.encode(message);
  const n = Math.min(bytes.length, data.length);
  data.set(bytes.subarray(0, n), 0);
  ctrl[C.ERR_LEN] = n;
  Atomics.store(ctrl, C.STATE, C.ERROR);
  Atomics.notify(ctrl, C.STATE);
}

// Tells the event loop a batch is answered (DONE or ERROR is in the slot already).
function signalDone(job) {
  if (signals && job.signalId) signals.signalSend(job.signalId, job.slotId);
}

// The last session's job message and the last batch's objects (feeds, ORT's results, their
// tensors), kept while the thread waits for its next session. The batch code's optimized form
// holds the hidden classes ("maps") of these objects weakly; the full collection an idle thread
// runs after a release (below) would otherwise free them, V8 would throw that code away ("weak
// objects"), and the next session on this thread would run interpreted until recompiled (tens of
// ms of background CPU) in the middle of a hot swap. Not kept when the last batch was large
// (KEEP_MAX_BYTES): its buffers would stay.
const KEEP_MAX_BYTES = 1 << 16;
const kept = { session: null, job: null, feeds: null, results: null, bytes: 0 };

// One batch's inputs, from the slot into ORT tensors. Per batch, not per session (like
// writeOutputs): called thousands of times, it is optimized as a function, and the compiled code
// serves every later session of this thread; a loop that ran once per session would be compiled
// on-stack anew for each one.
function readInputs(ctrl, data, inputNames) {
  const nIn = ctrl[C.N_IN];
  const feeds = {};
  let bytes = 0;
  for (let i = 0; i < nIn; i++) {
    const d = C.DESC_BASE + i * C.DESC_INTS;
    const dt = DT[ctrl[d]];
    const rank = ctrl[d + 1];
    const dims = [];
    for (let r = 0; r < rank; r++) dims.push(ctrl[d + 2 + r]);
    const offset = ctrl[d + 2 + C.MAX_RANK];
    const length = ctrl[d + 3 + C.MAX_RANK];
    const buf = stage(i, dt[1], length / dt[2]);
    buf.set(data.subarray(offset, offset + length));
    const view = new dt[1](buf.buffer, 0, length / dt[2]);
    feeds[inputNames[i]] = new ort.Tensor(dt[0], dt[0] === 'bool' ? Uint8Array.from(view) : view, dims);
    bytes += buf.length;
  }
  kept.feeds = feeds;
  kept.bytes = bytes;
  return feeds;
}

// ORT's outputs into the slot after the inputs, with their descriptors; then DONE.
function writeOutputs(ctrl, data, results, outputNames) {
  const nIn = ctrl[C.N_IN];
  let end = align8(ctrl[C.DATA_END]);
  for (let o = 0; o < outputNames.length; o++) {
    const t = results[outputNames[o]];
    const code = CODE[t.type];
    if (!code) throw new Error('output "' + outputNames[o] + '" has unsupported type ' + t.type);
    const src = t.data;
    const out = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    if (end + out.length > data.length) throw new Error('output "' + outputNames[o] + '" (' + out.length + ' bytes) does not fit the slot; raise slotBytes');
    if (t.dims.length > C.MAX_RANK) throw new Error('output "' + outputNames[o] + '" has rank ' + t.dims.length + ' > ' + C.MAX_RANK);
    data.set(out, end);
    const d = C.DESC_BASE + (nIn + o) * C.DESC_INTS;
    ctrl[d] = code;
    ctrl[d + 1] = t.dims.length;
    for (let r = 0; r < t.dims.length; r++) ctrl[d + 2 + r] = Number(t.dims[r]);
    ctrl[d + 2 + C.MAX_RANK] = end;
    ctrl[d + 3 + C.MAX_RANK] = out.length;
    end = align8(end + out.length);
    kept.bytes += out.length;
  }
  kept.results = results;
  ctrl[C.N_OUT] = outputNames.length;
  Atomics.store(ctrl, C.STATE, C.DONE);
  Atomics.notify(ctrl, C.STATE);
}

// One session's batches until the main thread writes EXIT: wait for a batch, run it, answer.
async function serveBatches(session, job, ctrl, data, inputNames, outputNames, spinMs) {
  // When the last batch finished, and how long the slot then stayed empty (ms).
  let doneAt = performance.now();
  let lastGap = Infinity;
  for (;;) {
    // Block until the main thread changes STATE from what it is now (idle, or the DONE/ERROR we
    // wrote last, which the main thread resets once it has read the outputs).
    let state = Atomics.load(ctrl, C.STATE);
    if (state !== C.REQUEST && state !== C.EXIT && lastGap <= spinMs) {
      // Spin a little first: a batch handed over soon after the last one (the event loop hands
      // the next batch over before it answers the last one's requests) is picked up without a
      // futex wake on either side. Only while batches have been coming that close together
      // (lastGap), and bounded in time, so sparse traffic or an idle worker costs no CPU.
      const until = doneAt + spinMs;
      for (let i = 1; state !== C.REQUEST && state !== C.EXIT; i++) {
        if ((i & 255) === 0 && performance.now() > until) break;
        state = Atomics.load(ctrl, C.STATE);
      }
    }
    if (state === C.EXIT) return;
    if (state !== C.REQUEST) {
      Atomics.store(ctrl, C.SLEEPING, 1);
      state = Atomics.load(ctrl, C.STATE);
      if (state !== C.REQUEST && state !== C.EXIT) Atomics.wait(ctrl, C.STATE, state);
      Atomics.store(ctrl, C.SLEEPING, 0);
      continue;
    }
    lastGap = performance.now() - doneAt;
    try {
      let results = runSession(session, readInputs(ctrl, data, inputNames));
      if (typeof results.then === 'function') results = await results;
      writeOutputs(ctrl, data, results, outputNames);
    } catch (error) {
      fail(ctrl, data, error && error.message ? error.message : String(error));
    }
    signalDone(job);
    doneAt = performance.now();
  }
}

async function serve(session, job) {
  const ctrl = new Int32Array(job.sab, 0, C.HEADER_BYTES / 4);
  const data = new Uint8Array(job.sab, C.HEADER_BYTES, job.slotBytes);
  await serveBatches(session, job, ctrl, data, job.inputNames, job.outputNames, job.spinMicros / 1000);
  await session.release();
  kept.session = session;
  kept.job = job;
  staging.clear();
  if (kept.bytes > KEEP_MAX_BYTES) { kept.feeds = null; kept.results = null; }
}

// What a released session leaves behind (its wrapper, its last tensors, native memory they hold)
// is freed by a garbage collection, and a thread waiting in the pool allocates nothing that would
// start one: measured, RSS grew by ~0.4 MB per swap without it. So a full collection runs a
// second after a release, unless the thread was taken again by then; and at once after every
// COLLECT_EVERY releases without one (back-to-back swaps). gc is reached through a fresh context
// because this thread's own global has none (no --expose-gc). Setting the flag is process-wide:
// from then on, new contexts and worker threads of this process have a global gc() too.
const fullGc = (() => {
  try { require('node:v8').setFlagsFromString('--expose-gc'); return require('node:vm').runInNewContext('gc'); } catch { return null; }
})();
const COLLECT_EVERY = 8;
let collecting = null;
let uncollected = 0;
function collectGarbage() {
  if (collecting) { clearTimeout(collecting); collecting = null; }
  uncollected = 0;
  fullGc();
}
function afterRelease() {
  if (!fullGc) return;
  if (++uncollected >= COLLECT_EVERY) return collectGarbage();
  collecting = setTimeout(collectGarbage, 1000);
}

parentPort.on('message', (m) => {
  if (m.type !== 'open') return;
  if (collecting) { clearTimeout(collecting); collecting = null; }
  open(m).then(
    ({ session, provider, tried }) => {
      parentPort.postMessage({ type: 'ready', provider, skipped: tried, inputNames: session.inputNames, outputNames: session.outputNames, signals: Boolean(signals && m.signalId) });
      return serve(session, m).then(() => {
        parentPort.postMessage({ type: 'closed' });
        afterRelease();
      });
    },
    (error) => parentPort.postMessage({ type: 'failed', message: error.message }),
  ).catch((error) => {
    // After ready (the session failed to run or to release): this thread is not fit for another
    // session; it says why and ends (the main side learns of the end from the exit event).
    parentPort.postMessage({ type: 'crashed', message: String(error && error.message || error) });
    process.exit(1);
  });
});
// ONNX Runtime's environment (its allocators, logging, thread pools) is created once per thread,
// before its first session: do it now, while booting (before traffic), not in the first swap.
if (direct) direct.initOrt();
// This thread's Linux id, so that the main thread can set its scheduling class (threads.ts).
let tid;
try { tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()); } catch { tid = undefined; }
parentPort.postMessage({ type: 'booted', tid });
`;
