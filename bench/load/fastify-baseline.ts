/**
 * The baseline a Node developer would write today: Fastify, JSON in and out, onnxruntime-node's
 * session.run awaited on the event loop. Serves the same model as Fresco.
 */
import Fastify from 'fastify';
import ort from 'onnxruntime-node';

export async function startFastifyBaseline(modelPath: string): Promise<{ port: number; close: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const app = Fastify({ logger: false });
  app.post('/predict', async (req) => {
    const body = req.body as { x: number[][] };
    const rows = body.x.length;
    const data = Float32Array.from(body.x.flat());
    const out = await session.run({ x: new ort.Tensor('float32', data, [rows, 50]) });
    return { y: Array.from(out.y!.data as Float32Array) };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: async () => {
      await app.close();
      await session.release();
    },
  };
}
