import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrescoClient } from '../src/client/index.js';
import type { FrescoServer } from '../src/serving/index.js';
import { admin, eventually, type Fixture, makeServingFixture, policyOf, row50, SCHED_OTHER, startServer, threadsOf, url } from './serving-helpers.js';

let fixture: Fixture;
let server: FrescoServer;

beforeAll(async () => {
  fixture = await makeServingFixture(10);
  server = await startServer(fixture, { models: ['mlp-50@production'], syncIntervalMs: 50 });
});

afterAll(async () => {
  await server?.close();
  fixture?.registry.close();
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

const input = (i: number) => ({ tensors: { x: { data: row50(i), shape: [1, 50] } } });

describe('hot swap, split and shadow', () => {
  it('refuses admin calls without the right token, and changes nothing', async () => {
    for (const token of ['', 'wrong-token']) {
      const r = await admin(server, 'POST', '/admin/models/mlp-50%40production/swap', { version: 2 }, token);
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('FRESCO_ERR_UNAUTHORIZED');
    }
    expect((await admin(server, 'GET', '/admin/models', undefined, 'nope')).status).toBe(401);
    expect(server.manager.servedRefs()).toEqual([expect.objectContaining({ ref: 'mlp-50@production', version: 1 })]);
  });

  it('swaps under continuous load from several clients with zero failed requests', async () => {
    const clients = await Promise.all([1, 2, 3, 4].map(() => FrescoClient.connect(url(server))));
    let stop = false;
    const versions = new Set<number>();
    const failures: unknown[] = [];
    let answered = 0;
    const loops = clients.map(async (c, k) => {
      let i = 0;
      while (!stop) {
        const batch = await Promise.allSettled(Array.from({ length: 8 }, () => c.predict('mlp-50@production', input(k * 1000 + i++))));
        for (const r of batch) {
          if (r.status === 'fulfilled') {
            versions.add(r.value.version);
            answered++;
          } else failures.push(r.reason);
        }
      }
    });
    await eventually(() => answered > 50);
    for (const version of [2, 1, 2]) {
      const r = await admin(server, 'POST', '/admin/models/mlp-50%40production/swap', { version });
      expect(r.status).toBe(200);
      expect(r.body.to).toBe(version);
      const before = answered;
      await eventually(() => answered > before + 50);
    }
    stop = true;
    await Promise.all(loops);
    for (const c of clients) c.close();
    expect(failures).toEqual([]);
    expect([...versions].sort()).toEqual([1, 2]);
    // The old version was drained and unloaded: only v2 is loaded now.
    expect(server.manager.loadedModels().map((m) => m.version)).toEqual([2]);
    // A server that was not asked to put its serving threads first (`prioritizeServing`) leaves
    // every thread of the process it shares in the normal class, through swaps too.
    if (process.platform === 'linux') for (const t of threadsOf()) expect(policyOf(t), `thread ${t}`).toBe(SCHED_OTHER);
  });

  it('leaves the old version serving when the new one fails to load, and says why', async () => {
    const r = await admin(server, 'POST', '/admin/models/mlp-50%40production/swap', { version: 3 });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('FRESCO_ERR_MODEL_LOAD_FAILED');
    expect(r.body.error).toMatch(/mlp-50@3 failed to load.*NoSuchOperator/);
    const c = await FrescoClient.connect(url(server));
    expect((await c.predict('mlp-50@production', input(1))).version).toBe(2);
    c.close();
    const listed = await admin(server, 'GET', '/admin/models');
    expect(listed.body.served[0]).toMatchObject({ ref: 'mlp-50@production', version: 2, lastError: expect.stringMatching(/NoSuchOperator/) });
  });

  it('follows an alias moved in the registry (polled), and a move through the admin API', async () => {
    // The server serves v2 (swapped through the admin API); the registry's alias still says v1.
    fixture.registry.setAlias('mlp-50', 2, 'production');
    await server.manager.sync();
    expect(server.manager.servedRefs()[0]?.version).toBe(2);
    fixture.registry.setAlias('mlp-50', 1, 'production');
    await eventually(() => server.manager.servedRefs()[0]?.version === 1);
    const r = await admin(server, 'POST', '/admin/aliases', { name: 'mlp-50', alias: 'production', version: 2 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ from: 1, to: 2 });
    expect(fixture.registry.resolve('mlp-50@production').version).toBe(2);
    expect(server.manager.servedRefs()[0]?.version).toBe(2);
    // A broken version never becomes the alias.
    const bad = await admin(server, 'POST', '/admin/aliases', { name: 'mlp-50', alias: 'production', version: 3 });
    expect(bad.status).toBe(422);
    expect(fixture.registry.resolve('mlp-50@production').version).toBe(2);
  });

  it('splits traffic by weight and mirrors to a shadow', async () => {
    const c = await FrescoClient.connect(url(server));
    expect((await admin(server, 'PUT', '/admin/routes/mlp-50%40production', { split: [{ version: 1, weight: 1 }, { version: 2, weight: 1 }] })).status).toBe(200);
    const split = await Promise.all(Array.from({ length: 200 }, (_, i) => c.predict('mlp-50@production', input(i))));
    const counts = new Map<number, number>();
    for (const a of split) counts.set(a.version, (counts.get(a.version) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([1, 2]);
    // A pinned version skips the split.
    expect((await Promise.all(Array.from({ length: 20 }, () => c.predict('mlp-50@1', input(3))))).every((a) => a.version === 1)).toBe(true);

    expect((await admin(server, 'PUT', '/admin/routes/mlp-50%40production', { split: [{ version: 1, weight: 0 }, { version: 2, weight: 1 }], shadow: { version: 1 } })).status).toBe(200);
    const shadowed = await Promise.all(Array.from({ length: 30 }, (_, i) => c.predict('mlp-50@production', input(i))));
    expect(shadowed.every((a) => a.version === 2)).toBe(true);
    await eventually(async () => (await admin(server, 'GET', '/admin/shadow/mlp-50')).body.records.length >= 30);
    const { records } = (await admin(server, 'GET', '/admin/shadow/mlp-50')).body;
    expect(records.at(-1)).toMatchObject({ primary: 2, shadow: 1, maxAbsDiff: expect.any(Number) });
    expect(records.at(-1).maxAbsDiff).toBeGreaterThan(0); // different weights, different answers
    const metrics = await (await fetch(url(server, '/metrics'))).text();
    expect(metrics).toMatch(/fresco_shadow_requests_total\{model="mlp-50",version="1",outcome="ok"\} \d+/);
    expect((await admin(server, 'PUT', '/admin/routes/mlp-50%40production', {})).status).toBe(200);
    c.close();
  });

  it('rehearses spare threads within a time budget, so start-up never waits on busy cores', async () => {
    const model = server.manager.loadedModels()[0]!;
    // Far more batches than fit in 100 ms: the budget ends the rehearsal, and says how far it got.
    const ran = await model.rehearse(1, 100_000_000, 100);
    expect(ran).toBeGreaterThan(0);
    expect(ran).toBeLessThan(100_000_000);
    expect(await model.rehearse(1, 5, 60_000)).toBe(5);
  });

  it('shuts down gracefully: answers what is in flight, then stops accepting', async () => {
    const c = await FrescoClient.connect(url(server));
    const inflight = Array.from({ length: 200 }, (_, i) => c.predict('mlp-50@production', input(i)));
    await Promise.race(inflight);
    const closing = server.close();
    const results = await Promise.allSettled(inflight);
    await closing;
    // Every request was either answered or refused as UNAVAILABLE; none was lost.
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('FRESCO_ERR_UNAVAILABLE');
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    await expect(fetch(url(server, '/v2/health/live'))).rejects.toThrow();
    c.close();
  });
});
