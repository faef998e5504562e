/**
 * The model package manifest, `fresco.json`: what the package is, how to run it, what it needs.
 * The zod schema below is the single source of truth; src/models/manifest.schema.json is its JSON
 * Schema rendering (a test keeps them equal; `node dist/models/generate.js` rewrites it).
 * Every load validates the manifest; unknown keys are rejected and errors name the key path.
 */
import { z } from 'zod';
import { FrescoError } from '../errors/index.js';
import { CHECKSUM_PATTERN } from './checksum.js';

export const MANIFEST_FILE = 'fresco.json';
export const MANIFEST_FORMAT_VERSION = 1;

/** Model names appear in refs (`name@alias`) and file names: no `@`, `/` or spaces. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const DTYPES = ['float32', 'float64', 'float16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string'] as const;
export type Dtype = (typeof DTYPES)[number];

const checksum = z.string().regex(CHECKSUM_PATTERN, 'expected "sha256:" and 64 lowercase hex digits');

/** A dimension: a fixed size, or a dynamic one (null, or a symbolic name such as "batch"). */
const dimension = z.union([z.number().int().positive(), z.string().min(1), z.null()]);

const tensorSpec = z.strictObject({
  name: z.string().min(1),
  dtype: z.enum(DTYPES),
  shape: z.array(dimension),
});

export const manifestSchema = z.strictObject({
  /** Bumped on any incompatible change to this schema; a newer version is refused, not guessed at. */
  format_version: z.literal(MANIFEST_FORMAT_VERSION),
  name: z.string().regex(MODEL_NAME_PATTERN, 'expected letters, digits, ".", "_" or "-" (at most 128, starting with a letter or digit)'),
  description: z.string().optional(),
  /**
   * `onnx`: `model` is an ONNX file. `custom`: `model` is a TypeScript file exporting load() and
   * predict(). `python`: `model` is `model.py`, a class with load(self, context) and
   * predict(self, inputs), run in its own environment (docs/python-models.md).
   */
  backend: z.enum(['onnx', 'custom', 'python']),
  /** The model file, relative to the package folder (`model.onnx`, `model.ts`). */
  model: z.string().min(1),
  /** `dataframe`: named feature columns turned into one tensor by `plan`. `tensor`: raw tensors. */
  input_kind: z.enum(['dataframe', 'tensor']),
  signature: z.strictObject({
    inputs: z.array(tensorSpec).min(1),
    outputs: z.array(tensorSpec).min(1),
  }),
  /** The frozen feature plan (docs/plan-format.md); required for `dataframe` inputs. */
  plan: z.record(z.string(), z.unknown()).optional(),
  /** sha256 of the plan's canonical JSON (keys sorted); present exactly when `plan` is. */
  plan_hash: checksum.optional(),
  /** Feature table -> feature-definition version the plan was compiled against. */
  feature_versions: z.record(z.string(), z.string()).optional(),
  /** Every file of the package except fresco.json itself -> its sha256. */
  files: z.record(z.string(), checksum),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type TensorSpec = z.infer<typeof tensorSpec>;
export type Dimension = z.infer<typeof dimension>;

function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(root)';
}

function invalid(file: string, key: string, message: string): FrescoError {
  return new FrescoError('FRESCO_ERR_MANIFEST_INVALID', `${file}: ${key === '(root)' ? '' : `key "${key}": `}${message}`, { location: { file, key } });
}

/** Validates a parsed manifest; the error names the file, the key path and what was expected. */
export function parseManifest(value: unknown, file = MANIFEST_FILE): Manifest {
  const version = (value as { format_version?: unknown } | null)?.format_version;
  if (typeof version === 'number' && version > MANIFEST_FORMAT_VERSION) {
    throw invalid(file, 'format_version', `format version ${version} was written by a newer Fresco; this one reads version ${MANIFEST_FORMAT_VERSION}`);
  }
  const result = manifestSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  if (issue.code === 'unrecognized_keys') {
    const key = keyPath([...issue.path, issue.keys[0] as string]);
    return raise(invalid(file, key, `unknown key${issue.keys.length > 1 ? `s ${issue.keys.map((k) => `"${k}"`).join(', ')}` : ''}`));
  }
  if (issue.code === 'invalid_value' && issue.path.join('.') === 'backend') {
    return raise(invalid(file, 'backend', `unknown backend ${JSON.stringify((value as { backend?: unknown }).backend)}; expected "onnx", "custom" or "python"`));
  }
  if (valueAt(value, issue.path) === undefined) return raise(invalid(file, keyPath(issue.path), 'required key is missing'));
  const extra = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
  return raise(invalid(file, keyPath(issue.path), `${issue.message}${extra}`));
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function raise(error: FrescoError): never {
  throw error;
}

/** The manifest's JSON Schema, as committed in manifest.schema.json. */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://fresco.dev/schemas/model-manifest-v1.json',
    title: 'Fresco model package manifest (fresco.json)',
    ...z.toJSONSchema(manifestSchema, { target: 'draft-2020-12', io: 'input' }),
  };
}
