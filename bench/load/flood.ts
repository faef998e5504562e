/**
 * Fairness under a flood: one WebSocket connection keeps `flood` requests in flight against a
 * model, while a polite connection sends `polite` requests one at a time. Reported: how many of
 * the polite client's requests were served and refused, and the flooder's counts, with the
 * per-connection admission off (`maxInFlightPerConnection: Infinity`: the server before it) and
 * at its default (admission.ts). Counts, not latencies: the point is who gets refused.
 * Run: node dist/bench/load/flood.js [polite] [flood]
 */
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { FrescoClient } from '../../src/client/index.js';
import { DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION } from '../../src/serving/admission.js';
import { FrescoServer } from '../../src/serving/server.js';
import { makeServingFixture } from './fixtures.js';

export interface FloodResult {
  admission: string;
  polite: { served: number; refused: number };
  flooder: { served: number; refused: number };
}

const x = (i: number) => ({ tensors: { x: { data: Float32Array.from({ length: 50 }, (_, j) => ((i + j) % 17) / 17), shape: [1, 50] } } });

export async function measureFlood(polite = 500, flood = 6000): Promise<FloodResult[]> {
  const fixture = await makeServingFixture(10);
  const results: FloodResult[] = [];
  try {
    for (const [admission, limit] of [['off (before)', Number.POSITIVE_INFINITY], [`${DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION} per connection (default)`, DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION]] as const) {
      // The default settings (queue of 4,096 rows): the flood keeps more than that in flight.
      const server = await new FrescoServer({ port: 0, registry: fixture.registry, models: ['mlp-50@production'], logger: pino({ level: 'silent' }), syncIntervalMs: 0, defaults: { timeoutMs: 60_000 }, maxInFlightPerConnection: limit }).start();
      const address = `ws://127.0.0.1:${server.port}`;
      const flooder = await FrescoClient.connect(address, { timeoutMs: 60_000 });
      const client = await FrescoClient.connect(address, { timeoutMs: 60_000 });
      const result: FloodResult = { admission, polite: { served: 0, refused: 0 }, flooder: { served: 0, refused: 0 } };
      let stop = false;
      let inFlight = 0;
      // Keeps `flood` requests in flight: a new one as each is answered.
      const send = (i: number): void => {
        inFlight++;
        flooder.predict('mlp-50@production', x(i)).then(
          () => result.flooder.served++,
          () => result.flooder.refused++,
        ).finally(() => {
          inFlight--;
          if (!stop) send(i + flood);
        });
      };
      for (let i = 0; i < flood; i++) send(i);
      for (let i = 0; i < polite; i++) {
        await client.predict('mlp-50@production', x(i)).then(
          () => result.polite.served++,
          () => result.polite.refused++,
        );
      }
      stop = true;
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
      flooder.close();
      client.close();
      await server.close();
      results.push(result);
    }
  } finally {
    fixture.registry.close();
    rmSync(fixture.dir, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = await measureFlood(Number(process.argv[2] ?? 500), Number(process.argv[3] ?? 6000));
  console.log(JSON.stringify(results, null, 2));
}
