/**
 * Outgoing HTTP through undici's `diagnostics_channel` events, which Node's global `fetch` (and so
 * supabase-js and OpenAI-compatible SDKs) and the `undici` package publish. No monkey-patching:
 * the adapter only subscribes to `undici:request:create`, `undici:request:headers`,
 * `undici:request:trailers` and `undici:request:error`.
 */
import diagnostics from 'node:diagnostics_channel';
import { z } from 'zod';
import { nameSchema } from '../core/validate.js';
import type { ConnectionMonitor } from '../monitor.js';
import {
  SafeRecorder,
  adapterOptionsShape,
  guarded,
  claimTarget,
  parseAdapterOptions,
  stripQuery,
  type AdapterOptions,
  type Disposer,
} from './adapter.js';

/** The undici channels the adapter subscribes to (Node ≥ 18.19 / undici ≥ 5.x). */
export const UNDICI_CHANNELS = {
  create: 'undici:request:create',
  headers: 'undici:request:headers',
  trailers: 'undici:request:trailers',
  error: 'undici:request:error',
} as const;

/** Maps requests to a connection type by host (and optionally port). */
export interface HttpRoute {
  /** Connection type recorded for matching requests, e.g. `kimi`. */
  type: string;
  /** Exact host name (case-insensitive, no port) or a RegExp tested against the host name. */
  host: string | RegExp;
  /** Only requests to this port match (default ports count: 80 for http, 443 for https). */
  port?: number;
}

/** Options of {@link monitorHttp}. */
export interface MonitorHttpOptions extends AdapterOptions {
  /** Routes tried in order; the first match wins. Unmatched requests are ignored unless `defaultType` is set. */
  routes: readonly HttpRoute[];
  /** Connection type for requests no route matches. Default: none (they are not recorded). */
  defaultType?: string;
  /**
   * A request aborted with a plain `AbortError` after at least this many ms is recorded as a
   * `timeout` rather than an `abort`: SDKs that implement their timeout with an AbortController
   * abort that way. Default: none (only real timeout errors count as timeouts).
   */
  timeoutMs?: number;
  /** Record a `request` event when each request starts. Default `true`. */
  requestEvents?: boolean;
}

const routeSchema = z.strictObject({
  type: nameSchema,
  host: z.union([z.string().min(1), z.instanceof(RegExp)], {
    error: 'must be a host name or a RegExp',
  }),
  port: z
    .number({ error: 'must be a whole number from 0 to 65535' })
    .int({ error: 'must be a whole number from 0 to 65535' })
    .min(0, { error: 'must be a whole number from 0 to 65535' })
    .max(65_535, { error: 'must be a whole number from 0 to 65535' })
    .optional(),
});

const optionsSchema = z.strictObject({
  ...adapterOptionsShape,
  routes: z.array(routeSchema, { error: 'must be an array of routes { type, host, port? }' }),
  defaultType: nameSchema.optional(),
  timeoutMs: z
    .number({ error: 'must be a number of milliseconds from 0 to 2147483648' })
    .min(0, { error: 'must be a number of milliseconds from 0 to 2147483648' })
    .max(2 ** 31, { error: 'must be a number of milliseconds from 0 to 2147483648' })
    .optional(),
  requestEvents: z.boolean({ error: 'must be true or false' }).default(true),
});

interface CompiledRoute {
  readonly recorder: SafeRecorder;
  readonly host: string | RegExp;
  readonly port: number | undefined;
}

interface OriginInfo {
  readonly recorder: SafeRecorder;
  readonly host: string;
}

interface InFlight {
  readonly recorder: SafeRecorder;
  readonly startedAt: number;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  status: number;
  statusText: string;
  ttfbMs: number;
}

/** The fields of undici's request object the adapter reads. */
interface UndiciRequest {
  origin?: unknown;
  method?: unknown;
  path?: unknown;
}

interface UndiciMessage {
  request: UndiciRequest;
  response?: { statusCode?: unknown; statusText?: unknown };
  error?: unknown;
}

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
const ORIGIN_CACHE_MAX = 1024;
/**
 * Most requests tracked at once. A request whose response body is never read ends with neither
 * trailers nor an error; beyond this many in flight the oldest entry is forgotten, so such
 * requests cannot grow memory.
 */
const IN_FLIGHT_MAX = 10_000;
const NO_MATCH = null;
/** One guard key per monitor: the undici channels are process-wide. */
const HTTP_TARGET = {};

/**
 * Records outgoing HTTP requests (global `fetch`, undici) to hosts named in `routes`:
 * `request` when one starts (metadata method, host, path without query string), then exactly one
 * of `response` (durationMs from start to the end of the body, metadata status and ttfbMs; status
 * ≥ 400 carries `error: "HTTP <status> <text>"` and so counts as an error), `timeout` (a timeout
 * error such as `AbortSignal.timeout`, undici's header/body/connect timeouts, or see `timeoutMs`),
 * `abort` (aborted by the caller; not an error) or `error` (connection refused, reset, DNS, …).
 * Query strings, headers (so `Authorization`) and bodies are never read.
 *
 * A response whose body is never consumed and does not fit undici's buffer never completes, so it
 * gets no `response` event (its state is dropped once {@link IN_FLIGHT_MAX} newer requests are in
 * flight).
 *
 * @returns a disposer that unsubscribes from every channel.
 * @throws MonitorError `CM_ERR_CONFIG` for a bad option, or when `monitorHttp` is already attached
 *   for this monitor (field `target`): pass all routes in one call.
 */
export function monitorHttp(monitor: ConnectionMonitor, options: MonitorHttpOptions): Disposer {
  const o = parseAdapterOptions('monitorHttp', monitor, optionsSchema, options);
  const timeoutMs = o.timeoutMs;
  const hasRequestEvents = o.requestEvents;
  const recorders = new Map<string, SafeRecorder>();
  const recorderFor = (type: string): SafeRecorder => {
    let r = recorders.get(type);
    if (r === undefined) {
      r = new SafeRecorder(monitor, type, 'http', o.onError, () => dispose());
      recorders.set(type, r);
    }
    return r;
  };
  const routes: CompiledRoute[] = o.routes.map(({ type, host, port }) => ({
    recorder: recorderFor(type),
    host: typeof host === 'string' ? host.toLowerCase() : host,
    port,
  }));
  const defaultRecorder = o.defaultType === undefined ? undefined : recorderFor(o.defaultType);
  const release = claimTarget(HTTP_TARGET, monitor, 'monitorHttp');

  // Origins repeat (one per backend), so route matching runs once per origin, not per request.
  const origins = new Map<string, OriginInfo | typeof NO_MATCH>();
  const resolveOrigin = (origin: string): OriginInfo | typeof NO_MATCH => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return NO_MATCH;
    }
    const host = url.hostname;
    const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    for (const r of routes) {
      if (r.port !== undefined && r.port !== port) continue;
      if (typeof r.host === 'string' ? r.host === host : testRegExp(r.host, host)) {
        return { recorder: r.recorder, host };
      }
    }
    return defaultRecorder === undefined ? NO_MATCH : { recorder: defaultRecorder, host };
  };

  // A Map, not a WeakMap: entries live for one request, and ephemeron tables make every GC
  // more expensive for the instrumented process (measured: ~2 % of a loopback fetch's CPU time).
  // Bounded by IN_FLIGHT_MAX instead.
  const inFlight = new Map<object, InFlight>();

  const onCreate = (message: unknown): void => {
    {
      const request = (message as UndiciMessage).request;
      const origin = String(request.origin);
      let info = origins.get(origin);
      if (info === undefined) {
        info = resolveOrigin(origin);
        if (origins.size >= ORIGIN_CACHE_MAX) origins.clear();
        origins.set(origin, info);
      }
      if (info === NO_MATCH) return;
      const state: InFlight = {
        recorder: info.recorder,
        startedAt: performance.now(),
        method: typeof request.method === 'string' ? request.method : 'GET',
        host: info.host,
        path: typeof request.path === 'string' ? stripQuery(request.path) : '/',
        status: 0,
        statusText: '',
        ttfbMs: -1,
      };
      if (inFlight.size >= IN_FLIGHT_MAX) {
        const oldest = inFlight.keys().next();
        if (oldest.done !== true) inFlight.delete(oldest.value);
      }
      inFlight.set(request, state);
      if (hasRequestEvents) {
        state.recorder.record({
          kind: 'request',
          metadata: { method: state.method, host: state.host, path: state.path },
        });
      }
    }
  };

  const onHeaders = (message: unknown): void => {
    const { request, response } = message as UndiciMessage;
    const state = inFlight.get(request);
    if (state === undefined || response === undefined) return;
    state.status = typeof response.statusCode === 'number' ? response.statusCode : 0;
    state.statusText = typeof response.statusText === 'string' ? response.statusText : '';
    state.ttfbMs = performance.now() - state.startedAt;
  };

  const onTrailers = (message: unknown): void => {
    const { request } = message as UndiciMessage;
    const state = inFlight.get(request);
    if (state === undefined) return;
    inFlight.delete(request);
    const status = state.status;
    state.recorder.record({
      kind: 'response',
      durationMs: performance.now() - state.startedAt,
      error:
        status >= 400
          ? `HTTP ${status}${state.statusText === '' ? '' : ` ${state.statusText}`}`
          : undefined,
      metadata: {
        method: state.method,
        host: state.host,
        path: state.path,
        status,
        ttfbMs: round3(state.ttfbMs),
      },
    });
  };

  const onError = (message: unknown): void => {
    const { request, error } = message as UndiciMessage;
    const state = inFlight.get(request);
    if (state === undefined) return;
    inFlight.delete(request);
    const durationMs = performance.now() - state.startedAt;
    const kind = classifyError(error, durationMs, timeoutMs);
    const code = (error as { code?: unknown } | null)?.code;
    const metadata: Record<string, string | number> = {
      method: state.method,
      host: state.host,
      path: state.path,
    };
    if (state.status !== 0) metadata.status = state.status;
    if (typeof code === 'string') metadata.errorCode = code;
    state.recorder.record({
      kind,
      durationMs,
      // An abort is the caller's choice, not a failure of the backend: no error message.
      error: kind === 'abort' ? undefined : errorMessage(error),
      metadata,
    });
  };

  const failures = defaultRecorder ?? routes[0]?.recorder;
  const subscriptions: [string, (message: unknown) => void][] = [
    [UNDICI_CHANNELS.create, guarded(failures, onCreate)],
    [UNDICI_CHANNELS.headers, guarded(failures, onHeaders)],
    [UNDICI_CHANNELS.trailers, guarded(failures, onTrailers)],
    [UNDICI_CHANNELS.error, guarded(failures, onError)],
  ];
  for (const [name, fn] of subscriptions) diagnostics.subscribe(name, fn);

  let isDisposed = false;
  const dispose: Disposer = () => {
    if (isDisposed) return;
    isDisposed = true;
    for (const [name, fn] of subscriptions) diagnostics.unsubscribe(name, fn);
    for (const r of recorders.values()) r.stop();
    release();
  };
  return dispose;
}

/** `timeout`, `abort` or `error` for an undici request error. */
function classifyError(
  error: unknown,
  durationMs: number,
  timeoutMs: number | undefined,
): 'timeout' | 'abort' | 'error' {
  if (typeof error !== 'object' || error === null) return 'error';
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (typeof name === 'string' && TIMEOUT_ERROR_NAMES.has(name)) return 'timeout';
  if (typeof code === 'string' && TIMEOUT_ERROR_CODES.has(code)) return 'timeout';
  if (name === 'AbortError') {
    return timeoutMs !== undefined && durationMs >= timeoutMs ? 'timeout' : 'abort';
  }
  return 'error';
}

/** The error's message with anything that looks like a query string cut out. */
function errorMessage(error: unknown): string {
  const text =
    error instanceof Error
      ? error.message || error.name
      : typeof error === 'string'
        ? error
        : 'request failed';
  return text.replace(/\?\S*/g, '?…');
}

function testRegExp(re: RegExp, host: string): boolean {
  // A global or sticky RegExp keeps state between calls; start from 0 every time.
  re.lastIndex = 0;
  return re.test(host);
}

function round3(ms: number): number {
  return ms < 0 ? -1 : Math.round(ms * 1000) / 1000;
}
