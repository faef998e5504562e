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
const FeatureDetail: TableSpec = { name: 'FeatureDetail', fields: [u32, str, u8] };
const PredictResponse: TableSpec = {
  name: 'PredictResponse',
  fields: [u64, str, u32, { kind: 'tables', table: () => Tensor }, { kind: 'tables', table: () => RowStatus }, { kind: 'scalars', size: 1 }, { kind: 'tables', table: () => FeatureDetail }],
};
const ErrorBody: TableSpec = { name: 'Error', fields: [u64, u8, str, str] };
// A union takes two vtable slots: the tag (u8) then the offset; the verifier reads both at the union's slot.
const Frame: TableSpec = { name: 'Frame', fields: [u16, u16, { kind: 'union', members: [() => PredictRequest, () => PredictResponse, () => ErrorBody] }] };

export const MAX_DEPTH = 16;

export class FrameVerifyError extends Error {}

/**
 * What a check is about, built only when it fails (a frame that passes builds no strings):
 * `name` alone, or `name field F`, `name field F[E]`, plus a suffix (" length", " terminator").
 */
function describe(name: string, field: number, element: number, suffix: string): string {
  return `${name}${field >= 0 ? ` field ${field}` : ''}${element >= 0 ? `[${element}]` : ''}${suffix}`;
}

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

  inBounds(pos: number, size: number, name: string, field = -1, element = -1, suffix = ''): void {
    if (pos < 0 || size < 0 || pos + size > this.length) this.fail(`${describe(name, field, element, suffix)} at byte ${pos} (${size} bytes) runs past the end of the ${this.length}-byte frame`);
  }

  spend(name: string, field = -1): void {
    if (--this.budget < 0) this.fail(`too many objects (${describe(name, field, -1, '')}): the frame refers to the same data over and over`);
  }

  /** Follows the uoffset stored at `pos` and returns the absolute target. */
  deref(pos: number, name: string, field = -1, element = -1, suffix = ''): number {
    this.inBounds(pos, 4, name, field, element, suffix);
    const target = pos + this.view.getUint32(pos, true);
    if ((target & 3) !== 0) this.fail(`${describe(name, field, element, suffix)} at byte ${target} is not 4-byte aligned`);
    return target;
  }

  vectorLength(pos: number, elementSize: number, name: string, field: number, element = -1): number {
    this.inBounds(pos, 4, name, field, element, ' length');
    const n = this.view.getUint32(pos, true);
    this.inBounds(pos + 4, n * elementSize, name, field, element);
    return n;
  }

  string(pos: number, name: string, field: number, element = -1): void {
    const n = this.vectorLength(pos, 1, name, field, element);
    this.inBounds(pos + 4 + n, 1, name, field, element, ' terminator');
    if (this.bytes[pos + 4 + n] !== 0) this.fail(`${describe(name, field, element, '')} at byte ${pos} is not zero-terminated`);
  }

  table(pos: number, spec: TableSpec, depth: number): void {
    const name = spec.name;
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} at ${name}`);
    this.spend(name);
    this.inBounds(pos, 4, name, -1, -1, ' table');
    const view = this.view;
    const vtable = pos - view.getInt32(pos, true);
    if ((vtable & 1) !== 0) this.fail(`${name} vtable at byte ${vtable} is not 2-byte aligned`);
    this.inBounds(vtable, 4, name, -1, -1, ' vtable');
    const vtableSize = view.getUint16(vtable, true);
    const tableSize = view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || (vtableSize & 1) !== 0) this.fail(`${name} vtable at byte ${vtable} has a bad size ${vtableSize}`);
    this.inBounds(vtable, vtableSize, name, -1, -1, ' vtable');
    this.inBounds(pos, tableSize, name, -1, -1, ' table');
    const slots = (vtableSize - 4) >> 1;
    let index = 0;
    for (const field of spec.fields) {
      if (field.kind === 'union') {
        const tagAt = index < slots ? view.getUint16(vtable + 4 + 2 * index, true) : 0;
        const valueAt = index + 1 < slots ? view.getUint16(vtable + 6 + 2 * index, true) : 0;
        index += 2;
        const tag = tagAt ? this.fieldScalar(pos, tagAt, tableSize, 1, name) : 0;
        if (tag === 0) {
          if (valueAt) this.fail(`${name}: a union value without a type`);
          continue;
        }
        const member = field.members[tag - 1];
        if (!member) this.fail(`${name}: unknown union type ${tag}`);
        if (!valueAt) this.fail(`${name}: union type ${tag} without a value`);
        this.fieldInTable(valueAt, 4, tableSize, name);
        this.table(this.deref(pos + valueAt, name, -1, -1, ' union value'), member(), depth + 1);
        continue;
      }
      const f = index++;
      const at = f < slots ? view.getUint16(vtable + 4 + 2 * f, true) : 0;
      if (!at) continue;
      switch (field.kind) {
        case 'scalar':
          this.fieldInTable(at, field.size, tableSize, name);
          break;
        case 'string':
          this.fieldInTable(at, 4, tableSize, name);
          this.string(this.deref(pos + at, name, f), name, f);
          break;
        case 'scalars': {
          this.fieldInTable(at, 4, tableSize, name);
          // Element alignment is not required: the reader copies elements out through a DataView.
          this.vectorLength(this.deref(pos + at, name, f), field.size, name, f);
          break;
        }
        case 'strings': {
          this.fieldInTable(at, 4, tableSize, name);
          const v = this.deref(pos + at, name, f);
          const n = this.vectorLength(v, 4, name, f);
          for (let i = 0; i < n; i++) {
            this.spend(name, f);
            this.string(this.deref(v + 4 + 4 * i, name, f, i), name, f, i);
          }
          break;
        }
        case 'table':
          this.fieldInTable(at, 4, tableSize, name);
          this.table(this.deref(pos + at, name, f), field.table(), depth + 1);
          break;
        case 'tables': {
          this.fieldInTable(at, 4, tableSize, name);
          const v = this.deref(pos + at, name, f);
          const n = this.vectorLength(v, 4, name, f);
          const element = field.table();
          for (let i = 0; i < n; i++) this.table(this.deref(v + 4 + 4 * i, name, f, i), element, depth + 1);
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
