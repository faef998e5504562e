/**
 * JSON bodies parsed on the event loop, bounded first. `JSON.parse` is one synchronous call:
 * a 13 MB body nested seven million deep held the event loop (and so every other client) for
 * 4 s, and a deep array then overflowed the stack in `Array.prototype.flat` (an HTTP 500). So a
 * body is scanned byte by byte before it is parsed (docs/serving.md, "Limits"): nesting deeper
 * than `maxDepth` or more than `maxValues` values (array elements and object members) is refused
 * with a 400 that says which limit, at which byte. The scan is linear, allocates nothing and
 * stops at the first excess, so a refused body costs at most one pass over its bytes.
 */
import { FrescoError } from '../errors/index.js';

export interface JsonLimits {
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
  /** Most values in the document, counted as array elements and object members. */
  maxValues: number;
  /** Most bytes of JSON text (past it: FRESCO_ERR_PAYLOAD_TOO_LARGE, 413). */
  maxBytes: number;
}

/**
 * The JSON part of a KServe infer request. A tensor's `data` nests once per dimension (the
 * envelope adds three levels); 131,072 values is a batch of 64 rows of 2,048 features. Parse time
 * grows with values and bytes, and within these bounds its worst case (docs/serving.md, measured
 * by bench/load/json-worst-case.ts) stays in tens of milliseconds; larger tensors travel as
 * binary data (the binary tensor extension), which may fill the rest of the body.
 */
export const INFER_LIMITS: JsonLimits = { maxDepth: 32, maxValues: 1 << 17, maxBytes: 2 << 20 };
/** Admin bodies are a few keys. */
export const ADMIN_LIMITS: JsonLimits = { maxDepth: 8, maxValues: 1024, maxBytes: 64 << 10 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

/**
 * Throws FRESCO_ERR_PAYLOAD_TOO_LARGE if `bytes` is longer than `limits.maxBytes`, and
 * FRESCO_ERR_INPUT_INVALID if it (UTF-8 JSON) nests deeper than `limits.maxDepth` or
 * holds more than `limits.maxValues` values. Malformed JSON is left to `JSON.parse`, which says
 * where; the scan only has to be right about depth and counts for well-formed input.
 */
export function checkJsonBounds(bytes: Uint8Array, limits: JsonLimits, what = 'the body'): void {
  const n = bytes.length;
  if (n > limits.maxBytes) throw new FrescoError('FRESCO_ERR_PAYLOAD_TOO_LARGE', `${what} is ${n} bytes of JSON, more than the limit of ${limits.maxBytes}; send tensors as binary data (the binary tensor extension)`);
  let depth = 0;
  // A container's first value has no comma before it: each opener counts one, each comma one.
  let values = 0;
  for (let i = 0; i < n; i++) {
    const c = bytes[i] as number;
    if (c === QUOTE) {
      // Skip the string: a backslash escapes the next byte (UTF-8 continuation bytes are >= 0x80).
      for (i++; i < n; i++) {
        const s = bytes[i] as number;
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limits.maxDepth) throw new FrescoError('FRESCO_ERR_INPUT_INVALID', `${what} nests arrays and objects deeper than ${limits.maxDepth} levels (at byte ${i})`);
      if (++values > limits.maxValues) throw tooMany(what, limits, i);
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    } else if (c === COMMA) {
      if (++values > limits.maxValues) throw tooMany(what, limits, i);
    }
  }
}

function tooMany(what: string, limits: JsonLimits, at: number): FrescoError {
  return new FrescoError('FRESCO_ERR_INPUT_INVALID', `${what} holds more than ${limits.maxValues} JSON values (at byte ${at}); send large tensors with the binary tensor extension`);
}
