/** KServe v2 / Open Inference Protocol over gRPC (docs/serving.md, "gRPC"): imported only by a server that opens a gRPC port. */
export { GrpcFrontend, type GrpcOptions } from './service.js';
export { LOADER_OPTIONS, protoDir } from './proto.js';
