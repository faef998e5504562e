// Per-row feature status (docs/serving.md, "Feature status"): every dataframe answer says, per
// row, what the online-feature lookup found (present, missing, expired, unknown) and which tables
// were missing or expired, over the binary protocol (client API, CLI), KServe HTTP and gRPC; the
// per-model policy `missingFeatures` serves such rows from null features (`serve`) or fails them
// alone (`fail`), for a missing entity and for an expired row.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { FrescoClient, type Prediction } from '../src/client/index.js';
import { FrescoError } from '../src/errors/index.js';
import { FEATURES_MISSING, InMemoryFeatureLookup, lookupBlock } from '../src/serving/feature-lookup.js';
import { decodeFrame, encodeFrame } from '../src/serving/protocol/codec.js';
import type { PredictResponseMsg } from '../src/serving/protocol/messages.js';
import { parseModelSettings } from '../src/serving/settings.js';
import { MODEL, withDataframeServer, writeDataframeProject } from './dataframe-helpers.js';
import { inferenceClient, unary } from './grpc-helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await writeDataframeProject();
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const DATE = Date.UTC(2024, 5, 1, 13);
const row = (origin: string, destination?: string) => ({ keys: { origin, ...(destination === undefined ? {} : { destination }) }, fields: { date: DATE, distance: 337, origin } });
// origin_stats holds SFO, JFK, ORD; dest_live a fresh SFO, an expired JFK, no ORD.
const ROWS = [
  row('SFO', 'SFO'), // present
  row('ZZZ', 'SFO'), // origin_stats has no row for ZZZ: missing
  row('SFO', 'JFK'), // dest_live's JFK row is past its 1 h TTL: expired
  row('ZZZ', 'ORD'), // missing in both tables
  row('SFO'), // no destination key: the row fails before the lookup
];
const DETAILS = [
  { row: 1, table: 'origin_stats', status: 'missing' },
  { row: 2, table: 'dest_live', status: 'expired' },
  { row: 3, table: 'origin_stats', status: 'missing' },
  { row: 3, table: 'dest_live', status: 'missing' },
];

async function predict(port: number, rows: typeof ROWS): Promise<Prediction> {
  const client = await FrescoClient.connect(`ws://127.0.0.1:${port}`, { timeoutMs: 30_000 });
  try {
    return await client.predict(`${MODEL}@production`, { rows });
  } finally {
    client.close();
  }
}

/** KServe columns for rows that all carry both keys. */
function kserveInputs(rows: typeof ROWS) {
  return [
    { name: 'origin', datatype: 'BYTES', shape: [rows.length], data: rows.map((r) => r.keys.origin) },
    { name: 'destination', datatype: 'BYTES', shape: [rows.length], data: rows.map((r) => r.keys.destination!) },
    { name: 'date', datatype: 'INT64', shape: [rows.length], data: rows.map(() => DATE) },
    { name: 'distance', datatype: 'FP64', shape: [rows.length], data: rows.map(() => 337) },
  ];
}

async function kserve(port: number, rows: typeof ROWS) {
  const res = await fetch(`http://127.0.0.1:${port}/v2/models/${MODEL}/infer`, { method: 'POST', body: JSON.stringify({ inputs: kserveInputs(rows) }) });
  return { status: res.status, body: (await res.json()) as any };
}

describe('per-row feature status', () => {
  it('the lookup records a missing entity per table', async () => {
    const lookup = new InMemoryFeatureLookup();
    lookup.setTable('stats', 'airport', [['SFO', { avg: 1 }]]);
    lookup.setTable('live', 'airport', [['JFK', { queue: 2 }]]);
    const block = await lookupBlock(lookup, ['stats.avg', 'live.queue'], [{ airport: 'SFO' }, { airport: 'JFK' }]);
    expect(block.tableCount).toBe(2);
    expect([block.state(0, 0), block.state(0, 1), block.state(1, 0), block.state(1, 1)]).toEqual([0, FEATURES_MISSING, FEATURES_MISSING, 0]);
  });

  it('serve (default): every row is answered, and its status says present, missing, expired or unknown, over the client, KServe and gRPC', async () => {
    await withDataframeServer(
      dir,
      async (server) => {
        const p = await predict(server.port, ROWS);
        expect(p.featureStatus).toEqual(['present', 'missing', 'expired', 'missing', 'unknown']);
        expect(p.featureDetails).toEqual(DETAILS);
        expect(p.rowStatus.map((s) => s.code)).toEqual(['', '', '', '', 'FRESCO_ERR_INPUT_INVALID']);
        const risk = Array.from(p.outputs.risk!.data as Float32Array);
        expect(risk.slice(0, 4).every(Number.isFinite)).toBe(true);
        expect(risk[4]).toBeNaN();
        // An all-present answer says so too (and keeps the answer template's fast path).
        for (let i = 0; i < 3; i++) expect((await predict(server.port, [ROWS[0]!])).featureStatus).toEqual(['present']);
        // A missing row right after all-present ones still says missing.
        expect((await predict(server.port, [ROWS[1]!])).featureStatus).toEqual(['missing']);

        const k = await kserve(server.port, ROWS.slice(0, 4));
        expect(k.status).toBe(200);
        expect(JSON.parse(k.body.parameters.feature_status)).toEqual(['present', 'missing', 'expired', 'missing']);
        expect(JSON.parse(k.body.parameters.feature_details)).toEqual(DETAILS);
        expect(k.body.outputs[0].data.map((x: number) => Math.fround(x))).toEqual(risk.slice(0, 4));

        const grpc = inferenceClient(`127.0.0.1:${server.grpcPort}`);
        try {
          const inputs = kserveInputs(ROWS.slice(0, 4));
          const g = await unary(grpc, 'ModelInfer', {
            model_name: MODEL,
            inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, contents: i.datatype === 'BYTES' ? { bytes_contents: (i.data as string[]).map((s) => Buffer.from(s)) } : i.datatype === 'INT64' ? { int64_contents: i.data } : { fp64_contents: i.data } })),
          });
          expect(JSON.parse(g.parameters.feature_status.string_param)).toEqual(['present', 'missing', 'expired', 'missing']);
          expect(JSON.parse(g.parameters.feature_details.string_param)).toEqual(DETAILS);
        } finally {
          grpc.close();
        }

        // fresco predict says when a row was answered without its features.
        const out: string[] = [];
        const io: Io = { out: (t) => void out.push(t), err: () => {} };
        const code = await runCli(['node', 'fresco', 'predict', `${MODEL}@production`, '--url', `ws://127.0.0.1:${server.port}`, '--key', 'origin=ZZZ', '--key', 'destination=SFO', '--field', `date=${DATE}`, '--field', 'distance=337', '--field', 'origin=ZZZ', '--timeout', '30000'], io);
        expect(code).toBe(0);
        expect(out.join('\n')).toContain('row 0: features missing (origin_stats missing)');
      },
      {},
      true,
    );
  });

  it('fail: a row with a missing entity or an expired row fails alone with FRESCO_ERR_FEATURES_MISSING; the others are answered', async () => {
    const served = await withDataframeServer(dir, async (server) => predict(server.port, [ROWS[0]!]));
    await withDataframeServer(
      dir,
      async (server) => {
        const meta = await (await fetch(`http://127.0.0.1:${server.port}/v2/models/${MODEL}`)).json();
        expect(meta.parameters.missing_features).toBe('fail');
        const p = await predict(server.port, ROWS);
        expect(p.featureStatus).toEqual(['present', 'missing', 'expired', 'missing', 'unknown']);
        expect(p.rowStatus.map((s) => s.code)).toEqual(['', 'FRESCO_ERR_FEATURES_MISSING', 'FRESCO_ERR_FEATURES_MISSING', 'FRESCO_ERR_FEATURES_MISSING', 'FRESCO_ERR_INPUT_INVALID']);
        expect(p.rowStatus[1]!.message).toMatch(/row 1: origin_stats has no row for origin="ZZZ"/);
        expect(p.rowStatus[2]!.message).toMatch(/row 2: dest_live has only an expired row \(older than its TTL\) for destination="JFK"/);
        expect(p.rowStatus[3]!.message).toMatch(/origin_stats has no row for origin="ZZZ"; dest_live has no row for destination="ORD"/);
        const risk = Array.from(p.outputs.risk!.data as Float32Array);
        // The present row gets the answer it gets under `serve`; the failed ones none.
        expect(risk[0]).toBe(served.outputs.risk!.data[0]);
        expect(risk.slice(1).every(Number.isNaN)).toBe(true);
        // A request whose every row fails fails with the row's error: 404 over KServe.
        for (const only of [ROWS[1]!, ROWS[2]!]) {
          const error = (await predict(server.port, [only]).catch((e: unknown) => e)) as FrescoError;
          expect(error).toBeInstanceOf(FrescoError);
          expect(error.code).toBe('FRESCO_ERR_FEATURES_MISSING');
          const k = await kserve(server.port, [only]);
          expect(k.status).toBe(404);
          expect(k.body.code).toBe('FRESCO_ERR_FEATURES_MISSING');
        }
      },
      { missingFeatures: 'fail' },
    );
  });

  it('the policy is validated with the other settings', () => {
    expect(parseModelSettings({}).missingFeatures).toBe('serve');
    expect(() => parseModelSettings({ missingFeatures: 'drop' }, 'settings of model "m"')).toThrow(/settings of model "m": key "missingFeatures"/);
  });

  it('travels in the binary protocol (1.1): per-row states and details, through the answer templates too', () => {
    const base: PredictResponseMsg = { type: 'predict_response', id: 1, model: 'm-status', version: 1, outputs: [{ name: 'y', dtype: 'float32', shape: [2, 1], data: Float32Array.of(0.5, 0.25) }], rowStatus: [] };
    const present = { ...base, featureStatus: new Uint8Array(2), featureDetails: [] };
    for (let id = 1; id <= 3; id++) expect(Array.from((decodeFrame(encodeFrame({ ...present, id })) as PredictResponseMsg).featureStatus!)).toEqual([0, 0]);
    const missing = { ...base, id: 4, featureStatus: Uint8Array.of(0, 2), featureDetails: [{ row: 1, table: 'live', state: 2 }] };
    const back = decodeFrame(encodeFrame(missing)) as PredictResponseMsg;
    expect(Array.from(back.featureStatus!)).toEqual([0, 2]);
    expect(back.featureDetails).toEqual([{ row: 1, table: 'live', state: 2 }]);
    // A tensor model's answer carries none.
    expect((decodeFrame(encodeFrame(base)) as PredictResponseMsg).featureStatus).toBeUndefined();
    // An unknown state is a malformed frame.
    expect(() => decodeFrame(encodeFrame({ ...base, featureStatus: Uint8Array.of(9, 0) }))).toThrow(/feature_status 0: unknown feature state 9/);
  });
});
