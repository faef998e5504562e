/** Fresco error codes -> gRPC-style status (derived from the one table's HTTP status). */
import { ERROR_CODES, type ErrorCode } from '../errors/index.js';
import type { StatusName } from './protocol/messages.js';

const BY_HTTP: Record<number, StatusName> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'FAILED_PRECONDITION',
  413: 'RESOURCE_EXHAUSTED',
  415: 'UNIMPLEMENTED',
  422: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function rpcStatus(code: ErrorCode): StatusName {
  return BY_HTTP[ERROR_CODES[code].http] ?? 'UNKNOWN';
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};
// Built once per status: this runs for every HTTP answer.
const STATUS_LINES = new Map<number, string>();

export function httpStatusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_TEXT[status] ?? 'Status'}`;
    if (STATUS_LINES.size < 64) STATUS_LINES.set(status, line);
  }
  return line;
}
