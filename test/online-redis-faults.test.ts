// Redis unreachable: a clear FRESCO_ERR_ONLINE_UNAVAILABLE within the bounded timeout, no hang;
// the client reconnects when the server returns.
import { describe, expect, it } from 'vitest';
import { RedisOnlineStore } from '../src/online/index.js';
import { freePort, skipRedis, startRedis } from './online-redis-helpers.js';

describe.skipIf(skipRedis)('Redis faults', () => {
  it('fails fast when no server listens', async () => {
    const port = await freePort();
    const t = performance.now();
    await expect(RedisOnlineStore.open({ url: `redis://127.0.0.1:${port}`, timeoutMs: 500 })).rejects.toMatchObject({ code: 'FRESCO_ERR_ONLINE_UNAVAILABLE' });
    expect(performance.now() - t).toBeLessThan(3000);
  });

  it('errors within the bound while the server is down, and reconnects when it returns', async () => {
    const server = await startRedis();
    const store = await RedisOnlineStore.open({ url: `redis://127.0.0.1:${server.port}`, timeoutMs: 500 });
    try {
      await store.defineTable({ name: 't', joinKeys: ['k'], ttlSeconds: 0, features: [{ name: 'x', type: 'float64' }] });
      await store.write('t', [{ key: ['a'], eventTime: 1, values: [1.5] }]);
      await server.stop();
      const t = performance.now();
      await expect(store.read('t', [['a']])).rejects.toMatchObject({ code: 'FRESCO_ERR_ONLINE_UNAVAILABLE' });
      expect(performance.now() - t).toBeLessThan(2000);
      const again = await startRedis({ port: server.port, dir: server.dir });
      try {
        let ok = false;
        for (let i = 0; i < 60 && !ok; i++) {
          try {
            await store.schema('t');
            ok = true;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        expect(ok).toBe(true);
      } finally {
        await again.stop();
      }
    } finally {
      await store.close();
    }
  });
});
