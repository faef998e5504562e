/**
 * A strict structural verifier for Fresco frames. The FlatBuffers JavaScript runtime has no
 * verifier: reading a corrupt buffer can return garbage or throw anywhere. Every frame that
 * reaches the server is verified first, as the C++ Verifier would: every offset, vtable, string
 * and vector lies inside the buffer, union tags are known, nesting is bounded, and the number of
 * objects visited is bounded (offsets may alias, so without a budget a small frame could make
 * the walk quadratic).
 */

type Field =
  | { kind: 'scalar'; size: 1 | 2 | 4 | 8 }
  | { kind: 'string' }
  | { kind: 'scalars'; size: 1 | 2 | 4 | 8 }
  | { kind: 'strings' }
  | { kind: 'table'; table: () => TableSpec }
  | { kind: 'tables'; table: () => TableSpec }
  | { kind: 'union'; members: (() => TableSpec)[] };

interface TableSpec {
  name: string;
  fields: Field[];
}

const u8: Field = { kind: 'scalar', size: 1 };
const u16: Field = { kind: 'scalar', size: 2 };
const u32: Field = { kind: 'scalar', size: 4 };
const u64: Field = { kind: 'scalar', size: 8 };
const f64: Field = { kind: 'scalar', size: 8 };
const str: Field = { kind: 'string' };

// Field order is the schema's field order (vtable slot i), schema/fresco.fbs.
const Tensor: TableSpec = { name: 'Tensor', fields: [str, u8, { kind: 'scalars', size: 8 }, { kind: 'scalars', size: 1 }, { kind: 'strings' }] };
const Value: TableSpec = { name: 'Value', fields: [str, u8, f64, str] };
const Row: TableSpec = { name: 'Row', fields: [{ kind: 'tables', table: () => Value }, { kind: 'tables', table: () => Value }] };
const PredictRequest: TableSpec = {
  name: 'PredictRequest',
  fields: [u64, str, { kind: 'tables', table: () => Row }, { kind: 'tables', table: () => Tensor }, u32, { kind: 'strings' }],
};
const RowStatus: TableSpec = { name: 'RowStatus', fields: [u8, str, str] };
const PredictResponse: TableSpec = { name: 'PredictResponse', fields: [u64, str, u32, { kind: 'tables', table: () => Tensor }, { kind: 'tables', table: () => RowStatus }] };
const ErrorBody: TableSpec = { name: 'Error', fields: [u64, u8, str, str] };
// A union takes two vtable slots: the tag (u8) then the offset; the verifier reads both at the union's slot.
const Frame: TableSpec = { name: 'Frame', fields: [u16, u16, { kind: 'union', members: [() => PredictRequest, () => PredictResponse, () => ErrorBody] }] };

export const MAX_DEPTH = 16;

export class FrameVerifyError extends Error {}

class Verifier {
  readonly view: DataView;
  readonly length: number;
  budget: number;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
    // At most one object per 4 bytes of frame, plus slack: linear work in the frame's size.
    this.budget = (this.length >> 2) + 64;
  }

  fail(message: string): never {
    throw new FrameVerifyError(message);
  }

  inBounds(pos: number, size: number, what: string): void {
    if (pos < 0 || size < 0 || pos + size > this.length) this.fail(`${what} at byte ${pos} (${size} bytes) runs past the end of the ${this.length}-byte frame`);
  }

  spend(what: string): void {
    if (--this.budget < 0) this.fail(`too many objects (${what}): the frame refers to the same data over and over`);
  }

  /** Follows the uoffset stored at `pos` and returns the absolute target. */
  deref(pos: number, what: string): number {
    this.inBounds(pos, 4, what);
    const target = pos + this.view.getUint32(pos, true);
    if ((target & 3) !== 0) this.fail(`${what} at byte ${target} is not 4-byte aligned`);
    return target;
  }

  vectorLength(pos: number, elementSize: number, what: string): number {
    this.inBounds(pos, 4, `${what} length`);
    const n = this.view.getUint32(pos, true);
    this.inBounds(pos + 4, n * elementSize, what);
    return n;
  }

  string(pos: number, what: string): void {
    const n = this.vectorLength(pos, 1, what);
    this.inBounds(pos + 4 + n, 1, `${what} terminator`);
    if (this.bytes[pos + 4 + n] !== 0) this.fail(`${what} at byte ${pos} is not zero-terminated`);
  }

  table(pos: number, spec: TableSpec, depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} at ${spec.name}`);
    this.spend(spec.name);
    this.inBounds(pos, 4, `${spec.name} table`);
    const vtable = pos - this.view.getInt32(pos, true);
    if ((vtable & 1) !== 0) this.fail(`${spec.name} vtable at byte ${vtable} is not 2-byte aligned`);
    this.inBounds(vtable, 4, `${spec.name} vtable`);
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || (vtableSize & 1) !== 0) this.fail(`${spec.name} vtable at byte ${vtable} has a bad size ${vtableSize}`);
    this.inBounds(vtable, vtableSize, `${spec.name} vtable`);
    this.inBounds(pos, tableSize, `${spec.name} table`);
    const slots = (vtableSize - 4) >> 1;
    const slot = (i: number) => (i < slots ? this.view.getUint16(vtable + 4 + 2 * i, true) : 0);
    let index = 0;
    for (const field of spec.fields) {
      if (field.kind === 'union') {
        const tagAt = slot(index);
        const valueAt = slot(index + 1);
        index += 2;
        const tag = tagAt ? this.fieldScalar(pos, tagAt, tableSize, 1, spec.name) : 0;
        if (tag === 0) {
          if (valueAt) this.fail(`${spec.name}: a union value without a type`);
          continue;
        }
        const member = field.members[tag - 1];
        if (!member) this.fail(`${spec.name}: unknown union type ${tag}`);
        if (!valueAt) this.fail(`${spec.name}: union type ${tag} without a value`);
        this.fieldInTable(valueAt, 4, tableSize, spec.name);
        this.table(this.deref(pos + valueAt, `${spec.name} union value`), member(), depth + 1);
        continue;
      }
      const at = slot(index++);
      if (!at) continue;
      const what = `${spec.name} field ${index - 1}`;
      switch (field.kind) {
        case 'scalar':
          this.fieldInTable(at, field.size, tableSize, spec.name);
          break;
        case 'string':
          this.fieldInTable(at, 4, tableSize, spec.name);
          this.string(this.deref(pos + at, what), what);
          break;
        case 'scalars': {
          this.fieldInTable(at, 4, tableSize, spec.name);
          // Element alignment is not required: the reader copies elements out through a DataView.
          this.vectorLength(this.deref(pos + at, what), field.size, what);
          break;
        }
        case 'strings': {
          this.fieldInTable(at, 4, tableSize, spec.name);
          const v = this.deref(pos + at, what);
          const n = this.vectorLength(v, 4, what);
          for (let i = 0; i < n; i++) {
            this.spend(what);
            this.string(this.deref(v + 4 + 4 * i, `${what}[${i}]`), `${what}[${i}]`);
          }
          break;
        }
        case 'table':
          this.fieldInTable(at, 4, tableSize, spec.name);
          this.table(this.deref(pos + at, what), field.table(), depth + 1);
          break;
        case 'tables': {
          this.fieldInTable(at, 4, tableSize, spec.name);
          const v = this.deref(pos + at, what);
          const n = this.vectorLength(v, 4, what);
          const element = field.table();
          for (let i = 0; i < n; i++) this.table(this.deref(v + 4 + 4 * i, `${what}[${i}]`), element, depth + 1);
          break;
        }
      }
    }
  }

  fieldInTable(at: number, size: number, tableSize: number, name: string): void {
    if (at < 4 || at + size > tableSize) this.fail(`${name}: a field at offset ${at} (${size} bytes) lies outside its ${tableSize}-byte table`);
  }

  fieldScalar(pos: number, at: number, tableSize: number, size: 1, name: string): number {
    this.fieldInTable(at, size, tableSize, name);
    return this.view.getUint8(pos + at);
  }
}

/** Throws FrameVerifyError unless `bytes` is a structurally sound Fresco frame (identifier "FRSC"). */
export function verifyFrame(bytes: Uint8Array): void {
  const v = new Verifier(bytes);
  if (bytes.byteLength < 8) v.fail(`a frame is at least 8 bytes, got ${bytes.byteLength}`);
  if (bytes[4] !== 0x46 || bytes[5] !== 0x52 || bytes[6] !== 0x53 || bytes[7] !== 0x43) v.fail('not a Fresco frame: the file identifier is not "FRSC"');
  v.table(v.deref(0, 'root'), Frame, 0);
}
