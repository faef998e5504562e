/**
 * Quickstart step: online serving, Michelangelo style. Serves `flights-delay@production` (the
 * trained GBDT, version 2) from the project's registry, with the project's online store (filled by
 * the online step) as its feature lookup, exactly as `fresco serve --project .quickstart` does.
 * A request names the flight's entity keys (origin and destination airports: the tables'
 * join_key_map) and its request fields; the server reads the windowed delay statistics and airport
 * facts from the store, runs the frozen plan and the model. Predicts a few flights over the
 * WebSocket client and over KServe v2 JSON, then moves the `production` alias back to version 1
 * through the admin API while a client keeps sending requests: the hot swap is shown by which
 * version answered, and no request fails. Finally the alias is put back on the trained version.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pino from 'pino';
import { FrescoClient } from '../../src/client/index.js';
import { loadProject } from '../../src/features/project.js';
import { openOnlineStore } from '../../src/online/open-store.js';
import { ModelRegistry } from '../../src/registry/index.js';
import { FrescoServer, requestKeyNames } from '../../src/serving/index.js';
import type { QuickstartContext } from '../context.js';

const FLIGHTS = [
  { origin: 'SFO', destination: 'JFK', distance: 2586, date: Date.UTC(2001, 5, 30, 17, 5) },
  { origin: 'ORD', destination: 'ATL', distance: 606, date: Date.UTC(2001, 5, 30, 19, 40) },
  { origin: 'BOS', destination: 'LAX', distance: 2611, date: Date.UTC(2001, 5, 30, 7, 15) },
];

/** One request row: entity keys for the feature tables, fields for the plan's request inputs. */
const row = (f: (typeof FLIGHTS)[number]) => ({ keys: { origin: f.origin, destination: f.destination }, fields: { ...f } });

export async function servingStep(ctx: QuickstartContext): Promise<void> {
  const ref = 'flights-delay@production';
  const project = loadProject(ctx.projectDir);
  const store = await openOnlineStore(project.config);
  const registry = ModelRegistry.open(join(ctx.projectDir, '.fresco', 'registry'));
  const trained = registry.resolve(ref).version;
  const adminToken = randomBytes(16).toString('hex');
  const server = await new FrescoServer({
    port: 0,
    registry,
    models: [ref],
    onlineStore: store,
    onlineKeyNames: requestKeyNames(project),
    adminToken,
    logger: pino({ level: 'warn' }),
  }).start();
  const base = `http://127.0.0.1:${server.port}`;
  ctx.log(`serving ${ref} (version ${trained}) on port ${server.port} with online features from ${store.id} (WebSocket /v1/ws, POST /v1/predict, KServe /v2, /admin)`);
  const client = await FrescoClient.connect(`ws://127.0.0.1:${server.port}`);
  try {
    // 1. A few flights over the binary WebSocket protocol: keys + fields, one request.
    const t0 = performance.now();
    const answer = await client.predict(ref, { rows: FLIGHTS.map(row) });
    const ms = performance.now() - t0;
    const output = Object.keys(answer.outputs)[0]!;
    FLIGHTS.forEach((f, i) => {
      ctx.log(`  ${f.origin}->${f.destination} ${new Date(f.date).toISOString().slice(0, 16)}Z ${f.distance} mi: ${output} ${Number(answer.outputs[output]!.data[i]).toFixed(4)}`);
    });
    ctx.log(`  answered by ${answer.model}@${answer.version} in ${ms.toFixed(1)} ms (${FLIGHTS.length} rows, features looked up online, ${answer.rowStatus.filter((s) => s.code).length} failed rows)`);

    // 2. The first flight over KServe v2 JSON: one input per column; origin/destination are both
    //    request fields and entity keys.
    const f = FLIGHTS[0]!;
    const res = await fetch(`${base}/v2/models/flights-delay/infer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: Object.entries(f).map(([name, v]) => ({ name, shape: [1], datatype: typeof v === 'string' ? 'BYTES' : 'FP64', data: [v] })) }),
    });
    const kserve = (await res.json()) as { model_version?: string; outputs?: { name: string; data: number[] }[]; error?: string };
    if (!res.ok) throw new Error(`KServe infer failed (${res.status}): ${JSON.stringify(kserve)}`);
    ctx.log(`  KServe v2 JSON, ${f.origin}->${f.destination}: ${kserve.outputs?.[0]?.name} ${kserve.outputs?.[0]?.data[0]?.toFixed(4)} (version ${kserve.model_version})`);

    // 3. Hot swap under load: a client keeps predicting while the admin API moves the alias to v1.
    const rollback = trained === 1 ? 2 : 1;
    const byVersion = new Map<number, number>();
    let failed = 0;
    let sending = true;
    const load = (async () => {
      while (sending) {
        const batch = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => client.predict(ref, { rows: [row(FLIGHTS[i % FLIGHTS.length]!)] })));
        for (const r of batch) {
          if (r.status === 'fulfilled' && !r.value.rowStatus.some((s) => s.code)) byVersion.set(r.value.version, (byVersion.get(r.value.version) ?? 0) + 1);
          else failed++;
        }
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t1 = performance.now();
    const moved = await fetch(`${base}/admin/aliases`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'flights-delay', alias: 'production', version: rollback }),
    });
    const move = (await moved.json()) as { from?: number; to?: number };
    if (!moved.ok) throw new Error(`alias move failed (${moved.status}): ${JSON.stringify(move)}`);
    const swapMs = performance.now() - t1;
    await new Promise((resolve) => setTimeout(resolve, 300));
    sending = false;
    await load;
    const counts = [...byVersion].sort((a, b) => a[0] - b[0]).map(([v, n]) => `${n} by v${v}`).join(', ');
    ctx.log(`hot swap: POST /admin/aliases production ${move.from} -> ${move.to} (loaded, warmed, switched in ${swapMs.toFixed(0)} ms) while a client kept predicting: ${counts}; ${failed} failed request(s)`);
    if (failed) throw new Error(`${failed} request(s) failed during the hot swap`);
    const after = await client.predict(ref, { rows: FLIGHTS.map(row) });
    const out1 = Object.keys(after.outputs)[0]!;
    ctx.log(`  the same ${FLIGHTS.length} flights now: ${FLIGHTS.map((x, i) => `${x.origin}->${x.destination} ${Number(after.outputs[out1]!.data[i]).toFixed(4)}`).join(', ')} (${out1} from ${after.model}@${after.version}: the example package reads request fields only)`);
  } finally {
    client.close();
    await server.close();
    await store.close();
    ctx.log('serving: drained and stopped');
  }
  try {
    // Leave the project as training left it: production on the trained model.
    const back = registry.setAlias('flights-delay', trained, 'production');
    ctx.log(`alias production moved back to v${back.toVersion} (the trained GBDT) in the registry`);
  } finally {
    registry.close();
  }
}
