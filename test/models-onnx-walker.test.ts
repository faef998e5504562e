// The ONNX signature reader walks the protobuf without decoding the weights: it must read what
// onnx-proto (a full protobufjs decode) reads, and keep refusing unsafe external-data paths.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { readOnnxSignature } from '../src/models/index.js';

const { onnx } = onnxProto;
const examples = join(import.meta.dirname, '..', 'models');
const work = mkdtempSync(join(tmpdir(), 'fresco-onnx-walker-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function write(name: string, model: Record<string, unknown>): string {
  const file = join(work, name);
  writeFileSync(file, onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
  return file;
}
const tensorType = (elemType: number, dim: Record<string, unknown>[]) => ({ tensorType: { elemType, shape: { dim } } });

describe('ONNX signature walker', () => {
  it('reads the example models as a full onnx-proto decode does', () => {
    for (const name of ['mlp-50', 'flights-delay']) {
      const file = join(examples, name, 'model.onnx');
      const graph = onnx.ModelProto.decode(readFileSync(file)).graph!;
      const sig = readOnnxSignature(file);
      expect(sig.inputs.map((t) => t.name)).toEqual(graph.input!.map((v) => v.name).filter((n) => !graph.initializer!.some((t) => t.name === n)));
      expect(sig.outputs.map((t) => t.name)).toEqual(graph.output!.map((v) => v.name));
      expect(sig.externalData).toEqual([]);
    }
  });

  it('reads dims (fixed, symbolic, unknown, negative), excludes initializers, lists external data', () => {
    const file = write('dims.onnx', {
      irVersion: 8,
      graph: {
        name: 'g',
        node: [{ opType: 'Relu', input: ['x'], output: ['y'] }],
        initializer: [{ name: 'w', dims: [2], dataType: 1, externalData: [{ key: 'location', value: 'data/w.bin' }, { key: 'offset', value: '0' }], dataLocation: 1 }],
        input: [{ name: 'x', type: tensorType(1, [{ dimParam: 'batch' }, { dimValue: 3 }, {}, { dimValue: -1 }]) }, { name: 'w', type: tensorType(1, [{ dimValue: 2 }]) }],
        output: [{ name: 'y', type: tensorType(7, [{ dimValue: 2 ** 40 }]) }],
      },
    });
    expect(readOnnxSignature(file, 'dims.onnx')).toEqual({
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3, null, -1] }],
      outputs: [{ name: 'y', dtype: 'int64', shape: [2 ** 40] }],
      externalData: ['data/w.bin'],
    });
  });

  it('refuses external data outside the package, naming the model and the tensor', () => {
    const file = write('escape.onnx', {
      graph: { initializer: [{ name: 'w', externalData: [{ key: 'location', value: '../../etc/passwd' }] }], output: [{ name: 'y', type: tensorType(1, []) }] },
    });
    expect(() => readOnnxSignature(file, 'model.onnx')).toThrow(expect.objectContaining({ code: 'FRESCO_ERR_UNSAFE_PATH', message: expect.stringMatching(/^model\.onnx \(external data of "w": \.\.\/\.\.\/etc\/passwd\): path with "\.\." escapes/) }));
  });

  it('refuses a truncated model and one without a graph', () => {
    const whole = readFileSync(join(examples, 'mlp-50', 'model.onnx'));
    const cut = join(work, 'cut.onnx');
    writeFileSync(cut, whole.subarray(0, whole.length - 10));
    expect(() => readOnnxSignature(cut, 'model.onnx')).toThrow(expect.objectContaining({ code: 'FRESCO_ERR_PACKAGE_INVALID', message: expect.stringMatching(/^model\.onnx: not a valid ONNX model: /) }));
    expect(() => readOnnxSignature(write('empty.onnx', { irVersion: 8 }), 'model.onnx')).toThrow(/model\.onnx: ONNX model has no graph/);
  });
});
