/** Small helpers over uWebSockets.js HTTP responses: bodies with a size limit, abort safety, replies. */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
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
  constructor(readonly res: HttpResponse) {
    res.onAborted(() => {
      this.aborted = true;
    });
  }

  send(status: number, body: Uint8Array | string, contentType: string, headers: Record<string, string> = {}): void {
    if (this.aborted || this.done) return;
    this.done = true;
    this.res.cork(() => {
      this.res.writeStatus(httpStatusLine(status)).writeHeader('content-type', contentType);
      for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
      this.res.end(body);
    });
  }

  json(status: number, value: unknown): void {
    this.send(status, JSON.stringify(value), 'application/json');
  }
}

export class BodyTooLarge extends Error {}

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
        reject(new BodyTooLarge(`the body is larger than ${limit} bytes`));
        return;
      }
      // The chunk's memory is reused by uWS after this callback: copy it.
      chunks.push(new Uint8Array(chunk.slice(0)));
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
