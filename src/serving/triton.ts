/**
 * Triton's HTTP extensions to KServe v2, beside the core protocol (kserve.ts), in the shapes
 * Triton's own tools read (tritonclient.http, perf_analyzer):
 *
 *   GET  /v2/models/{name}[/versions/{v}]/config   model configuration (triton-config.ts)
 *   GET  /v2/models/stats                          statistics of every loaded version
 *   GET  /v2/models/{name}[/versions/{v}]/stats    ...of one model, or one version (inference-stats.ts)
 *   POST /v2/repository/index                      the registry's models, with their loaded versions' states
 *   POST /v2/repository/models/{name}/load         serve a ref (admin token)
 *   POST /v2/repository/models/{name}/unload       stop serving it (admin token)
 *
 * `{name}` is a model name or a ref (`mlp-50@production`), as in `/v2/models/{name}`.
 */
import { FrescoError } from '../errors/index.js';
import { requireAdmin } from './admin.js';
import { readDecodedBody } from './content-encoding.js';
import { BodyTooLarge, type Reply, type Req } from './http.js';
import type { LoadedModel, ModelState } from './loaded-model.js';
import type { ModelManager } from './manager.js';
import type { FrescoServer } from './server.js';
import { modelConfig } from './triton-config.js';

/** The extensions this server speaks (the server metadata's `extensions`, HTTP and gRPC alike). */
export const TRITON_EXTENSIONS: readonly string[] = ['binary_tensor_data', 'model_configuration', 'statistics', 'model_repository'];

/** Repository request bodies are a few keys (Triton's `{"ready": true}`, `{"parameters": {...}}`). */
const REPOSITORY_BODY_LIMIT = 64 << 10;

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/(config|stats)$/;
const REPOSITORY_PATH = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;

const STATE: Record<ModelState, string> = { loading: 'LOADING', ready: 'READY', draining: 'UNLOADING', closed: 'UNAVAILABLE' };

/** Whether `url` is one of the endpoints above (the server routes those here). */
export function isTritonExtension(url: string): boolean {
  return url === '/v2/models/stats' || url === '/v2/repository/index' || MODEL_PATH.test(url) || REPOSITORY_PATH.test(url);
}

export async function handleTritonExtension(server: FrescoServer, reply: Reply, req: Req): Promise<void> {
  const { method, url } = req;
  const manager = server.manager;
  if (url === '/v2/models/stats') {
    expectMethod(req, 'GET');
    return reply.json(200, { model_stats: modelStats(manager) });
  }
  let m: RegExpExecArray | null;
  if ((m = MODEL_PATH.exec(url))) {
    expectMethod(req, 'GET');
    const name = decodePart(m[1] as string);
    const version = m[2] === undefined ? undefined : decodePart(m[2]);
    if (m[3] === 'config') return reply.json(200, modelConfig(versionFor(manager, name, version)));
    return reply.json(200, { model_stats: modelStats(manager, name, version) });
  }
  if (url === '/v2/repository/index') {
    expectMethod(req, 'POST');
    const body = await jsonBody(reply, req);
    if (body.ready !== undefined && typeof body.ready !== 'boolean') throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'body key "ready": expected true or false', { location: { key: 'ready' } });
    const index = repositoryIndex(server);
    return reply.json(200, body.ready ? index.filter((e) => e.state === 'READY') : index);
  }
  if ((m = REPOSITORY_PATH.exec(url))) {
    expectMethod(req, 'POST');
    requireAdmin(server, req);
    const name = decodePart(m[1] as string);
    const parameters = (await jsonBody(reply, req)).parameters ?? {};
    if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'body key "parameters": expected an object', { location: { key: 'parameters' } });
    if (m[2] === 'load') return reply.json(200, await load(manager, name, parameters as Record<string, unknown>));
    return reply.json(200, await unload(manager, name));
  }
  throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${method} ${url}: no such endpoint`);
}

function expectMethod(req: Req, method: string): void {
  if (req.method !== method) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${req.url} takes ${method}, not ${req.method}`);
}

/** A percent-decoded path segment; a malformed one is the client's mistake (400), not a crash. */
function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `the path segment "${part}" is not valid percent-encoding`);
  }
}

const byNameVersion = (a: LoadedModel, b: LoadedModel) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version);
const statsOf = (l: LoadedModel) => l.stats.toJSON(l.name, l.version);

/**
 * Triton's `model_stats`: of every loaded version (no name), of each loaded version of model
 * `name`, or of one version (a ref, or `version`). Shared with the gRPC ModelStatistics (grpc/).
 */
export function modelStats(manager: ModelManager, name?: string, version?: string): Record<string, unknown>[] {
  if (name === undefined) return manager.loadedModels().sort(byNameVersion).map(statsOf);
  const versions = version === undefined && !name.includes('@') ? manager.loadedModels().filter((l) => l.name === name) : [versionFor(manager, name, version)];
  if (!versions.length) throw new FrescoError('FRESCO_ERR_MODEL_NOT_FOUND', `no version of model "${name}" is loaded on this server`);
  return versions.sort(byNameVersion).map(statsOf);
}

/**
 * The loaded version that `/v2/models/{name}[/versions/{v}]` means: version `v` of the model (a
 * number, or an alias the registry resolves), else the version serving the ref `name` (or the
 * first served ref of model `name`), else what the registry resolves `name` to, if loaded.
 */
export function versionFor(manager: ModelManager, name: string, version: string | undefined): LoadedModel {
  const model = name.split('@')[0] as string;
  if (version !== undefined) {
    const n = Number(version);
    const loaded = /^\d+$/.test(version) ? manager.loadedModels().find((l) => l.name === model && l.version === n) : undefined;
    if (loaded) return loaded;
    if (/^\d+$/.test(version)) throw new FrescoError('FRESCO_ERR_MODEL_NOT_FOUND', `version ${version} of model "${model}" is not loaded on this server`);
    return manager.route(`${model}@${version}`).primary;
  }
  const served = manager.servedRefs();
  const ref = served.find((s) => s.ref === name) ?? (name.includes('@') ? undefined : served.find((s) => s.ref.startsWith(`${name}@`)));
  if (ref) {
    const refModel = ref.ref.split('@')[0];
    const loaded = manager.loadedModels().find((l) => l.name === refModel && l.version === ref.version);
    if (loaded) return loaded;
  }
  return manager.route(name).primary;
}

async function jsonBody(reply: Reply, req: Req): Promise<Record<string, unknown>> {
  const bytes = await readDecodedBody(reply, req, REPOSITORY_BODY_LIMIT).catch((error) => {
    throw error instanceof BodyTooLarge ? new FrescoError('FRESCO_ERR_PAYLOAD_TOO_LARGE', `the body is larger than the limit of ${REPOSITORY_BODY_LIMIT} bytes for ${req.url}`) : error;
  });
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').trim();
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `the body of ${req.url} is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `the body of ${req.url} must be a JSON object`);
  return value as Record<string, unknown>;
}

interface IndexEntry {
  name: string;
  version?: string;
  state: string;
  reason?: string;
}

/** Every loaded version with its state, then every registry model with none loaded (UNAVAILABLE). */
export function repositoryIndex(server: FrescoServer): IndexEntry[] {
  const loaded = server.manager.loadedModels().sort(byNameVersion);
  const entries: IndexEntry[] = loaded.map((l) => ({ name: l.name, version: String(l.version), state: STATE[l.state] }));
  const names = new Set(loaded.map((l) => l.name));
  for (const model of server.options.registry?.list() ?? []) {
    if (!names.has(model.name)) entries.push({ name: model.name, state: 'UNAVAILABLE', reason: 'not loaded' });
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Load: start serving the ref `name` (a registry ref: `mlp-50`, `mlp-50@production`,
 * `mlp-50@3`), as `POST /admin/models` does. Triton's load may carry a new configuration or
 * model files; Fresco serves registry versions as registered, so those are refused.
 */
export async function load(manager: ModelManager, name: string, parameters: Record<string, unknown>): Promise<Record<string, unknown>> {
  const unsupported = Object.keys(parameters);
  if (unsupported.length) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `load parameter "${unsupported[0]}" is not supported: Fresco serves registry versions as registered (register a new version to change the model; serving settings come from \`fresco serve --config\`)`, { location: { key: `parameters.${unsupported[0]}` } });
  }
  const model = await manager.serve(name);
  return { name, model: model.name, version: String(model.version), state: STATE[model.state] };
}

/**
 * Unload: stop serving the ref `name`; a bare model name stops every served ref of that model.
 * Versions drain (requests already routed are answered) and unload once nothing holds them.
 * Triton's `unload_dependents` is accepted and has nothing to do (Fresco has no ensembles).
 */
export async function unload(manager: ModelManager, name: string): Promise<Record<string, unknown>> {
  const served = manager.servedRefs().map((s) => s.ref);
  const refs = served.filter((r) => r === name || (!name.includes('@') && r.startsWith(`${name}@`)));
  if (!refs.length) throw new FrescoError('FRESCO_ERR_MODEL_NOT_FOUND', `"${name}" is not served${served.length ? `; served: ${served.join(', ')}` : ''}`);
  for (const ref of refs) await manager.unserve(ref);
  return { name, unloaded: refs };
}
