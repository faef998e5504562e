/** Runs an ONNX model with ONNX Runtime (CPU) on a row-major f32 matrix; returns its one output column. */
import * as ort from 'onnxruntime-node';
import { INPUT_NAME } from './model.js';

export async function runOnnx(model: Uint8Array, x: Float32Array, rows: number, cols: number, output: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    const result = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', x, [rows, cols]) });
    return result[output]!.data as Float32Array;
  } finally {
    await session.release();
  }
}
