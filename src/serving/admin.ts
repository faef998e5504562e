/**
 * The admin API, under /admin, every call with `Authorization: Bearer <token>`. Without the
 * right token: 401 and nothing changes (bearer.ts: the scheme in any case, the token compared
 * through digests, in constant time whatever its length). A body over 64 KiB is refused (413).
 *
 *   GET    /admin/models                         served refs, loaded versions, last errors
 *   POST   /admin/models            {ref}        start serving a ref (loads and warms it)
 *   DELETE /admin/models/{ref}                   stop serving a ref (drains, unloads)
 *   POST   /admin/models/{ref}/swap {version, force?}    hot-swap a served ref to a version
 *   POST   /admin/aliases           {name, alias, version, force?}  load + warm, then move the registry alias and swap
 *   (a version that takes other inputs is refused unless `force`: contract.ts)
 *   PUT    /admin/routes/{ref}      {split?, shadow?}       traffic split and shadow for a served ref
 *   GET    /admin/shadow/{name}                  recent shadow comparisons
 */
import { z } from 'zod';
import { FrescoError } from '../errors/index.js';
import { bearerMatches } from './bearer.js';
import { type Reply, readBody, type Req } from './http.js';
import { ADMIN_LIMITS, checkJsonBounds } from './json-limits.js';
import { decodePathSegment } from './request-guards.js';
import type { FrescoServer } from './server.js';
import { modelMetadata } from './kserve.js';
import type { LoadedModel } from './loaded-model.js';

const serveBody = z.strictObject({ ref: z.string().min(1) });
// `force`: move even to a version that takes other inputs (contract.ts).
const swapBody = z.strictObject({ version: z.number().int().positive(), force: z.boolean().optional() });
const aliasBody = z.strictObject({ name: z.string().min(1), alias: z.string().min(1), version: z.number().int().positive(), force: z.boolean().optional() });
const routeBody = z.strictObject({
  force: z.boolean().optional(),
  split: z.array(z.strictObject({ version: z.number().int().positive(), weight: z.number().min(0) })).optional(),
  shadow: z.strictObject({ version: z.number().int().positive() }).optional(),
});

/**
 * A loaded version as GET /admin/models lists it: `inputs` are what a caller sends, as the KServe
 * metadata lists them (a dataframe model's entity keys and request fields, not the features the
 * server looks up); the ONNX signature's inputs are `modelInputs`, a plan's inputs `planInputs`.
 */
function loadedView(l: LoadedModel): Record<string, unknown> {
  const { inputs: modelInputs, ...rest } = l.metadata();
  return { ...rest, inputs: modelMetadata(l, [l.version]).inputs, modelInputs };
}

function authorized(server: FrescoServer, header: string | undefined): boolean {
  return bearerMatches(header, server.options.adminToken);
}

async function json<T>(reply: Reply, schema: z.ZodType<T>, limit: number): Promise<T> {
  // An admin body is a few keys: past its own limit, 413 and the connection closes (http.ts).
  const body = await readBody(reply, Math.min(limit, ADMIN_LIMITS.maxBytes));
  checkJsonBounds(body, ADMIN_LIMITS);
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
    return reply.json(200, { served: manager.servedRefs(), loaded: manager.loadedModels().map(loadedView) });
  }
  if (path === '/models' && req.method === 'POST') {
    const { ref } = await json(reply, serveBody, limit);
    const model = await manager.serve(ref);
    return reply.json(200, { ref, version: model.version, provider: model.provider });
  }
  if ((m = /^\/models\/([^/]+)\/swap$/.exec(path)) && req.method === 'POST') {
    const ref = decodePathSegment(m[1] as string);
    const { version, force } = await json(reply, swapBody, limit);
    return reply.json(200, { ref, ...(await manager.swap(ref, version, { force })) });
  }
  if ((m = /^\/models\/([^/]+)$/.exec(path)) && req.method === 'DELETE') {
    const ref = decodePathSegment(m[1] as string);
    await manager.unserve(ref);
    return reply.json(200, { ref, served: false });
  }
  if (path === '/aliases' && req.method === 'POST') {
    const { name, alias, version, force } = await json(reply, aliasBody, limit);
    return reply.json(200, { name, alias, ...(await manager.setAlias(name, alias, version, { force })) });
  }
  if ((m = /^\/routes\/([^/]+)$/.exec(path)) && req.method === 'PUT') {
    const ref = decodePathSegment(m[1] as string);
    const { force, ...policy } = await json(reply, routeBody, limit);
    await manager.setPolicy(ref, policy, { force });
    return reply.json(200, { ref, ...policy });
  }
  if ((m = /^\/shadow\/([^/]+)$/.exec(path)) && req.method === 'GET') {
    return reply.json(200, { records: manager.shadowRecords(decodePathSegment(m[1] as string)) });
  }
  throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${req.method} ${req.url}: no such admin endpoint`);
}
