/**
 * A protobuf wire-format walker over a file, for reading a few small fields out of a large
 * message without loading it. Fields are visited in file order; a length-delimited field the
 * caller does not open is skipped by its length, so its payload (an ONNX model's weights: nearly
 * all of the file) is never read. Reads go through a 64 KiB window at explicit offsets.
 *
 * Only the wire structure of the messages actually walked is checked; a skipped payload is
 * checked only to fit inside its parent.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The wire format is broken (truncated, an impossible wire type...). The message says where. */
export class WireError extends Error {}

/** One field: its number, wire type and payload range [start, end) in the file. */
export interface WireField {
  no: number;
  wire: number;
  start: number;
  end: number;
}

const WINDOW = 1 << 16;

export class ProtobufFile {
  private readonly window = Buffer.allocUnsafe(WINDOW);
  private windowStart = 0;
  private windowLength = 0;

  private constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** Opens `file`, runs `body` on it, closes it. */
  static use<T>(file: string, body: (pb: ProtobufFile) => T): T {
    const fd = openSync(file, 'r');
    try {
      return body(new ProtobufFile(fd, fstatSync(fd).size));
    } finally {
      closeSync(fd);
    }
  }

  private fill(pos: number): void {
    this.windowStart = pos;
    this.windowLength = readSync(this.fd, this.window, 0, WINDOW, pos);
  }

  private byte(pos: number): number {
    if (pos < this.windowStart || pos >= this.windowStart + this.windowLength) {
      this.fill(pos);
      if (this.windowLength === 0) throw new WireError(`truncated at byte ${pos}`);
    }
    return this.window[pos - this.windowStart] as number;
  }

  /** A varint as a number (exact below 2^53: enough for tags, lengths and enums). */
  private varint(pos: number, end: number): { value: number; next: number } {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new WireError(`truncated varint at byte ${pos}`);
      const b = this.byte(pos++);
      value += (b & 0x7f) * scale;
      if (b < 0x80) return { value, next: pos };
      scale *= 128;
    }
    throw new WireError(`varint longer than 10 bytes before byte ${pos}`);
  }

  /** A varint field's value as a number, for enums and int32 (protobuf's int32: the low 32 bits, signed). */
  int32(field: WireField): number {
    return Number(BigInt.asIntN(32, this.uint64(field)));
  }

  /** A varint field's value as a signed 64-bit integer, converted like protobufjs's Long -> Number. */
  int64(field: WireField): number {
    return Number(BigInt.asIntN(64, this.uint64(field)));
  }

  private uint64(field: WireField): bigint {
    if (field.wire !== 0) throw new WireError(`field ${field.no} at byte ${field.start}: wire type ${field.wire}, expected a varint`);
    let value = 0n;
    for (let pos = field.start, shift = 0n; pos < field.end; pos++, shift += 7n) value |= BigInt(this.byte(pos) & 0x7f) << shift;
    return BigInt.asUintN(64, value);
  }

  /** A length-delimited field's payload as UTF-8 text. */
  string(field: WireField): string {
    return this.bytes(field).toString('utf8');
  }

  /** A length-delimited field's payload (read only when asked for: use on small fields). */
  bytes(field: WireField): Buffer {
    this.expectLength(field);
    const length = field.end - field.start;
    if (field.start >= this.windowStart && field.end <= this.windowStart + this.windowLength) {
      return Buffer.from(this.window.subarray(field.start - this.windowStart, field.end - this.windowStart));
    }
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, field.start + done);
      if (n === 0) throw new WireError(`truncated field ${field.no} at byte ${field.start}`);
      done += n;
    }
    return out;
  }

  /** Throws unless `field` is length-delimited (a string, bytes or an embedded message). */
  expectLength(field: WireField): void {
    if (field.wire !== 2) throw new WireError(`field ${field.no} at byte ${field.start}: wire type ${field.wire}, expected length-delimited`);
  }

  /**
   * Calls `visit` for every field of the message occupying [start, end) (the whole file when
   * omitted), in order. Payloads are skipped unless `visit` reads them.
   */
  fields(visit: (field: WireField) => void, start = 0, end = this.size): void {
    let pos = start;
    while (pos < end) {
      const tagAt = pos;
      const tag = this.varint(pos, end);
      pos = tag.next;
      const no = Math.floor(tag.value / 8);
      const wire = tag.value % 8;
      if (no === 0) throw new WireError(`field number 0 at byte ${tagAt}`);
      let field: WireField;
      if (wire === 0) {
        field = { no, wire, start: pos, end: this.varint(pos, end).next };
      } else if (wire === 1 || wire === 5) {
        field = { no, wire, start: pos, end: pos + (wire === 1 ? 8 : 4) };
      } else if (wire === 2) {
        const length = this.varint(pos, end);
        field = { no, wire, start: length.next, end: length.next + length.value };
      } else if (wire === 3) {
        field = { no, wire, start: pos, end: this.groupEnd(no, pos, end) };
      } else {
        throw new WireError(`${wire === 4 ? 'unmatched end-group' : `invalid wire type ${wire}`} at byte ${tagAt}`);
      }
      if (field.end > end) throw new WireError(`field ${no} at byte ${tagAt} runs past the end of its message (byte ${end})`);
      visit(field);
      // An end-group tag follows a group's payload.
      pos = wire === 3 ? this.varint(field.end, end).next : field.end;
    }
  }

  /** Where the group `no` starting at `pos` ends (the position of its end-group tag). */
  private groupEnd(no: number, pos: number, end: number): number {
    for (;;) {
      const tagAt = pos;
      const tag = this.varint(pos, end);
      const wire = tag.value % 8;
      if (wire === 4) {
        if (Math.floor(tag.value / 8) !== no) throw new WireError(`mismatched end-group at byte ${tagAt}`);
        return tagAt;
      }
      // Skip one field of the group (nested groups included) by walking it as a message of one field.
      let after = tag.next;
      if (wire === 0) after = this.varint(after, end).next;
      else if (wire === 1) after += 8;
      else if (wire === 5) after += 4;
      else if (wire === 2) {
        const length = this.varint(after, end);
        after = length.next + length.value;
      } else if (wire === 3) after = this.varint(this.groupEnd(Math.floor(tag.value / 8), after, end), end).next;
      else throw new WireError(`invalid wire type ${wire} at byte ${tagAt}`);
      if (after > end) throw new WireError(`field at byte ${tagAt} runs past the end of its message (byte ${end})`);
      pos = after;
    }
  }
}
