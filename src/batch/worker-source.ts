/**
 * The batch inference worker's code, as a string run by `new Worker(source, { eval: true })`.
 * Why a string: it must run the same from the TypeScript sources (tests), from dist/ and from a
 * bundle, and Node 20 cannot run a .ts file in a worker. It opens one ONNX Runtime session per
 * model once and reuses it for every batch (creating and releasing sessions leaks memory
 * upstream). Batches arrive by postMessage with their buffer transferred, and the outputs go back
 * the same way: with tens of thousands of rows per batch the hop costs little next to the run.
 */
export const BATCH_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const sessions = new Map();

async function open(models) {
  for (const m of models) {
    const session = await ort.InferenceSession.create(m.path, {
      executionProviders: ['cpu'],
      intraOpNumThreads: workerData.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    sessions.set(m.key, { session, input: m.input, outputs: m.outputs });
  }
}

parentPort.on('message', async (msg) => {
  if (msg.type === 'open') {
    try {
      await open(msg.models);
      parentPort.postMessage({ type: 'ready' });
    } catch (error) {
      parentPort.postMessage({ type: 'failed', message: String(error && error.message || error) });
    }
    return;
  }
  if (msg.type === 'run') {
    try {
      const s = sessions.get(msg.model);
      if (!s) throw new Error('model ' + msg.model + ' is not open in this worker');
      const data = new Float32Array(msg.buffer, 0, msg.rows * msg.width);
      const feeds = { [s.input]: new ort.Tensor('float32', data, [msg.rows, msg.width]) };
      const result = await s.session.run(feeds);
      const outputs = [];
      const transfer = [];
      for (const name of s.outputs) {
        const t = result[name];
        // Copy into a plain Float32Array that can be transferred (ORT's buffer may be shared or
        // not float32); outputs are small next to the inputs.
        const values = t.type === 'float32' ? new Float32Array(t.data) : Float32Array.from(t.data, Number);
        outputs.push({ name, dims: t.dims.map(Number), buffer: values.buffer });
        transfer.push(values.buffer);
      }
      parentPort.postMessage({ type: 'result', id: msg.id, outputs, input: msg.buffer }, [...transfer, msg.buffer]);
    } catch (error) {
      parentPort.postMessage({ type: 'error', id: msg.id, message: String(error && error.message || error), input: msg.buffer }, [msg.buffer]);
    }
  }
});
`;
