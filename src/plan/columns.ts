import { FrescoError } from '../errors/index.js';
import type { Column, PlanInput } from './types.js';

/** Whether row `i` is valid in an Arrow-style bitmap (absent bitmap: every row is). */
export function isValid(validity: Uint8Array | undefined, i: number): boolean {
  return validity === undefined || ((validity[i >> 3] as number) >> (i & 7)) & 1 ? true : false;
}

/** Builds an Arrow-style validity bitmap from per-row flags. */
export function bitmapFrom(valid: ArrayLike<boolean>): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(valid.length / 8));
  for (let i = 0; i < valid.length; i++) if (valid[i]) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  return bitmap;
}

/** A dictionary-encoded string column from plain strings (null stays null). */
export function dictColumn(values: ArrayLike<string | null>): Column {
  const index = new Map<string, number>();
  const dictionary: string[] = [];
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      codes[i] = -1;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      code = dictionary.length;
      index.set(v, code);
      dictionary.push(v);
    }
    codes[i] = code;
  }
  return { kind: 'dict', codes, dictionary };
}

/** An offsets+bytes string column from plain strings (null stays null). */
export function utf8Column(values: ArrayLike<string | null>): Column {
  const encoder = new TextEncoder();
  const parts = Array.from(values, (v) => (v === null ? new Uint8Array(0) : encoder.encode(v)));
  const offsets = new Int32Array(values.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = (offsets[i] as number) + (parts[i] as Uint8Array).length;
  const data = new Uint8Array(offsets[values.length] as number);
  parts.forEach((p, i) => data.set(p, offsets[i] as number));
  const anyNull = Array.prototype.some.call(values, (v) => v === null);
  const column: Column = { kind: 'utf8', offsets, data };
  if (anyNull) column.validity = bitmapFrom(Array.from(values, (v) => v !== null));
  return column;
}

export function columnLength(column: Column): number {
  switch (column.kind) {
    case 'dict':
      return column.codes.length;
    case 'utf8':
      return column.offsets.length - 1;
    default:
      return column.values.length;
  }
}

function inputError(index: number, input: PlanInput | undefined, message: string): FrescoError {
  return new FrescoError('FRESCO_ERR_PLAN_INPUT', `input ${index}${input ? ` ("${input.name}")` : ''}: ${message}`);
}

const STRING_KINDS = new Set(['dict', 'utf8']);
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks columns against a plan's inputs: count, kind, length, bitmap size, codes and offsets.
 * Throws FRESCO_ERR_PLAN_INPUT naming the input.
 */
export function checkColumns(inputs: PlanInput[], columns: Column[], rows: number): void {
  if (!Number.isInteger(rows) || rows < 0) throw new FrescoError('FRESCO_ERR_PLAN_INPUT', `rows must be a non-negative integer, got ${rows}`);
  if (columns.length !== inputs.length) {
    throw new FrescoError('FRESCO_ERR_PLAN_INPUT', `the plan takes ${inputs.length} input column(s), got ${columns.length}`);
  }
  columns.forEach((column, i) => {
    const input = inputs[i] as PlanInput;
    const isString = STRING_KINDS.has(column.kind);
    if (isString !== (input.type === 'str')) {
      throw inputError(i, input, `a ${input.type} input cannot take a ${column.kind} column`);
    }
    const length = columnLength(column);
    if (length !== rows) throw inputError(i, input, `has ${length} rows, expected ${rows}`);
    if ('validity' in column && column.validity !== undefined && column.validity.length < Math.ceil(rows / 8)) {
      throw inputError(i, input, `validity bitmap has ${column.validity.length} bytes, needs ${Math.ceil(rows / 8)}`);
    }
    if (column.kind === 'dict') {
      for (let r = 0; r < rows; r++) {
        if ((column.codes[r] as number) >= column.dictionary.length) {
          throw inputError(i, input, `row ${r}: code ${column.codes[r]} is past the dictionary (${column.dictionary.length} entries)`);
        }
      }
    }
    if (column.kind === 'utf8') {
      const { offsets, data } = column;
      for (let r = 0; r < rows; r++) {
        const start = offsets[r] as number;
        const end = offsets[r + 1] as number;
        if (start < 0 || end < start || end > data.length) {
          throw inputError(i, input, `row ${r}: offsets ${start}..${end} are not within the ${data.length} data bytes`);
        }
        try {
          utf8Decoder.decode(data.subarray(start, end));
        } catch {
          throw inputError(i, input, `row ${r}: bytes are not valid UTF-8`);
        }
      }
    }
  });
}
