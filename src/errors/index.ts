/**
 * One error hierarchy for all of Fresco. Every error carries a stable code; the table below maps
 * each code to its meaning, the CLI exit code, and (for the serving runtime) HTTP and RPC status.
 * docs/errors.md documents every code, and a test keeps the two in step.
 */

export interface ErrorSpec {
  /** What the code means, in one line (copied into docs/errors.md). */
  readonly summary: string;
  /** Process exit code when the CLI fails with this error: 2 for usage errors, 1 otherwise. */
  readonly exit: 1 | 2;
  /** HTTP status a server answers with. */
  readonly http: number;
}

export const ERROR_CODES = {
  FRESCO_ERR_USAGE: { summary: 'A command was called with unknown or missing arguments or options.', exit: 2, http: 400 },
  FRESCO_ERR_INVALID_ARGUMENT: { summary: 'An argument or option has a value of the wrong form.', exit: 2, http: 400 },
  FRESCO_ERR_NOT_FOUND: { summary: 'A file, folder or named object does not exist.', exit: 1, http: 404 },
  FRESCO_ERR_PLAN_INVALID: { summary: 'A feature plan is malformed: unknown op, bad slot, bad parameter or wrong format version.', exit: 1, http: 400 },
  FRESCO_ERR_PLAN_INPUT: { summary: 'Columns given to a plan do not match it: wrong count, kind or length, or corrupt string data.', exit: 1, http: 400 },
  FRESCO_ERR_DSL_SYNTAX: { summary: 'A feature spec does not parse: unexpected or unbalanced token, bad literal or reference.', exit: 1, http: 400 },
  FRESCO_ERR_DSL_TYPE: { summary: 'A feature spec does not type-check: unknown feature or function, wrong argument type, duplicate output name.', exit: 1, http: 400 },
  FRESCO_ERR_DSL_FIT: { summary: 'A fitted function could not learn its parameters from the training set (no usable values, or a missing column).', exit: 1, http: 400 },
  FRESCO_ERR_DSL_UNFITTED: { summary: 'A feature spec with fitted functions was run before being fitted on a training set.', exit: 1, http: 400 },
  FRESCO_ERR_NATIVE_MISSING: { summary: 'The native addon is not built; run `npm run build:native`.', exit: 1, http: 500 },
  FRESCO_ERR_NATIVE_STALE: { summary: 'The native addon was built from other sources than this package expects; run `npm run build:native`.', exit: 1, http: 500 },
  FRESCO_ERR_MANIFEST_INVALID: { summary: 'A model package manifest (fresco.json) does not match the manifest schema: unknown or missing key, wrong type or format version.', exit: 1, http: 400 },
  FRESCO_ERR_PACKAGE_INVALID: { summary: 'A model package is incomplete or inconsistent: a missing or unlisted file, a bad plan, or a custom model without load()/predict().', exit: 1, http: 400 },
  FRESCO_ERR_CHECKSUM_MISMATCH: { summary: 'The sha256 of a file differs from the checksum recorded for it (package manifest or registry store).', exit: 1, http: 400 },
  FRESCO_ERR_SIGNATURE_MISMATCH: { summary: 'The inputs or outputs of an ONNX model (names, element types, shapes) differ from the signature its manifest declares.', exit: 1, http: 400 },
  FRESCO_ERR_UNSAFE_PATH: { summary: 'A path in a model package or archive escapes the package: `..`, an absolute path, a symlink or a special file.', exit: 1, http: 400 },
  FRESCO_ERR_MODEL_NOT_FOUND: { summary: 'No model, version or alias of that name is in the registry.', exit: 1, http: 404 },
  FRESCO_ERR_MODEL_ARCHIVED: { summary: 'The model version is archived: it cannot take an alias, and an aliased version cannot be archived.', exit: 1, http: 409 },
  FRESCO_ERR_REGISTRY_CORRUPT: { summary: 'The registry database or artifact store is damaged or was written by a newer Fresco.', exit: 1, http: 500 },
  FRESCO_ERR_CONFIG_INVALID: { summary: 'A fresco.yaml or feature definition file is invalid: bad YAML, unknown key, wrong value or broken reference.', exit: 1, http: 400 },
  FRESCO_ERR_NOT_APPLIED: { summary: 'Feature definitions changed since the last `fresco apply` (or were never applied); run `fresco apply`.', exit: 1, http: 409 },
  FRESCO_ERR_DATA_INVALID: { summary: 'An input data file does not fit: missing or wrongly typed column, duplicate key, or a malformed file.', exit: 1, http: 400 },
  FRESCO_ERR_QUALITY_FAILED: { summary: 'A data-quality expectation failed; the report names the table, column, check and observed value.', exit: 1, http: 422 },
  FRESCO_ERR_TRAINING_FAILED: { summary: 'Training could not run or finish: the training data cannot fit the task (one class, no rows, missing values a linear model cannot take) or the engine failed.', exit: 1, http: 422 },
  FRESCO_ERR_REPRODUCE_MISMATCH: { summary: 'A retrained model version did not reproduce its recorded inputs, metrics or predictions within the stated tolerance.', exit: 1, http: 409 },
  FRESCO_ERR_ONLINE_STORE: { summary: 'The online store cannot be opened, read or written: an LMDB error, a full store, a corrupt row, or an error answered by Redis.', exit: 1, http: 500 },
  FRESCO_ERR_ONLINE_UNAVAILABLE: { summary: 'The online store (Redis) did not answer within its timeout; Fresco reconnects when it returns.', exit: 1, http: 503 },
  FRESCO_ERR_FRAME_INVALID: { summary: 'A serving request frame is malformed, truncated, oversized or of an unsupported protocol version.', exit: 1, http: 400 },
  FRESCO_ERR_INPUT_INVALID: { summary: 'A prediction request does not fit the model: unknown or missing tensor, wrong shape or dtype, missing entity key or request field.', exit: 1, http: 400 },
  FRESCO_ERR_RESOURCE_EXHAUSTED: { summary: 'The server is at capacity: the request queue of the model is full; retry later.', exit: 1, http: 429 },
  FRESCO_ERR_DEADLINE_EXCEEDED: { summary: 'A prediction did not complete before its deadline.', exit: 1, http: 504 },
  FRESCO_ERR_UNAVAILABLE: { summary: 'The server or model is not ready, is draining, or is shutting down.', exit: 1, http: 503 },
  FRESCO_ERR_UNAUTHORIZED: { summary: 'An admin operation was called without the right bearer token.', exit: 1, http: 401 },
  FRESCO_ERR_PAYLOAD_TOO_LARGE: { summary: 'A request body is larger than the endpoint accepts; split it into smaller requests.', exit: 1, http: 413 },
  FRESCO_ERR_UNSUPPORTED_ENCODING: { summary: 'A request body has a Content-Encoding the server does not decode (it decodes gzip and deflate).', exit: 1, http: 415 },
  FRESCO_ERR_CONTRACT_CHANGED: { summary: 'A hot swap, alias move or traffic split would give a served ref a version that takes other inputs (input kind, tensor inputs, or the entity keys and request fields of a dataframe model); it is refused unless forced.', exit: 1, http: 409 },
  FRESCO_ERR_FEATURES_MISSING: { summary: "A dataframe row's entity has no row, or only an expired one, in a looked-up online table, and the model's missingFeatures policy is `fail`; the other rows are answered.", exit: 1, http: 404 },
  FRESCO_ERR_MODEL_LOAD_FAILED: { summary: 'A model version failed to load or warm up; the version that was serving keeps serving.', exit: 1, http: 422 },
  FRESCO_ERR_PYTHON_ENV_FAILED: { summary: "A Python model package's environment could not be built: pip could not install requirements.txt or the local package (its own words follow), or numpy is missing; nothing was registered.", exit: 1, http: 422 },
  FRESCO_ERR_SYSTEM_PACKAGE_MISSING: { summary: "A system package listed in a Python model package's packages.txt is not installed on this machine (the message names it).", exit: 1, http: 422 },
  FRESCO_ERR_PREDICT_FAILED: { summary: "A Python or custom (TypeScript) model's predict() raised, or returned outputs that do not match the signature; that batch's requests fail and the stack trace is in the server log.", exit: 1, http: 500 },
  FRESCO_ERR_PYTHON_WORKER_DIED: { summary: 'The Python worker process running a batch died (a crash, os._exit, an OOM kill); its batch fails, and it is restarted with backoff.', exit: 1, http: 503 },
  FRESCO_ERR_INTERNAL: { summary: 'A bug in Fresco: please report it with the message.', exit: 1, http: 500 },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where an error happened, when it is known: a file and a position in it, a key, a column... */
export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  key?: string;
  requestId?: string;
}

export class FrescoError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation | undefined;

  constructor(code: ErrorCode, message: string, options: { location?: ErrorLocation; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FrescoError';
    this.code = code;
    this.location = options.location;
  }

  get exitCode(): 1 | 2 {
    return ERROR_CODES[this.code].exit;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  toJSON(): { code: ErrorCode; message: string; location?: ErrorLocation } {
    return this.location ? { code: this.code, message: this.message, location: this.location } : { code: this.code, message: this.message };
  }
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** Wraps anything thrown into a FrescoError, keeping Fresco's own errors as they are. */
export function toFrescoError(error: unknown): FrescoError {
  if (error instanceof FrescoError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FrescoError('FRESCO_ERR_INTERNAL', message, { cause: error });
}
