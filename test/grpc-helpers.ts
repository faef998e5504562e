/**
 * gRPC clients of the serving tests, built with @grpc/grpc-js from the .proto files in
 * schema/grpc: the Open Inference Protocol's own file (grpc_predict_v2.proto: what a KServe
 * client is built from) and Triton's (grpc_service.proto: its extensions too).
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { LOADER_OPTIONS, protoDir } from '../src/serving/grpc/index.js';

export type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export function inferenceClient(address: string, proto: 'kserve' | 'triton' = 'kserve'): Client {
  const file = proto === 'kserve' ? 'grpc_predict_v2.proto' : 'grpc_service.proto';
  const definition = loader.loadSync(join(protoDir(), file), { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  return new pkg.inference.GRPCInferenceService(address, grpc.credentials.createInsecure()) as unknown as Client;
}

export interface CallOptions {
  metadata?: grpc.Metadata;
  deadlineMs?: number;
}

/** A unary call as a promise; rejects with the grpc-js ServiceError (code, details, metadata). */
export function unary<T = any>(client: Client, method: string, request: unknown, options: CallOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: T) => void) => void;
    fn.call(client, request, options.metadata ?? new grpc.Metadata(), { deadline: Date.now() + (options.deadlineMs ?? 30_000) }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** The error a call rejected with (fails the test if it succeeded). */
export async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('the call succeeded; an error was expected');
}

export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

export { grpc };
