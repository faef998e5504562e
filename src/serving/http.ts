/** Small helpers over uWebSockets.js HTTP responses: bodies with a size limit, abort safety, replies. */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { FrescoError } from '../errors/index.js';
import { httpStatusLine } from './status.js';

export interface Req {
  method: string;
  url: string;
  query: string;
  headers: Record<string, string>;
}

/** Copies what a handler needs out of the request (uWS requests die when the handler returns). */
export function readReq(req: HttpRequest): Req {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => {
    headers[k] = v;
  });
  return { method: req.getMethod().toUpperCase(), url: req.getUrl(), query: req.getQuery() ?? '', headers };
}

export class Reply {
  aborted = false;
  done = false;
  /** Close the connection once the answer is written (a body refused before its end is not read on). */
  closeConnection = false;
  /** `onAbort`: called if the client goes away before the answer is sent (uWS allows one handler). */
  constructor(readonly res: HttpResponse, onAbort?: () => void) {
    res.onAborted(() => {
      this.aborted = true;
      onAbort?.();
    });
  }

  send(status: number, body: Uint8Array | string, contentType: string, headers?: Record<string, string>): void {
    if (this.aborted || this.done) return;
    this.done = true;
    const res = this.res;
    res.cork(() => {
      res.writeStatus(httpStatusLine(status)).writeHeader('content-type', contentType);
      if (headers) for (const k in headers) res.writeHeader(k, headers[k] as string);
      res.end(body, this.closeConnection);
    });
  }

  json(status: number, value: unknown): void {
    this.send(status, JSON.stringify(value), 'application/json');
  }
}

/**
 * A body over its endpoint's limit: FRESCO_ERR_PAYLOAD_TOO_LARGE (413). The reply that refuses it
 * closes the connection, so the rest of the body is never read.
 */
export class BodyTooLarge extends FrescoError {
  constructor(message: string) {
    super('FRESCO_ERR_PAYLOAD_TOO_LARGE', message);
  }
}

/**
 * Copies of small transport buffers (request frames of a few hundred bytes), cut from 64 KiB
 * slabs: `ArrayBuffer.slice` per request costs a malloc and an off-heap backing store each,
 * which showed in the serving profile. A copy is 8-byte aligned within its slab (tensor views
 * over the frame need their type's alignment, as in a fresh buffer). Slabs are never reused: one
 * lives while any of its copies does.
 */
const SLAB_BYTES = 64 << 10;
const SLAB_MAX_COPY = 4096;
let slab = new Uint8Array(SLAB_BYTES);
let slabAt = 0;

export function copyBytes(source: ArrayBuffer): Uint8Array {
  const n = source.byteLength;
  if (n > SLAB_MAX_COPY) return new Uint8Array(source.slice(0));
  if (slabAt + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabAt = 0;
  }
  const copy = slab.subarray(slabAt, slabAt + n);
  copy.set(new Uint8Array(source));
  slabAt = (slabAt + n + 7) & ~7;
  return copy;
}

/** Reads the whole body, refusing more than `limit` bytes. */
export function readBody(reply: Reply, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let chunks: Uint8Array[] = [];
    let size = 0;
    let failed = false;
    reply.res.onData((chunk, isLast) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > limit) {
        failed = true;
        chunks = [];
        reply.closeConnection = true;
        reject(new BodyTooLarge(`the body is larger than the limit of ${limit} bytes`));
        return;
      }
      // The chunk's memory is reused by uWS after this callback: copy it.
      chunks.push(copyBytes(chunk));
      if (isLast) {
        if (chunks.length === 1) return resolve(chunks[0] as Uint8Array);
        const all = new Uint8Array(size);
        let at = 0;
        for (const c of chunks) {
          all.set(c, at);
          at += c.byteLength;
        }
        resolve(all);
      }
    });
  });
}
