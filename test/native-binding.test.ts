// The boundary between TypeScript and the Rust addon (src/native.ts <-> native/binding): plans
// compile and run, runRow agrees with run, and every malformed plan or input comes back as a
// FrescoError with the right code (never a crash). Needs native/fresco.node (npm run build:native).
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FrescoError, type ErrorCode } from '../src/errors/index.js';
import {
  assembleColumns,
  compileNativePlan,
  compileNativePlanAsync,
  nativeAddonPath,
  nativeInfo,
  nativeSignals,
  setNativeAddonPathForTests,
  type NativeColumn,
} from '../src/native.js';

const plan = (inputs: unknown[], ops: unknown[], outputs: unknown[]) => ({ format: 'fresco.plan', version: 1, inputs, ops, outputs });

function codeOf(f: () => unknown): { code: ErrorCode; message: string } {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(FrescoError);
    const e = error as FrescoError;
    return { code: e.code, message: e.message };
  }
  throw new Error('expected a FrescoError, nothing was thrown');
}

function expectError(f: () => unknown, code: ErrorCode, message?: string | RegExp): void {
  const e = codeOf(f);
  expect(e.code, e.message).toBe(code);
  if (message !== undefined) expect(e.message).toMatch(message);
}

const utf8 = (strings: (string | null)[]): NativeColumn => {
  const enc = new TextEncoder();
  const parts = strings.map((s) => enc.encode(s ?? ''));
  const offsets = new Int32Array(strings.length + 1);
  const validity = new Uint8Array(Math.ceil(strings.length / 8));
  parts.forEach((p, i) => {
    offsets[i + 1] = (offsets[i] as number) + p.length;
    if (strings[i] !== null) validity[i >> 3] = (validity[i >> 3] as number) | (1 << (i & 7));
  });
  const data = new Uint8Array(offsets[strings.length] as number);
  parts.forEach((p, i) => data.set(p, offsets[i] as number));
  return { kind: 'utf8', offsets, data, validity };
};

const fnv1a32 = (s: string): number => {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
};

const SMALL = plan(
  [
    { name: 'delay', type: 'num' },
    { name: 'origin', type: 'str' },
    { name: 'ts', type: 'num' },
  ],
  [
    { op: 'fill_null', args: [0], value: 0 }, // 3
    { op: 'log1p', args: [3] }, // 4
    { op: 'one_hot', args: [1], categories: ['SFO', 'LAX'] }, // 5, 6, 7
    { op: 'lower', args: [1] }, // 8
    { op: 'hash_bucket', args: [8], n: 100 }, // 9
    { op: 'hour', args: [2] }, // 10
    { op: 'div', args: [0, 3] }, // 11
  ],
  [3, 4, 5, 6, 7, 9, 10, 11, 0],
);

describe('native plans across the boundary', () => {
  afterEach(() => setNativeAddonPathForTests(undefined));

  it('loads the addon with the expected ABI', () => {
    const info = nativeInfo();
    expect(info.abi).toBe(2);
    expect(info.path).toBe(nativeAddonPath());
  });

  it('compiles and runs a small plan over every column kind', () => {
    const p = compileNativePlan(SMALL);
    expect(p.inputCount).toBe(3);
    expect(p.outputCount).toBe(9);
    const delay = new Float64Array([1, NaN, 3, 0]);
    const ts = new Float64Array([0, 3_600_000 * 5 + 1, -1, NaN]);
    const dict: NativeColumn = { kind: 'dict', codes: new Int32Array([0, 1, -1, 2]), dictionary: ['SFO', 'LAX', 'Jfk'] };
    const out = p.run([{ kind: 'f64', values: delay }, dict, { kind: 'f64', values: ts }], 4);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(36);
    const row = (r: number) => Array.from(out.subarray(r * 9, r * 9 + 9));
    expect(row(0)).toEqual([1, Math.fround(Math.log1p(1)), 1, 0, 0, fnv1a32('sfo') % 100, 0, 1, 1]);
    expect(row(1)).toEqual([0, 0, 0, 1, 0, fnv1a32('lax') % 100, 5, NaN, NaN]);
    expect(row(2)).toEqual([3, Math.fround(Math.log1p(3)), 0, 0, 0, NaN, 23, 1, 3]);
    expect(row(3)).toEqual([0, 0, 0, 0, 1, fnv1a32('jfk') % 100, NaN, NaN, 0]);

    // The same strings as a utf8 column, and other numeric kinds, give the same matrix.
    const again = p.run([{ kind: 'f32', values: new Float32Array(delay) }, utf8(['SFO', 'LAX', null, 'Jfk']), { kind: 'f64', values: ts }], 4);
    expect(Array.from(again)).toEqual(Array.from(out));
    const ints = compileNativePlan(plan([{ name: 'a', type: 'num' }], [], [0]));
    expect(Array.from(ints.run([{ kind: 'i32', values: new Int32Array([1, -2, 3]), validity: new Uint8Array([0b101]) }], 3))).toEqual([1, NaN, 3]);
    expect(Array.from(ints.run([{ kind: 'i64', values: new BigInt64Array([5n, -(2n ** 40n)]) }], 2))).toEqual([5, -(2 ** 40)]);
    expect(Array.from(ints.run([{ kind: 'bool', values: new Uint8Array([0, 1, 9]) }], 3))).toEqual([0, 1, 1]);
    expect(ints.run([{ kind: 'f64', values: new Float64Array(0) }], 0).length).toBe(0);
  });

  it('runRow equals run, row by row, across chunk boundaries', () => {
    const p = compileNativePlan(SMALL);
    const rows = 2500;
    const words = ['SFO', 'lax', 'LAX', 'ord', null];
    const delay = Float64Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? NaN : i * 0.37 - 100));
    const ts = Float64Array.from({ length: rows }, (_, i) => 1.7e12 + i * 1_234_567);
    const strs = Array.from({ length: rows }, (_, i) => words[i % words.length] as string | null);
    const out = p.run([{ kind: 'f64', values: delay }, utf8(strs), { kind: 'f64', values: ts }], rows);
    const row = new Float32Array(9);
    const numeric = new Float64Array(3);
    for (let r = 0; r < rows; r++) {
      numeric[0] = delay[r] as number;
      numeric[1] = NaN;
      numeric[2] = ts[r] as number;
      p.runRow(numeric, [strs[r] as string | null], row);
      expect(Array.from(row), `row ${r}`).toEqual(Array.from(out.subarray(r * 9, r * 9 + 9)));
    }
  });

  it('rejects every class of malformed plan with FRESCO_ERR_PLAN_INVALID', () => {
    const num = { name: 'x', type: 'num' };
    const str = { name: 's', type: 'str' };
    const cases: [unknown, RegExp][] = [
      ['{not json', /not valid JSON/],
      [undefined, /must be a JSON object/],
      [[], /must be a JSON object/],
      [{ ...plan([], [], []), format: 'other' }, /plan\.format must be "fresco\.plan"/],
      [{ ...plan([], [], []), version: 2 }, /plan\.version must be 1/],
      [plan([num], [{ op: 'frobnicate', args: [0] }], []), /^op 0 \(frobnicate\): unknown op/],
      [plan([num], [{ op: 'add', args: [0] }], []), /^op 0 \(add\): expects 2 args, got 1/],
      [plan([num], [{ op: 'neg', args: [0] }, { op: 'add', args: [0, 9] }], []), /^op 1 \(add\): arg 1 refers to slot 9, but only slots 0\.\.1 are defined/],
      [plan([num, str], [{ op: 'add', args: [0, 1] }], []), /^op 0 \(add\): arg 1 refers to slot 1, a str slot/],
      [plan([num], [{ op: 'lower', args: [0] }], []), /^op 0 \(lower\): arg 0 refers to slot 0, a num slot/],
      [plan([num], [{ op: 'bucketize', args: [0], boundaries: [2, 1] }], []), /^op 0 \(bucketize\): boundaries must be strictly ascending/],
      [plan([str], [{ op: 'one_hot', args: [0], categories: ['a', 'a'] }], []), /^op 0 \(one_hot\): categories must be distinct/],
      [plan([str], [{ op: 'hash_bucket', args: [0], n: 0 }], []), /^op 0 \(hash_bucket\): parameter "n" must be an integer from 1 to 2\^32-1/],
      [plan([num], [{ op: 'const', value: 1 }], []), /^op 0 \(const\): args is missing/],
      [{ ...plan([num], [], [0, 0]), output_names: ['a', 'a'] }, /plan\.output_names must be 2 distinct strings/],
      [plan([num], [{ op: 'fill_null', args: [0] }], []), /^op 0 \(fill_null\): missing parameter "value"/],
      [plan([num], [{ op: 'clip', args: [0], lo: 'a', hi: 1 }], []), /^op 0 \(clip\): parameter "lo" must be a number or null/],
      [plan([num], [], [3]), /^output 0 refers to slot 3, but only slots 0\.\.0 are defined/],
      [plan([str], [], [0]), /^output 0 refers to slot 0, a str slot/],
      [plan([num], [{ op: 'const', value: Infinity }], [1]), /^op 0: ops\[0\]\.value is not a finite number/],
      [plan([num], [{ op: 'const', value: 1n }], [1]), /cannot be serialized to JSON/],
    ];
    for (const [p, message] of cases) expectError(() => compileNativePlan(p), 'FRESCO_ERR_PLAN_INVALID', message);
  });

  it('delivers completion signals to the event loop, and drops sends to a closed one', async () => {
    const signals = nativeSignals()!;
    const got: number[] = [];
    let done: () => void = () => {};
    const arrived = new Promise<void>((r) => (done = r));
    const id = signals.signalOpen((v) => {
      got.push(v);
      if (got.length === 3) done();
    });
    expect([signals.signalSend(id, 7), signals.signalSend(id, 8), signals.signalSend(id, 9)]).toEqual([true, true, true]);
    await arrived;
    expect(got).toEqual([7, 8, 9]);
    signals.signalClose(id);
    expect(signals.signalSend(id, 10)).toBe(false);
  });

  it('compiles off the event loop to the same plan, and rejects a malformed one with the same error', async () => {
    const columns: NativeColumn[] = [{ kind: 'f64', values: new Float64Array([1, NaN, 3]) }, utf8(['SFO', null, 'Jfk']), { kind: 'f64', values: new Float64Array([0, 7_200_000, NaN]) }];
    const compiled = await compileNativePlanAsync(SMALL);
    expect(compiled.outputCount).toBe(9);
    expect(Array.from(compiled.run(columns, 3))).toEqual(Array.from(compileNativePlan(SMALL).run(columns, 3)));
    const bad = plan([{ name: 'x', type: 'num' }], [{ op: 'add', args: [0] }], []);
    await expect(compileNativePlanAsync(bad)).rejects.toMatchObject({ code: 'FRESCO_ERR_PLAN_INVALID', message: expect.stringMatching(/^op 0 \(add\): expects 2 args, got 1/) });
    await expect(compileNativePlanAsync('{not json')).rejects.toMatchObject({ code: 'FRESCO_ERR_PLAN_INVALID' });
  });

  it('rejects every class of malformed input with FRESCO_ERR_PLAN_INPUT, naming the input', () => {
    const p = compileNativePlan(plan([{ name: 'x', type: 'num' }, { name: 'origin', type: 'str' }], [], [0]));
    const x: NativeColumn = { kind: 'f64', values: new Float64Array([1, 2, 3]) };
    const s: NativeColumn = { kind: 'dict', codes: new Int32Array([0, 1, -1]), dictionary: ['a', 'b'] };
    expect(Array.from(p.run([x, s], 3))).toEqual([1, 2, 3]);
    const bad = (columns: unknown, rows: unknown, message: RegExp) =>
      expectError(() => p.run(columns as NativeColumn[], rows as number), 'FRESCO_ERR_PLAN_INPUT', message);
    bad([x], 3, /expected 2 columns .* input 1 \("origin"\) has no column/);
    bad([x, s, x], 3, /expected 2 columns/);
    bad('x', 3, /columns must be an array/);
    bad([x, s], -1, /rows must be an integer/);
    bad([x, s], 1.5, /rows must be an integer/);
    bad([s, s], 3, /input 0 \("x"\): a num input takes an f64, f32, i32, i64 or bool column, got dict/);
    bad([x, x], 3, /input 1 \("origin"\): a str input takes a dict or utf8 column, got f64/);
    bad([{ kind: 'f16', values: new Float64Array(3) }, s], 3, /input 0 \("x"\): unknown column kind "f16"/);
    bad([{ kind: 'f64', values: new Float32Array(3) }, s], 3, /input 0 \("x"\): .*values as a Float64Array, got a Float32Array/);
    bad([{ kind: 'f64', values: [1, 2, 3] }, s], 3, /input 0 \("x"\): .*values as a Float64Array, got an array/);
    bad([null, s], 3, /input 0 \("x"\): column must be an object/);
    bad([x, s], 4, /input 0 \("x"\): f64 values has 3 entries, but rows is 4/);
    bad([{ kind: 'f64', values: new Float64Array(9), validity: new Uint8Array(1) }, { ...s, codes: new Int32Array(9) }], 9, /input 0 \("x"\): validity bitmap has 1 bytes, but 9 rows need 2/);
    bad([x, { ...s, codes: new Int32Array([0, 2, 1]) }], 3, /input 1 \("origin"\): dict code 2 at row 1 is past the dictionary \(2 entries\)/);
    bad([x, { ...s, dictionary: ['a', 3] }], 3, /input 1 \("origin"\): dictionary\[1\] must be a string/);
    const u = (offsets: number[], data: number[]): NativeColumn => ({ kind: 'utf8', offsets: new Int32Array(offsets), data: new Uint8Array(data) });
    bad([x, u([0, 1, 2], [97, 98])], 3, /input 1 \("origin"\): utf8 offsets has 3 entries, expected rows \+ 1 = 4/);
    bad([x, u([0, 2, 1, 2], [97, 98])], 3, /input 1 \("origin"\): utf8 offsets are not monotonic/);
    bad([x, u([0, 1, 2, 9], [97, 98, 99])], 3, /input 1 \("origin"\): utf8 offsets\[3\] = 9 is past the end of data/);
    bad([x, u([0, 1, 3, 3], [97, 0xc3, 0x28])], 3, /input 1 \("origin"\): row 1 is not valid UTF-8/);

    // runRow's arguments.
    const out = new Float32Array(1);
    expectError(() => p.runRow(new Float64Array(1), ['a'], out), 'FRESCO_ERR_PLAN_INPUT', /expected 2 numeric values/);
    expectError(() => p.runRow(new Float64Array(2), [], out), 'FRESCO_ERR_PLAN_INPUT', /expected 1 string value/);
    expectError(() => p.runRow(new Float64Array(2), [5 as never], out), 'FRESCO_ERR_PLAN_INPUT', /input 1 \("origin"\): strings\[0\] must be a string or null/);
    expectError(() => p.runRow([1, 2] as never, ['a'], out), 'FRESCO_ERR_PLAN_INPUT', /numeric must be a Float64Array/);
    expectError(() => p.runRow(new Float64Array(2), ['a'], new Float32Array(2)), 'FRESCO_ERR_PLAN_INPUT', /output buffer has 2 floats, expected 1/);
    const shared = new ArrayBuffer(64);
    expectError(() => p.runRow(new Float64Array(shared, 0, 2), ['a'], new Float32Array(shared, 8, 1)), 'FRESCO_ERR_PLAN_INPUT', /overlaps/);
    // And the plan still works after all that.
    p.runRow(new Float64Array([7, NaN]), [null], out);
    expect(out[0]).toBe(7);
  });

  it('assembles f32 columns row-major', () => {
    const a = new Float32Array([1, 2, 3]);
    const b = new Float32Array([NaN, -0, 6]);
    expect(Array.from(assembleColumns([a, b], 3))).toEqual([1, NaN, 2, -0, 3, 6]);
    expect(assembleColumns([], 5).length).toBe(0);
    expectError(() => assembleColumns([a, new Float32Array(2)], 3), 'FRESCO_ERR_PLAN_INPUT', /column 1 has 2 values, but rows is 3/);
    expectError(() => assembleColumns([a, new Float64Array(3) as never], 3), 'FRESCO_ERR_PLAN_INPUT', /column 1 must be a Float32Array/);
  });

  it('keeps runRow cheap (50 features)', () => {
    const inputs = Array.from({ length: 50 }, (_, i) => ({ name: `x${i}`, type: 'num' }));
    const ops = inputs.map((_, i) => (i % 2 ? { op: 'standardize', args: [i], mean: 1, std: 2 } : { op: 'fill_null', args: [i], value: 0 }));
    const p = compileNativePlan(plan(inputs, ops, ops.map((_, i) => 50 + i)));
    const numeric = Float64Array.from({ length: 50 }, (_, i) => i);
    const out = new Float32Array(50);
    const strings: string[] = [];
    for (let i = 0; i < 20_000; i++) p.runRow(numeric, strings, out);
    const n = 100_000;
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) p.runRow(numeric, strings, out);
    const ns = Number(process.hrtime.bigint() - t) / n;
    console.log(`runRow, 50 features: ${ns.toFixed(0)} ns/row`);
    expect(out[1]).toBe(0);
    // The budget is 2 µs; the bound here is loose so a loaded CI machine does not flake.
    expect(ns).toBeLessThan(20_000);
  });

  it('reports a missing or unloadable addon', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fresco-native-'));
    try {
      const missing = join(dir, 'fresco.node');
      setNativeAddonPathForTests(missing);
      const e = codeOf(() => compileNativePlan(SMALL));
      expect(e.code).toBe('FRESCO_ERR_NATIVE_MISSING');
      expect(e.message).toContain(missing);
      expect(e.message).toContain('npm run build:native');
      expectError(() => nativeInfo(), 'FRESCO_ERR_NATIVE_MISSING');

      writeFileSync(missing, 'not a shared library');
      expectError(() => compileNativePlan(SMALL), 'FRESCO_ERR_NATIVE_STALE', /could not be loaded.*npm run build:native/s);
    } finally {
      setNativeAddonPathForTests(undefined);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(nativeInfo().abi).toBe(2);
  });
});
