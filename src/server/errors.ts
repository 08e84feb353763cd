import { isMonitorError, type ErrorCode } from '../core/errors.js';

/** How one error code is answered: HTTP status, and the message clients see (null: the error's own). */
interface CodeAnswer {
  readonly status: number;
  /** Fixed public message; null means the error's own message is safe to show (it names the bad input). */
  readonly message: string | null;
}

/**
 * The one table mapping error codes to HTTP status and to the message sent over HTTP and
 * WebSocket. Codes whose own message might carry internals get a fixed public message.
 */
export const ERROR_ANSWERS: Readonly<Record<ErrorCode, CodeAnswer>> = {
  CM_ERR_INVALID_EVENT: { status: 400, message: null },
  CM_ERR_INVALID_QUERY: { status: 400, message: null },
  CM_ERR_BAD_REQUEST: { status: 400, message: null },
  CM_ERR_UNAUTHORIZED: { status: 401, message: 'a valid token is required' },
  CM_ERR_NOT_FOUND: { status: 404, message: null },
  CM_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: null },
  CM_ERR_RATE_LIMITED: { status: 429, message: null },
  CM_ERR_CLOSED: { status: 503, message: 'the monitor is shutting down' },
  CM_ERR_PERSISTENCE: { status: 503, message: 'persistence is unavailable' },
  CM_ERR_CIRCUIT_OPEN: { status: 503, message: 'persistence is unavailable (circuit open)' },
  CM_ERR_TIMEOUT: { status: 504, message: 'the operation timed out' },
  CM_ERR_CONFIG: { status: 500, message: 'internal error' },
  CM_ERR_INTERNAL: { status: 500, message: 'internal error' },
};

/** An error as sent to a client: never a stack, never a secret. */
export interface WireError {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
  readonly field?: string;
}

/** Fastify's own client errors carry `statusCode`; map them onto our codes. */
function codeOfStatus(status: number): ErrorCode {
  if (status === 404) return 'CM_ERR_NOT_FOUND';
  if (status === 413) return 'CM_ERR_PAYLOAD_TOO_LARGE';
  if (status === 429) return 'CM_ERR_RATE_LIMITED';
  if (status === 401) return 'CM_ERR_UNAUTHORIZED';
  if (status >= 400 && status < 500) return 'CM_ERR_BAD_REQUEST';
  return 'CM_ERR_INTERNAL';
}

/** Short fixed messages for Fastify's client errors, so parser internals never leak. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type: send application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the JSON body is empty',
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'content-length does not match the body',
  FST_ERR_BAD_URL: 'the URL is not valid (a bad percent-encoding?)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is too long',
};

/** Turns anything thrown into what the client sees. `isInternal` says whether to log it. */
export function toWireError(err: unknown): WireError & { isInternal: boolean } {
  if (isMonitorError(err) && err.code in ERROR_ANSWERS) {
    const code = err.code;
    const answer = ERROR_ANSWERS[code];
    const field = typeof err.field === 'string' ? err.field : undefined;
    return {
      status: answer.status,
      code,
      message: answer.message ?? err.message,
      ...(field === undefined || answer.message !== null ? {} : { field }),
      isInternal: answer.status >= 500,
    };
  }
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = codeOfStatus(status);
    const fastifyCode = (err as { code?: unknown }).code;
    const message =
      (typeof fastifyCode === 'string' ? FASTIFY_MESSAGES[fastifyCode] : undefined) ??
      (code === 'CM_ERR_NOT_FOUND' ? 'not found' : 'bad request');
    return { status: ERROR_ANSWERS[code].status, code, message, isInternal: false };
  }
  return { status: 500, code: 'CM_ERR_INTERNAL', message: 'internal error', isInternal: true };
}

/** The HTTP error body: `{ error: { code, message, field? } }`. */
export function httpErrorBody(e: WireError): {
  error: { code: ErrorCode; message: string; field?: string };
} {
  return {
    error: {
      code: e.code,
      message: e.message,
      ...(e.field === undefined ? {} : { field: e.field }),
    },
  };
}
