/**
 * The admin API, under /admin, every call with `Authorization: Bearer <token>`. Without the
 * right token: 401 and nothing changes (the token is compared in constant time).
 *
 *   GET    /admin/models                         served refs, loaded versions, last errors
 *   POST   /admin/models            {ref}        start serving a ref (loads and warms it)
 *   DELETE /admin/models/{ref}                   stop serving a ref (drains, unloads)
 *   POST   /admin/models/{ref}/swap {version}    hot-swap a served ref to a version
 *   POST   /admin/aliases           {name, alias, version}  load + warm, then move the registry alias and swap
 *   PUT    /admin/routes/{ref}      {split?, shadow?}       traffic split and shadow for a served ref
 *   GET    /admin/shadow/{name}                  recent shadow comparisons
 */
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { FrescoError } from '../errors/index.js';
import { type Reply, readBody, type Req } from './http.js';
import type { FrescoServer } from './server.js';

const serveBody = z.strictObject({ ref: z.string().min(1) });
const swapBody = z.strictObject({ version: z.number().int().positive() });
const aliasBody = z.strictObject({ name: z.string().min(1), alias: z.string().min(1), version: z.number().int().positive() });
const routeBody = z.strictObject({
  split: z.array(z.strictObject({ version: z.number().int().positive(), weight: z.number().min(0) })).optional(),
  shadow: z.strictObject({ version: z.number().int().positive() }).optional(),
});

function authorized(server: FrescoServer, header: string | undefined): boolean {
  const token = server.options.adminToken;
  if (!token || !header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

async function json<T>(reply: Reply, schema: z.ZodType<T>, limit: number): Promise<T> {
  const body = await readBody(reply, limit);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `the body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `body${issue?.path.length ? ` key "${issue.path.join('.')}"` : ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Throws FRESCO_ERR_UNAUTHORIZED unless the request carries the admin token (also used by Triton's repository extension, triton.ts). */
export function requireAdmin(server: FrescoServer, req: Req): void {
  if (!authorized(server, req.headers.authorization)) {
    throw new FrescoError('FRESCO_ERR_UNAUTHORIZED', server.options.adminToken ? 'admin operations need "Authorization: Bearer <token>" with the right token' : 'the admin API is disabled: start the server with an admin token');
  }
}

export async function handleAdmin(server: FrescoServer, reply: Reply, req: Req, limit: number): Promise<void> {
  requireAdmin(server, req);
  const manager = server.manager;
  const path = req.url.slice('/admin'.length);
  let m: RegExpExecArray | null;
  if (path === '/models' && req.method === 'GET') {
    return reply.json(200, { served: manager.servedRefs(), loaded: manager.loadedModels().map((l) => l.metadata()) });
  }
  if (path === '/models' && req.method === 'POST') {
    const { ref } = await json(reply, serveBody, limit);
    const model = await manager.serve(ref);
    return reply.json(200, { ref, version: model.version, provider: model.provider });
  }
  if ((m = /^\/models\/([^/]+)\/swap$/.exec(path)) && req.method === 'POST') {
    const ref = decodeURIComponent(m[1] as string);
    const { version } = await json(reply, swapBody, limit);
    return reply.json(200, { ref, ...(await manager.swap(ref, version)) });
  }
  if ((m = /^\/models\/([^/]+)$/.exec(path)) && req.method === 'DELETE') {
    const ref = decodeURIComponent(m[1] as string);
    await manager.unserve(ref);
    return reply.json(200, { ref, served: false });
  }
  if (path === '/aliases' && req.method === 'POST') {
    const { name, alias, version } = await json(reply, aliasBody, limit);
    return reply.json(200, { name, alias, ...(await manager.setAlias(name, alias, version)) });
  }
  if ((m = /^\/routes\/([^/]+)$/.exec(path)) && req.method === 'PUT') {
    const ref = decodeURIComponent(m[1] as string);
    const policy = await json(reply, routeBody, limit);
    await manager.setPolicy(ref, policy);
    return reply.json(200, { ref, ...policy });
  }
  if ((m = /^\/shadow\/([^/]+)$/.exec(path)) && req.method === 'GET') {
    return reply.json(200, { records: manager.shadowRecords(decodeURIComponent(m[1] as string)) });
  }
  throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${req.method} ${req.url}: no such admin endpoint`);
}
