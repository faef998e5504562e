/**
 * The gRPC service definition: Triton's `inference.GRPCInferenceService` (schema/grpc/
 * grpc_service.proto + model_config.proto, what tritonclient.grpc speaks). It is a superset of
 * the Open Inference Protocol's service of the same name (schema/grpc/grpc_predict_v2.proto):
 * the same methods and wire-compatible messages, plus the Triton extensions, so a client built
 * from either file talks to it.
 *
 * Loaded at run time with @grpc/proto-loader (no generated code to keep in step), once, and only
 * when a server opens a gRPC port.
 */
import { join } from 'node:path';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { packageRoot } from '../../package-root.js';

/** How messages look in JS: field names as in the .proto, int64 as numbers, enums as names, defaults filled. */
export const LOADER_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true } as const;

export function protoDir(): string {
  return join(packageRoot(), 'schema', 'grpc');
}

let cached: ServiceDefinition | undefined;

export async function inferenceService(): Promise<ServiceDefinition> {
  if (cached) return cached;
  const [loader, grpc] = await Promise.all([import('@grpc/proto-loader'), import('@grpc/grpc-js')]);
  const definition = loader.loadSync(join(protoDir(), 'grpc_service.proto'), { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: { service: ServiceDefinition } } };
  cached = pkg.inference.GRPCInferenceService.service;
  return cached;
}
