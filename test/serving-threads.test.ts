import { join } from 'node:path';
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-root.js';
import { InferenceWorker, type SlotInput } from '../src/serving/pool/inference-worker.js';
import { closeIdleThreads, idleThreads, keepSpareThreads } from '../src/serving/pool/threads.js';

// Threads outlive model versions (src/serving/pool/threads.ts): a closed version's thread opens
// the next version's session. What users rely on: the next version answers with its own model,
// and a version that fails to open leaves the thread usable.
const model = (name: string) => join(packageRoot(), 'models', name, 'model.onnx');
const open = (name: string, input: string, output: string) =>
  new InferenceWorker({ modelPath: model(name), providers: ['cpu'], intraOpThreads: 1, inputNames: [input], outputNames: [output], slotBytes: 1 << 16 });
const floats = (values: number[]): SlotInput => {
  const data = Float32Array.from(values);
  return { dtype: 'float32', shape: [1, values.length], byteLength: data.byteLength, write: (target) => target.set(new Uint8Array(data.buffer)) };
};
const row = (n: number) => Array.from({ length: n }, (_, i) => ((i * 37) % 11) / 11);

/** Opens mlp-50, expects it on `thread` (when given), runs one row and closes it. */
async function servesOn(thread: number | undefined): Promise<void> {
  const next = open('mlp-50', 'x', 'y');
  await next.ready;
  if (thread !== undefined) expect(next.threadId).toBe(thread);
  const [out] = await next.run(1, [floats(row(50))]);
  expect(out!.shape).toEqual([1, 1]);
  await next.close();
}

describe('inference threads outlive model versions', () => {
  it('opens the next version on the closed one\'s thread and answers with the new model', async () => {
    await keepSpareThreads(1);
    const first = open('mlp-50', 'x', 'y');
    await first.ready;
    const [a] = await first.run(1, [floats(row(50))]);
    const thread = first.threadId;
    await first.close();
    expect(idleThreads()).toBeGreaterThanOrEqual(1);

    const other = open('flights-delay', 'features', 'delay_probability');
    await other.ready;
    expect(other.threadId).toBe(thread);
    // A 13-feature row runs only if the thread opened the flights model, not the 50-input MLP.
    const [b] = await other.run(1, [floats(row(13))]);
    expect(b!.shape).toEqual([1, 1]);
    const p = (b!.data as Float32Array)[0]!;
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
    await expect(other.run(1, [floats(row(50))])).rejects.toMatchObject({ code: 'FRESCO_ERR_INTERNAL' });
    await other.close();

    const again = open('mlp-50', 'x', 'y');
    await again.ready;
    expect(again.threadId).toBe(thread);
    const [c] = await again.run(1, [floats(row(50))]);
    expect(Array.from(c!.data as Float32Array)).toEqual(Array.from(a!.data as Float32Array));
    await again.close();
  });

  it('keeps a thread usable after a version that fails to open', async () => {
    const broken = new InferenceWorker({ modelPath: join(packageRoot(), 'models', 'mlp-50', 'fresco.json'), providers: ['cpu'], intraOpThreads: 1, inputNames: ['x'], outputNames: ['y'], slotBytes: 1 << 16 });
    await expect(broken.ready).rejects.toMatchObject({ code: 'FRESCO_ERR_MODEL_LOAD_FAILED' });
    const thread = broken.threadId;
    await broken.close();
    await servesOn(thread);
  });

  it('gives a thread back when a version is closed while its session is still opening', async () => {
    const opening = open('mlp-50', 'x', 'y');
    const thread = opening.threadId;
    await opening.close();
    await expect(opening.ready).resolves.toBeDefined();
    await servesOn(thread);
  });

  it('ends idle threads on request, and boots a new one for the next version', async () => {
    await keepSpareThreads(1);
    await closeIdleThreads();
    expect(idleThreads()).toBe(0);
    await servesOn(undefined);
    expect(idleThreads()).toBe(1);
  });

  it('keeps a thread\'s slot for its next version, and gives a version that needs more a larger one', async () => {
    await keepSpareThreads(1);
    const rows = 400; // 400 x 50 float32 = 80,000 bytes of input
    const batch = floats(Array.from({ length: rows * 50 }, (_, i) => ((i * 37) % 11) / 11));
    batch.shape = [rows, 50];
    const small = new InferenceWorker({ modelPath: model('mlp-50'), providers: ['cpu'], intraOpThreads: 1, inputNames: ['x'], outputNames: ['y'], slotBytes: 1 << 16 });
    await small.ready;
    const thread = small.threadId;
    await expect(small.run(rows, [batch])).rejects.toMatchObject({ code: 'FRESCO_ERR_INPUT_INVALID' });
    const [one] = await small.run(1, [floats(row(50))]);
    await small.close();

    const large = new InferenceWorker({ modelPath: model('mlp-50'), providers: ['cpu'], intraOpThreads: 1, inputNames: ['x'], outputNames: ['y'], slotBytes: 1 << 18 });
    await large.ready;
    expect(large.threadId).toBe(thread);
    const [many] = await large.run(rows, [batch]);
    expect(many!.shape).toEqual([rows, 1]);
    // The first row of the big batch is the row run alone on the small slot.
    expect((many!.data as Float32Array)[0]).toBeCloseTo((one!.data as Float32Array)[0]!, 6);
    await large.close();
  });

  it('answers batches without leaving garbage in the old generation (completion signal, not Atomics.waitAsync)', async () => {
    const worker = open('mlp-50', 'x', 'y');
    await worker.ready;
    const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
    const input = floats(row(50));
    for (let i = 0; i < 2000; i++) await worker.run(1, [input]);
    const before = oldSpace();
    const batches = 20_000;
    for (let i = 0; i < batches; i++) await worker.run(1, [input]);
    // Atomics.waitAsync left ~120-190 bytes per wait there; a major GC meanwhile would only lower it.
    expect((oldSpace() - before) / batches).toBeLessThan(40);
    await worker.close();
  });
});
