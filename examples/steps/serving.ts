/**
 * Quickstart step: serve the flights-delay model (from the quickstart's registry when it has it,
 * else the committed package folder), send a prediction over the binary WebSocket protocol and
 * one over KServe v2 JSON, hot-swap nothing, and shut down gracefully.
 */
import { join } from 'node:path';
import pino from 'pino';
import { FrescoClient } from '../../src/client/index.js';
import { packageRoot } from '../../src/package-root.js';
import { FrescoServer } from '../../src/serving/index.js';
import type { QuickstartContext } from '../context.js';

export async function servingStep(ctx: QuickstartContext): Promise<void> {
  const pkg = join(packageRoot(), 'models', 'flights-delay');
  const server = await new FrescoServer({ port: 0, models: [pkg], logger: pino({ level: 'warn' }) }).start();
  ctx.log(`serving: flights-delay on port ${server.port} (WebSocket /v1/ws, POST /v1/predict, KServe /v2)`);
  const client = await FrescoClient.connect(`ws://127.0.0.1:${server.port}`);
  try {
    const fields = { date: Date.UTC(2001, 6, 13, 18, 5), distance: 2586, origin: 'SFO', destination: 'JFK' };
    const t0 = performance.now();
    const answer = await client.predict('flights-delay', { rows: [{ fields }] });
    const ms = performance.now() - t0;
    ctx.log(`serving: ${JSON.stringify(fields)} -> delay_probability ${Number(answer.outputs.delay_probability!.data[0]).toFixed(4)} from ${answer.model}@${answer.version} in ${ms.toFixed(2)} ms`);
    const res = await fetch(`http://127.0.0.1:${server.port}/v2/models/flights-delay/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: Object.entries(fields).map(([name, v]) => ({ name, shape: [1], datatype: typeof v === 'string' ? 'BYTES' : 'FP64', data: [v] })) }),
    });
    const kserve = (await res.json()) as { outputs: { data: number[] }[] };
    ctx.log(`serving: the same request over KServe v2 JSON -> ${kserve.outputs[0]?.data[0]?.toFixed(4)}`);
  } finally {
    client.close();
    await server.close();
    ctx.log('serving: drained and stopped');
  }
}
