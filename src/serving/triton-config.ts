/**
 * A served version's configuration in Triton's form (the model configuration extension:
 * `GET /v2/models/{name}[/versions/{v}]/config`, the JSON of model_config.proto's ModelConfig
 * that `tritonclient.get_model_config` returns and perf_analyzer reads at start-up).
 *
 * It says what Fresco actually does with the version: its inputs and outputs are the model
 * metadata's (so that a tool that reads both finds the same tensors), batching is Fresco's
 * dynamic batcher with the version's settings, and its instances are the inference workers.
 */
import { basename } from 'node:path';
import { modelMetadata } from './kserve.js';
import type { LoadedModel } from './loaded-model.js';

interface TensorSpec {
  name: string;
  datatype: string;
  shape: number[];
}

/** KServe datatype -> Triton's config data_type (BYTES is TYPE_STRING there). */
function dataType(datatype: string): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

/**
 * Whether requests are batched along the first dimension: a dataframe model always is (one row
 * per entity), a tensor model when every tensor's first dimension is dynamic.
 */
function batched(model: LoadedModel, tensors: TensorSpec[]): boolean {
  return model.inputKind === 'dataframe' || tensors.every((t) => t.shape.length > 0 && t.shape[0] === -1);
}

/** Triton's dims leave the batch dimension out when max_batch_size > 0; a [batch] tensor is dims [1] reshaped to []. */
function dims(t: TensorSpec, batch: boolean): { dims: number[]; reshape?: { shape: number[] } } {
  if (!batch) return { dims: t.shape };
  const rest = t.shape.slice(1);
  return rest.length ? { dims: rest } : { dims: [1], reshape: { shape: [] } };
}

export function modelConfig(model: LoadedModel): Record<string, unknown> {
  const meta = modelMetadata(model, [model.version]) as { inputs: TensorSpec[]; outputs: TensorSpec[] };
  const settings = model.settings;
  const batch = batched(model, [...meta.inputs, ...meta.outputs]);
  return {
    name: model.name,
    // Python packages are Triton's `python` backend's kind; custom (TypeScript) models have no Triton counterpart.
    platform: model.pkg.manifest.backend === 'onnx' ? 'onnxruntime_onnx' : '',
    backend: { onnx: 'onnxruntime', python: 'python', custom: 'fresco_custom' }[model.pkg.manifest.backend],
    version_policy: { specific: { versions: [model.version] } },
    max_batch_size: batch ? settings.maxBatchSize : 0,
    input: meta.inputs.map((t) => ({ name: t.name, data_type: dataType(t.datatype), format: 'FORMAT_NONE', ...dims(t, batch), is_shape_tensor: false, allow_ragged_batch: false, optional: false })),
    output: meta.outputs.map((t) => ({ name: t.name, data_type: dataType(t.datatype), ...dims(t, batch), label_filename: '', is_shape_tensor: false })),
    batch_input: [],
    batch_output: [],
    instance_group: [
      {
        name: `${model.name}_0`,
        kind: model.provider === 'cpu' ? 'KIND_CPU' : 'KIND_GPU',
        count: settings.instances,
        gpus: [],
        secondary_devices: [],
        profile: [],
        passive: false,
        host_policy: '',
      },
    ],
    ...(batch
      ? {
          dynamic_batching: {
            preferred_batch_size: [],
            max_queue_delay_microseconds: Math.round(settings.maxQueueDelayMs * 1000),
            preserve_ordering: false,
            priority_levels: 0,
            default_priority_level: 0,
            // Fresco bounds its queue in rows (parameters.max_queue_rows), not requests: 0 here.
            default_queue_policy: { timeout_action: 'REJECT', default_timeout_microseconds: settings.timeoutMs * 1000, allow_timeout_override: true, max_queue_size: 0 },
            priority_queue_policy: {},
          },
        }
      : {}),
    optimization: { priority: 'PRIORITY_DEFAULT', execution_accelerators: { gpu_execution_accelerator: [], cpu_execution_accelerator: [] } },
    default_model_filename: basename(model.pkg.manifest.model),
    cc_model_filenames: {},
    metric_tags: {},
    // Triton's parameters are string-valued; these are Fresco's own settings that have no field above.
    parameters: {
      input_kind: { string_value: model.inputKind },
      execution_providers: { string_value: settings.providers.join(',') },
      execution_provider: { string_value: model.provider },
      intra_op_threads: { string_value: String(settings.intraOpThreads) },
      max_queue_rows: { string_value: String(settings.maxQueueRows) },
    },
    model_warmup: [],
  };
}
