/** The serving runtime (docs/serving.md): FlatBuffers RPC and KServe v2 over uWebSockets.js, hot swap, split and shadow. */
export { FrescoServer, type ServerOptions } from './server.js';
export { ModelManager, type RoutePolicy, type ShadowRecord, type ManagerOptions } from './manager.js';
export { LoadedModel, type PredictResult } from './loaded-model.js';
export { type FeatureLookup, type LookupRow, FeatureBlock, InMemoryFeatureLookup, lookupRows, TAG_BOOL, TAG_NULL, TAG_NUMBER, TAG_STRING } from './feature-lookup.js';
export { OnlineFeatureLookup, requestKeyNames, type OnlineLookupOptions } from './online-lookup.js';
export { modelSettingsSchema, parseModelSettings, PROVIDERS, type ModelSettings, type ModelSettingsInput, type Provider } from './settings.js';
export { ServingMetrics } from './metrics.js';
export * from './protocol/index.js';
