/** Tensor element types: manifest names, wire enum values, typed-array constructors and sizes. */
import type { Dtype } from '../../models/index.js';
import { DType } from './fresco-generated.js';

export type NumericArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface DtypeInfo {
  name: Dtype;
  wire: DType;
  /** Bytes per element (0 for strings). */
  size: number;
  /** The typed array holding elements (float16 travels as raw Uint16 bits, bool as Uint8 0/1). */
  array: (new (buffer: ArrayBufferLike, byteOffset?: number, length?: number) => NumericArray) & { new (length: number): NumericArray };
}

const table: [Dtype, DType, number, DtypeInfo['array'] | null][] = [
  ['float32', DType.FLOAT32, 4, Float32Array as never],
  ['float64', DType.FLOAT64, 8, Float64Array as never],
  ['float16', DType.FLOAT16, 2, Uint16Array as never],
  ['int8', DType.INT8, 1, Int8Array as never],
  ['int16', DType.INT16, 2, Int16Array as never],
  ['int32', DType.INT32, 4, Int32Array as never],
  ['int64', DType.INT64, 8, BigInt64Array as never],
  ['uint8', DType.UINT8, 1, Uint8Array as never],
  ['uint16', DType.UINT16, 2, Uint16Array as never],
  ['uint32', DType.UINT32, 4, Uint32Array as never],
  ['uint64', DType.UINT64, 8, BigUint64Array as never],
  ['bool', DType.BOOL, 1, Uint8Array as never],
  ['string', DType.STRING, 0, null],
];

const byName = new Map<string, DtypeInfo>();
const byWire = new Map<number, DtypeInfo>();
for (const [name, wire, size, array] of table) {
  const info = { name, wire, size, array: (array ?? Uint8Array) as DtypeInfo['array'] };
  byName.set(name, info);
  byWire.set(wire, info);
}

export function dtypeInfo(name: string): DtypeInfo | undefined {
  return byName.get(name);
}

export function dtypeFromWire(wire: number): DtypeInfo | undefined {
  return byWire.get(wire);
}

/** The dtype a typed array carries (Uint8Array reads as uint8; pass `bool` explicitly). */
export function dtypeOfArray(data: NumericArray): Dtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigUint64Array) return 'uint64';
  return 'uint8';
}
