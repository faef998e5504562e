// A real ONNX example run through onnxruntime-node against a forward pass computed by hand, and
// the .tgz archive form: round trip, and archives that try to escape the package.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { FrescoError } from '../src/errors/index.js';
import { listArchive, loadPackage, packArchive, unpackArchive } from '../src/models/index.js';
import { dictColumn } from '../src/plan/columns.js';
import { runReference } from '../src/plan/reference.js';

const { onnx } = onnxProto;
const examples = join(import.meta.dirname, '..', 'models');
const work = mkdtempSync(join(tmpdir(), 'fresco-onnx-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The initializers of an ONNX file, as float32 arrays, read back independently of the generator. */
function weights(file: string): Record<string, { dims: number[]; values: Float32Array }> {
  const model = onnx.ModelProto.decode(readFileSync(file));
  const out: Record<string, { dims: number[]; values: Float32Array }> = {};
  for (const t of model.graph!.initializer!) {
    const raw = t.rawData as Uint8Array; // a Buffer view into a pool: copy before reinterpreting
    out[t.name!] = { dims: t.dims!.map(Number), values: new Float32Array(new Uint8Array(raw).buffer) };
  }
  return out;
}

/** Gemm(x, W1, b1) -> Relu -> Gemm(., W2, b2) [-> sigmoid], in f64, for one row. */
function forward(w: ReturnType<typeof weights>, x: ArrayLike<number>, sigmoid: boolean): number {
  const [inputs, hidden] = w.w1!.dims as [number, number];
  let out = w.b2!.values[0]!;
  for (let j = 0; j < hidden; j++) {
    let h = w.b1!.values[j]!;
    for (let i = 0; i < inputs; i++) h += x[i]! * w.w1!.values[i * hidden + j]!;
    out += Math.max(0, h) * w.w2!.values[j]!;
  }
  return sigmoid ? 1 / (1 + Math.exp(-out)) : out;
}

describe('example ONNX models in onnxruntime-node', () => {
  it('mlp-50 predicts what the hand-written forward pass computes', async () => {
    const pkg = await loadPackage(join(examples, 'mlp-50'));
    const file = join(pkg.dir, pkg.manifest.model);
    const w = weights(file);
    const rows = 3;
    const x = Float32Array.from({ length: rows * 50 }, (_, k) => Math.sin(k) * 2);
    const session = await ort.InferenceSession.create(file);
    try {
      const result = await session.run({ x: new ort.Tensor('float32', x, [rows, 50]) });
      const y = result.y!;
      expect(y.dims).toEqual([rows, 1]);
      for (let r = 0; r < rows; r++) expect((y.data as Float32Array)[r]).toBeCloseTo(forward(w, x.subarray(r * 50, (r + 1) * 50), false), 5);
    } finally {
      await session.release();
    }
  });

  it('flights-delay runs its own plan, then its model, and matches by hand', async () => {
    const pkg = await loadPackage(join(examples, 'flights-delay'));
    const plan = pkg.plan!;
    // Two flights: 2001-01-05 17:30 UTC (a Friday evening) ATL -> SFO, 2001-03-11 06:00 UTC LAX -> ORD.
    const dates = Float64Array.from([Date.UTC(2001, 0, 5, 17, 30), Date.UTC(2001, 2, 11, 6)]);
    const columns = [
      { kind: 'f64' as const, values: dates },
      { kind: 'f64' as const, values: Float64Array.from([2139, 1745]) },
      dictColumn(['ATL', 'LAX']),
      dictColumn(['SFO', 'ORD']),
    ];
    const matrix = runReference(plan, columns, 2);
    expect(Array.from(matrix.subarray(0, 4))).toEqual([17, 4, 0, 1]); // hour, Friday=4, not weekend, evening
    const file = join(pkg.dir, pkg.manifest.model);
    const session = await ort.InferenceSession.create(file);
    try {
      const out = (await session.run({ features: new ort.Tensor('float32', matrix, [2, 13]) })).delay_probability!;
      const w = weights(file);
      for (let r = 0; r < 2; r++) {
        const p = (out.data as Float32Array)[r]!;
        expect(p).toBeGreaterThan(0);
        expect(p).toBeLessThan(1);
        expect(p).toBeCloseTo(forward(w, matrix.subarray(r * 13, (r + 1) * 13), true), 5);
      }
    } finally {
      await session.release();
    }
  });
});

/** One ustar entry, written by hand so that tests can build archives tar itself would refuse to write. */
function tarEntry(name: string, type: '0' | '2' | '5', content = '', linkname = ''): Buffer {
  const header = Buffer.alloc(512);
  const data = Buffer.from(content);
  header.write(name, 0, 100);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write(type, 156);
  header.write(linkname, 157, 100);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
const archive = (file: string, entries: Buffer[]) => writeFileSync(file, gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)])));

describe('package archives', () => {
  it('round-trips a package with identical checksums', async () => {
    const pkg = await loadPackage(join(examples, 'flights-delay'));
    const file = join(work, 'flights.tgz');
    await packArchive(pkg, file);
    const dest = join(work, 'unpacked');
    expect((await unpackArchive(file, dest)).sort()).toEqual(pkg.files.map((f) => f.path));
    const back = await loadPackage(dest);
    expect(back.checksum).toBe(pkg.checksum);
    expect(back.files).toEqual(pkg.files);
    // Deterministic bytes: packing again gives the same archive.
    const again = join(work, 'flights-2.tgz');
    await packArchive(back, again);
    expect(readFileSync(again).equals(readFileSync(file))).toBe(true);
  });

  const evil: [string, Buffer[], string, RegExp][] = [
    ['a ".." entry', [tarEntry('fresco.json', '0', '{}'), tarEntry('../escape.txt', '0', 'x')], 'FRESCO_ERR_UNSAFE_PATH', /entry \.\.\/escape\.txt|\.\.\/escape\.txt: path with "\.\." escapes the package/],
    ['an absolute entry', [tarEntry('/tmp/fresco-escape.txt', '0', 'x')], 'FRESCO_ERR_UNSAFE_PATH', /\/tmp\/fresco-escape\.txt: absolute path escapes the package/],
    ['a symlink entry', [tarEntry('model.onnx', '2', '', '/etc/passwd')], 'FRESCO_ERR_UNSAFE_PATH', /entry model\.onnx: is a symlink/],
  ];
  for (const [what, entries, code, message] of evil) {
    it(`refuses ${what}, naming the entry, and extracts nothing`, async () => {
      const file = join(work, `evil-${what.replace(/\W+/g, '-')}.tgz`);
      archive(file, entries);
      const dest = join(work, `dest-${what.replace(/\W+/g, '-')}`);
      const error = await unpackArchive(file, dest).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FrescoError);
      expect((error as FrescoError).code).toBe(code);
      expect((error as FrescoError).message).toMatch(message);
      expect((error as FrescoError).message).toContain(file);
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(join(work, 'escape.txt'))).toBe(false);
    });
  }

  it('refuses a file that is not an archive', async () => {
    const file = join(work, 'not.tgz');
    writeFileSync(file, 'plain text');
    await expect(listArchive(file)).rejects.toMatchObject({ code: 'FRESCO_ERR_PACKAGE_INVALID' });
  });
});
