/** Per-model serving settings (docs/serving.md), validated once at the edge; unknown keys rejected. */
import { z } from 'zod';
import { FrescoError } from '../errors/index.js';

export const PROVIDERS = ['cuda', 'tensorrt', 'cpu'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const modelSettingsSchema = z.strictObject({
  /** Most rows in one batch handed to a worker (requests are coalesced up to it). Default 64. */
  maxBatchSize: z.number().int().min(1).max(65536).default(64),
  /** Longest a request waits for more requests to fill a batch, in milliseconds. 0 (default):
   *  dispatch as soon as a worker is free; batches still form from what queued meanwhile. */
  maxQueueDelayMs: z.number().min(0).max(10_000).default(0),
  /** Inference worker threads (each with its own ONNX Runtime session). Default 1. */
  instances: z.number().int().min(1).max(64).default(1),
  /** ONNX Runtime intra-op threads per session. Default 1. */
  intraOpThreads: z.number().int().min(1).max(256).default(1),
  /** Execution providers in order of preference; one that is not installed falls back to the next. */
  providers: z.array(z.enum(PROVIDERS)).min(1).default(['cpu']),
  /** Rows allowed to wait in the queue; past it requests get RESOURCE_EXHAUSTED (HTTP 429). Default 4096. */
  maxQueueRows: z.number().int().min(1).default(4096),
  /** Default deadline of a request that sets none, in milliseconds. Default 1000. */
  timeoutMs: z.number().int().min(1).max(3_600_000).default(1000),
  /** Bytes of each worker's shared slot (one batch's inputs and outputs). Default: sized from the signature, at least 1 MiB. */
  slotBytes: z.number().int().min(4096).max(1 << 30).optional(),
  /**
   * Dataframe models: what a row gets when a looked-up table has no row for its entity, or only
   * an expired one (feature-status.ts). `serve` (default): answered from null features (the
   * plan's fill_null/coalesce decide), its feature status saying so. `fail`: that row fails with
   * FRESCO_ERR_FEATURES_MISSING; the other rows are answered.
   */
  missingFeatures: z.enum(['serve', 'fail']).default('serve'),
  /** Python models: the address-space limit (RLIMIT_AS) of each worker process, in MiB; none by default. */
  memoryLimitMb: z.number().int().min(64).max(1 << 22).optional(),
});

export type ModelSettings = z.output<typeof modelSettingsSchema>;
export type ModelSettingsInput = z.input<typeof modelSettingsSchema>;

export function parseModelSettings(value: unknown, where = 'model settings'): ModelSettings {
  const result = modelSettingsSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue?.path.join('.') || (issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : '');
  throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${where}: ${key ? `key "${key}": ` : ''}${issue?.message ?? 'invalid'}`, { location: key ? { key } : {} });
}
