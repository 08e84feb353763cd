/**
 * How an outgoing HTTP request that undici ended with an error is recorded: `timeout`, `abort`,
 * `error`, or the error `response` it was when the caller discarded the body of an error status.
 * The rules are told in `MonitorHttpOptions.timeoutMs` and the README's adapter section.
 */

/** What the response headers said, once they arrived. */
export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** From the start of the request to the headers, ms. */
  readonly ttfbMs: number;
}

/** When a plain abort counts as an SDK's timeout (see `MonitorHttpOptions.timeoutMs`). */
export interface TimeoutRule {
  /** The SDK's timeout, ms. */
  readonly timeoutMs: number;
  /** How much shorter a request may last and still count, ms. */
  readonly toleranceMs: number;
}

/** The kind recorded for a request that ended in an error. */
export type ErrorOutcome = 'response' | 'timeout' | 'abort' | 'error';

/** The largest default tolerance, ms (the default is a tenth of `timeoutMs`, at most this). */
export const MAX_DEFAULT_TIMEOUT_TOLERANCE_MS = 100;

const TIMEOUT_ERROR_NAMES = new Set([
  'TimeoutError',
  'HeadersTimeoutError',
  'BodyTimeoutError',
  'ConnectTimeoutError',
]);
const TIMEOUT_ERROR_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/**
 * The timeout rule for the adapter's options; undefined (plain aborts are never timeouts) without
 * `timeoutMs`. The tolerance defaults to a tenth of `timeoutMs`, at most
 * {@link MAX_DEFAULT_TIMEOUT_TOLERANCE_MS}.
 */
export function resolveTimeoutRule(
  timeoutMs: number | undefined,
  toleranceMs: number | undefined,
): TimeoutRule | undefined {
  if (timeoutMs === undefined) return undefined;
  return {
    timeoutMs,
    toleranceMs: toleranceMs ?? Math.min(MAX_DEFAULT_TIMEOUT_TOLERANCE_MS, timeoutMs / 10),
  };
}

/**
 * The kind to record for a request that ended with `error` after `durationMs`; `head` is set when
 * the response headers had arrived.
 *
 * - An error status whose body the caller discarded is the `response` it was: openai cancels a
 *   429's body before it retries, and when that body comes after the headers the request ends in
 *   an abort instead of trailers; whether the body was in the headers' packet must not matter.
 * - Timeout errors (`AbortSignal.timeout`, undici's connect/headers/body timeouts) are `timeout`.
 * - A plain `AbortError` is `timeout` only before the headers, at least
 *   `timeoutMs − toleranceMs` after the start (an SDK's own timer: openai's covers the wait for
 *   the headers and is cleared once they are in); otherwise `abort`, the caller's choice.
 * - Anything else (refused, reset, DNS, …) is `error`.
 */
export function classifyError(
  error: unknown,
  durationMs: number,
  head: ResponseHead | undefined,
  rule: TimeoutRule | undefined,
): ErrorOutcome {
  if (typeof error !== 'object' || error === null) return 'error';
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (typeof name === 'string' && TIMEOUT_ERROR_NAMES.has(name)) return 'timeout';
  if (typeof code === 'string' && TIMEOUT_ERROR_CODES.has(code)) return 'timeout';
  if (name === 'AbortError') {
    if (head !== undefined) return head.status >= 400 ? 'response' : 'abort';
    const isSdkTimeout = rule !== undefined && durationMs >= rule.timeoutMs - rule.toleranceMs;
    return isSdkTimeout ? 'timeout' : 'abort';
  }
  return 'error';
}

/** `HTTP 429 Too Many Requests` for an error status, else undefined. */
export function httpError(head: ResponseHead): string | undefined {
  if (head.status < 400) return undefined;
  return `HTTP ${head.status}${head.statusText === '' ? '' : ` ${head.statusText}`}`;
}

/** The error's message with anything that looks like a query string cut out. */
export function errorMessage(error: unknown): string {
  const text =
    error instanceof Error
      ? error.message || error.name
      : typeof error === 'string'
        ? error
        : 'request failed';
  return text.replace(/\?\S*/g, '?…');
}
