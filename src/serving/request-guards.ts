/**
 * Small guards between what a client sends and the serving code: a path segment that is not
 * valid percent-encoding, an error that should carry the request's id, and the id of a frame
 * too large to decode. Each turns a client's mistake into a 4xx that says what was wrong,
 * instead of a 500 (`decodeURIComponent` throws a URIError, which became FRESCO_ERR_INTERNAL).
 */
import * as flatbuffers from 'flatbuffers';
import { FrescoError, toFrescoError } from '../errors/index.js';
import { checkJsonBounds, INFER_LIMITS } from './json-limits.js';
import { Body, Frame, PredictRequest } from './protocol/fresco-generated.js';

/** `decodeURIComponent`, refusing malformed percent-encoding with FRESCO_ERR_INVALID_ARGUMENT (400). */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `the path segment "${segment.slice(0, 200)}" is not valid percent-encoding (each % must start a %XX escape of UTF-8 bytes)`, { location: { key: 'path' } });
  }
}

/** The error, as a FrescoError carrying `requestId` (kept as it is when there is no id). */
export function withRequestId(error: unknown, requestId: string | undefined): FrescoError {
  const e = toFrescoError(error);
  if (requestId === undefined || e.location?.requestId !== undefined) return e;
  return new FrescoError(e.code, e.message, { location: { ...e.location, requestId }, cause: e });
}

/**
 * The `id` of a KServe JSON request that is not parsed otherwise (its model could not be routed):
 * undefined when the body has none or is not JSON within the limits. Runs on an error path only.
 */
export function kserveIdOf(body: Uint8Array, headerLength: string | undefined): string | undefined {
  try {
    const n = headerLength === undefined ? body.byteLength : Number(headerLength);
    const json = body.subarray(0, Number.isInteger(n) && n >= 0 ? n : body.byteLength);
    checkJsonBounds(json, INFER_LIMITS);
    const k = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json)) as { id?: unknown } | null;
    return typeof k?.id === 'string' ? k.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The request id of a frame that is not decoded (one too large to): read from its header
 * without verifying the rest; 0 when it cannot be read. Used only to address an error frame.
 */
export function peekRequestId(message: ArrayBuffer): number {
  try {
    const frame = Frame.getRootAsFrame(new flatbuffers.ByteBuffer(new Uint8Array(message)));
    if (frame.bodyType() !== Body.PredictRequest) return 0;
    const id = (frame.body(new PredictRequest()) as PredictRequest).id();
    return id >= 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : 0;
  } catch {
    return 0;
  }
}

/**
 * The largest WebSocket message uWS reads (its `maxPayloadLength`), above the frame limit: a
 * message up to twice the limit is read and answered with an error frame before the close; a
 * larger one is cut off by uWS without reading it (a close with no frame: bounded memory).
 */
export function wsHardCap(maxFrameBytes: number): number {
  return Math.min(2 * maxFrameBytes, 0x7fff_ffff);
}
