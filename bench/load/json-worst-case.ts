/**
 * The longest one KServe JSON request holds the event loop while it is read: the bounds check
 * (json-limits.ts), JSON.parse and the conversion to tensors (kserve.ts parseInfer), for the
 * worst shapes a body may have within the limits (32 levels, 131,072 values, 2 MiB of JSON), and
 * for the bodies the limits refuse (the issue's 14 MB body nested seven million deep among them).
 * The model run and the answer are not included: they do not grow with the body's shape.
 * Reported per shape: best and worst of the rounds, in ms. docs/serving.md, "Limits and fairness".
 * Run: node dist/bench/load/json-worst-case.js [rounds]
 */
import { pathToFileURL } from 'node:url';
import { toFrescoError } from '../../src/errors/index.js';
import { INFER_LIMITS } from '../../src/serving/json-limits.js';
import { parseInfer } from '../../src/serving/kserve.js';
import type { LoadedModel } from '../../src/serving/loaded-model.js';

const MAX_VALUES = INFER_LIMITS.maxValues;
const MAX_BYTES = INFER_LIMITS.maxBytes;
const enc = new TextEncoder();

/** A KServe request whose one input's `data` is `data` (JSON text). */
const request = (data: string, shape = '[1]') => `{"id":"w","inputs":[{"name":"x","shape":${shape},"datatype":"FP32","data":${data}}]}`;

/** Bodies that pass the bounds, each as slow as its kind gets: about MAX_VALUES values or MAX_BYTES bytes. */
function accepted(): [string, string][] {
  const n = MAX_VALUES - 16;
  const longNumber = (i: number) => `0.${String(i).padStart(6, '0')}1234567890123456789012`;
  const perNumber = Math.floor((MAX_BYTES - 200) / n) - 1;
  return [
    ['131k numbers, as long as 2 MiB allows', request(`[${Array.from({ length: n }, (_, i) => longNumber(i).slice(0, perNumber)).join(',')}]`, `[${n}]`)],
    ['131k short numbers, nested 2 deep', request(`[${Array.from({ length: Math.floor(n / 65) }, () => `[${new Array(64).fill('0.5').join(',')}]`).join(',')}]`, `[${Math.floor(n / 65)}, 64]`)],
    ['4k leaves nested 31 deep', request(`[${Array.from({ length: Math.floor(n / 32) }, () => '['.repeat(27) + '1' + ']'.repeat(27)).join(',')}]`)],
    ['43k objects with distinct keys', `{"inputs":[],"pad":[${Array.from({ length: Math.floor(n / 3) }, (_, i) => `{"k${i}":${i}}`).join(',')}]}`],
    ['65k distinct long keys (2 MiB)', `{"inputs":[],"pad":{${Array.from({ length: Math.floor(n / 2) }, (_, i) => `"${String(i).padStart(Math.floor((MAX_BYTES - 200) / (n / 2)) - 6, 'k')}":0`).join(',')}}}`],
    ['131k strings (2 MiB)', request(`[${Array.from({ length: n }, (_, i) => `"${String(i).padStart(Math.floor((MAX_BYTES - 200) / n) - 3, 's')}"`).join(',')}]`)],
    ['one 2 MiB string of escapes', request(`["${'\\u00e9'.repeat(Math.floor((MAX_BYTES - 200) / 6))}"]`)],
  ];
}

/** Bodies the bounds refuse, and how fast. */
function refused(): [string, string][] {
  return [
    ['14 MB nested 7,000,000 deep (the issue\'s body)', request(`${'['.repeat(7_000_000)}${']'.repeat(7_000_000)}`)],
    ['2 MiB nested 1,000,000 deep', request(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`)],
    ['2 MiB of one-digit values (1M values)', request(`[${'0,'.repeat(1_000_000)}0]`)],
  ];
}

export interface ShapeResult {
  shape: string;
  bytes: number;
  outcome: string;
  bestMs: number;
  worstMs: number;
}

/** Times parseInfer on each body, `rounds` times. */
export function measureJsonWorstCase(rounds = 5): { limits: typeof INFER_LIMITS; accepted: ShapeResult[]; refused: ShapeResult[] } {
  // A tensor model: the conversion to a request needs nothing else of it.
  const model = { inputKind: 'tensor' } as LoadedModel;
  const run = (list: [string, string][]) =>
    list.map(([shape, text]) => {
      const bytes = enc.encode(text);
      const times: number[] = [];
      let outcome = 'parsed';
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        try {
          parseInfer(bytes, undefined, 'm', model);
        } catch (error) {
          const e = toFrescoError(error);
          outcome = `${e.code}${e.code === 'FRESCO_ERR_INTERNAL' ? `: ${e.message}` : ''}`;
        }
        times.push(performance.now() - t0);
      }
      return { shape, bytes: bytes.byteLength, outcome, bestMs: round(Math.min(...times)), worstMs: round(Math.max(...times)) };
    });
  return { limits: INFER_LIMITS, accepted: run(accepted()), refused: run(refused()) };
}

const round = (x: number) => Math.round(x * 100) / 100;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = measureJsonWorstCase(Number(process.argv[2] ?? 5));
  console.log(JSON.stringify(result, null, 2));
}
