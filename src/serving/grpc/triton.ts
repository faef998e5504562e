/**
 * Triton's extensions of the gRPC service that its tools call (tritonclient.grpc's
 * get_model_config, get_inference_statistics, get_model_repository_index, load_model,
 * unload_model): the same functions as their HTTP forms (../triton.ts, ../triton-config.ts), so
 * both transports answer alike. The repository calls change what is served: they need the admin
 * token, sent as `authorization: Bearer <token>` metadata, checked as the HTTP header is.
 */
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { FrescoError } from '../../errors/index.js';
import { requireAdmin } from '../admin.js';
import type { FrescoServer } from '../server.js';
import { load, modelStats, repositoryIndex, unload, versionFor } from '../triton.js';
import { modelConfig } from '../triton-config.js';

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;
type MakeUnary = <Req, Res>(fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>) => Unary<Req, Res>;

interface NameVersion {
  name: string;
  version: string;
}

interface RepositoryRequest {
  model_name: string;
  parameters: Record<string, unknown>;
}

export function tritonExtensions(fresco: FrescoServer, unary: MakeUnary): Record<string, Unary<never, unknown>> {
  const manager = fresco.manager;
  const named = (name: string) => {
    if (!name) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'the request needs a model name');
    return name;
  };
  const admin = (call: ServerUnaryCall<unknown, unknown>) => {
    const header = call.metadata.get('authorization')[0];
    requireAdmin(fresco, { method: '', url: '', query: '', headers: typeof header === 'string' ? { authorization: header } : {} });
  };
  return {
    ModelConfig: unary((req: NameVersion) => ({ config: modelConfig(versionFor(manager, named(req.name), req.version || undefined)) })),
    // No name: every loaded version; a name: its loaded versions, or the one asked for.
    ModelStatistics: unary((req: NameVersion) => ({ model_stats: req.name ? modelStats(manager, req.name, req.version || undefined) : modelStats(manager) })),
    RepositoryIndex: unary((req: { ready: boolean }) => {
      const index = repositoryIndex(fresco);
      return { models: req.ready ? index.filter((e) => e.state === 'READY') : index };
    }),
    RepositoryModelLoad: unary(async (req: RepositoryRequest, call) => {
      admin(call);
      await load(manager, named(req.model_name), req.parameters);
      return {};
    }),
    RepositoryModelUnload: unary(async (req: RepositoryRequest, call) => {
      admin(call);
      await unload(manager, named(req.model_name));
      return {};
    }),
  };
}
