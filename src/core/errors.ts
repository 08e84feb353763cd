/**
 * Stable error codes. Callers branch on `code`, never on message text.
 */
export type ErrorCode =
  | 'CM_ERR_INVALID_EVENT'
  | 'CM_ERR_CONFIG'
  | 'CM_ERR_INVALID_QUERY'
  | 'CM_ERR_CLOSED'
  | 'CM_ERR_PERSISTENCE'
  | 'CM_ERR_CIRCUIT_OPEN'
  | 'CM_ERR_TIMEOUT'
  | 'CM_ERR_BAD_REQUEST'
  | 'CM_ERR_UNAUTHORIZED'
  | 'CM_ERR_NOT_FOUND'
  | 'CM_ERR_PAYLOAD_TOO_LARGE'
  | 'CM_ERR_RATE_LIMITED'
  | 'CM_ERR_INTERNAL';

/** Extra context attached to a {@link MonitorError}. */
export interface MonitorErrorDetails {
  /** The field, parameter or variable that was wrong (e.g. `durationMs`, `REDIS_BATCH_SIZE`). */
  readonly field?: string;
  /** The offending value, already made safe to print (never a secret). */
  readonly value?: unknown;
  /** The underlying error, if any. */
  readonly cause?: unknown;
}

/**
 * The one error class of the library. `code` is stable; `field` names what was wrong.
 */
export class MonitorError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** The field, parameter or variable that was wrong, when there is one. */
  readonly field: string | undefined;
  /** The offending value (safe to print), when there is one. */
  readonly value: unknown;

  constructor(code: ErrorCode, message: string, details: MonitorErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MonitorError';
    this.code = code;
    this.field = details.field;
    this.value = details.value;
  }
}

/** True when `err` is a {@link MonitorError}, optionally with the given code. Checks `code`, not `instanceof`. */
export function isMonitorError(err: unknown, code?: ErrorCode): err is MonitorError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  if (typeof c !== 'string' || !c.startsWith('CM_ERR_')) return false;
  return code === undefined || c === code;
}

/** Renders a value for an error message: short, quoted strings, no huge dumps. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null)
    return String(value);
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}
