/**
 * The HTTP push endpoint: `POST /push/<source>` with CSV (`Content-Type: text/csv`) or JSON lines
 * (anything else) in the body, `Authorization: Bearer <token>` required. The same push as the CLI
 * (push.ts): every row checked first, then online store + lake. Bodies past `maxBytes` are refused
 * with 413 before anything is parsed; a wrong or missing token is 401 and nothing is read.
 *
 * `createPushHandler` is a plain node:http request handler, so the serving runtime (src/serving)
 * can mount it later; `startPushServer` is the small standalone server behind `fresco push-server`.
 * Pushes run one at a time (one lake writer, one store writer).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FrescoError } from '../errors/index.js';
import { loadProject, type Project } from '../features/project.js';
import type { OnlineStore } from './online-store.js';
import { openOnlineStore } from './open-store.js';
import { parseCsv, parseJsonLines } from './push-input.js';
import { DEFAULT_PUSH_MAX_BYTES } from './push-defaults.js';
import { push, type PushResult } from './push.js';

export { DEFAULT_PUSH_MAX_BYTES };

export interface PushHandlerOptions {
  project?: string | Project;
  /** The bearer token; required (default: $FRESCO_ADMIN_TOKEN). */
  token?: string;
  /** Largest body accepted (default 16 MiB). */
  maxBytes?: number;
  /** An open store (default: the project's, opened on first push, closed by close()). */
  store?: OnlineStore;
  /** Called after each push (logging). */
  onPush?: (result: PushResult) => void;
}

export interface PushHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, error: unknown): void {
  const e = error instanceof FrescoError ? error : new FrescoError('FRESCO_ERR_INTERNAL', error instanceof Error ? error.message : String(error));
  if (!res.headersSent) send(res, e.httpStatus, { error: { code: e.code, message: e.message, ...(e.location ? { location: e.location } : {}) } });
}

function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reads the body, refusing it (413) as soon as it passes `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const tooLarge = () => new FrescoError('FRESCO_ERR_PAYLOAD_TOO_LARGE', `the body is larger than the push limit of ${max} bytes; split the rows into smaller pushes`);
    if (Number.isFinite(declared) && declared > max) {
      req.resume();
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function createPushHandler(options: PushHandlerOptions = {}): PushHandler {
  const token = options.token ?? process.env.FRESCO_ADMIN_TOKEN;
  if (!token) throw new FrescoError('FRESCO_ERR_USAGE', 'the push endpoint needs a bearer token: pass --token or set FRESCO_ADMIN_TOKEN');
  const maxBytes = options.maxBytes ?? DEFAULT_PUSH_MAX_BYTES;
  const project = typeof options.project === 'object' ? options.project : loadProject(options.project ?? '.');
  let store: Promise<OnlineStore> | undefined = options.store ? Promise.resolve(options.store) : undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://push');
    const m = /^\/push\/([^/]+)$/.exec(url.pathname);
    if (!m) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `no such endpoint ${url.pathname}; POST /push/<source>`);
    if (!authorized(req.headers.authorization, token)) {
      req.resume();
      throw new FrescoError('FRESCO_ERR_UNAUTHORIZED', 'push needs "Authorization: Bearer <token>" with the right token');
    }
    if (req.method !== 'POST') throw new FrescoError('FRESCO_ERR_USAGE', `use POST for /push/<source>, not ${req.method}`);
    const source = decodeURIComponent(m[1]!);
    const body = (await readBody(req, maxBytes)).toString('utf8');
    const csv = /^text\/csv\b/i.test(req.headers['content-type'] ?? '');
    const where = `POST /push/${source}`;
    const records = csv ? parseCsv(body, where) : parseJsonLines(body, where);
    const run = queue.then(async () => {
      store ??= openOnlineStore(project.config);
      return push({ project, source, records, inputName: where, store: await store });
    });
    queue = run.catch(() => {});
    const result = await run;
    options.onPush?.(result);
    send(res, 200, result);
  };

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error) => sendError(res, error));
  }) as PushHandler;
  handler.close = async () => {
    await queue;
    if (store && !options.store) await (await store).close();
  };
  return handler;
}

/** `fresco push-server`: the handler on its own node:http server. */
export async function startPushServer(options: PushHandlerOptions & { port?: number; host?: string }): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const handler = createPushHandler(options);
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
    },
  };
}
