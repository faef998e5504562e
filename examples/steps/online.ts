/**
 * Quickstart step: the online store. Materializes the flights project's feature tables (set up
 * and applied by the offline step in ctx.projectDir) into the embedded LMDB store as of the end
 * of June 2001, then reads a few airports back with getOnlineFeatures.
 */
import { getOnlineFeatures } from '../../src/online/get-online-features.js';
import { materialize } from '../../src/online/materialize.js';
import type { QuickstartContext } from '../context.js';

export async function onlineStep(ctx: QuickstartContext): Promise<void> {
  const end = new Date('2001-06-30T12:00:00Z');
  const started = performance.now();
  const result = await materialize({ project: ctx.projectDir, end, log: (line) => ctx.log(`  ${line}`) });
  const seconds = (performance.now() - started) / 1000;
  const rows = result.tables.reduce((a, t) => a + t.rows, 0);
  ctx.log(`materialized ${result.tables.length} tables, ${rows.toLocaleString('en-US')} entity rows, into ${result.store} in ${seconds.toFixed(1)} s`);
  const airports = ['ORD', 'ATL', 'SFO', 'XXX'];
  const online = await getOnlineFeatures({ project: ctx.projectDir, features: 'delay_model', entities: airports.map((airport) => ({ airport })), asOf: end });
  for (const row of online.rows) {
    const v = row.values;
    const fmt = (x: unknown) => (typeof x === 'number' ? x.toFixed(1) : String(x));
    ctx.log(
      `  ${String(row.entity.airport)}: ${Object.entries(row.statuses).map(([t, s]) => `${t}=${s}`).join(' ')}; avg delay 24h ${fmt(v['origin_delays__avg_24h'])} over ${fmt(v['origin_delays__count_24h'])} flights, state ${fmt(v['origin_airport__state'])}`,
    );
  }
}
