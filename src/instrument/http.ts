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
import {
  classifyError,
  errorMessage,
  httpError,
  resolveTimeoutRule,
  type ResponseHead,
} from './http-outcome.js';

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
   * The SDK's own timeout (openai's `timeout`), in ms: a request aborted with a plain `AbortError`
   * before its response headers arrived, at least `timeoutMs − timeoutToleranceMs` after it
   * started, is recorded as a `timeout` rather than an `abort` — SDKs that implement their timeout
   * with an AbortController abort that way. A plain abort after the headers is always the caller's
   * (openai clears its timer once the headers are in). Default: none (only real timeout errors
   * count as timeouts).
   */
  timeoutMs?: number;
  /**
   * How much shorter than `timeoutMs` a request may last and still count as a timeout, in ms. The
   * SDK arms its timer before it calls fetch, and fetch runs before undici publishes the request
   * (about 1 ms; tens of ms on a process's first request, which compiles fetch's code), so the
   * duration measured here falls short of the SDK's timeout by that much. Default: a tenth of
   * `timeoutMs`, at most 100 ms.
   */
  timeoutToleranceMs?: number;
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
  timeoutToleranceMs: z
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
  /** Unset until the response headers arrive. */
  head: ResponseHead | undefined;
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

const ORIGIN_CACHE_MAX = 1024;
/**
 * Most requests tracked at once. A request whose response body is never read ends with neither
 * trailers nor an error; beyond this many in flight the oldest entry is forgotten, so such
 * requests cannot grow memory.
 */
const IN_FLIGHT_MAX = 10_000;
const NO_MATCH = null;
const NO_HEAD: ResponseHead = { status: 0, statusText: '', ttfbMs: -1 };
/** One guard key per monitor: the undici channels are process-wide. */
const HTTP_TARGET = {};

/**
 * Records outgoing HTTP requests (global `fetch`, undici) to hosts named in `routes`:
 * `request` when one starts (metadata method, host, path without query string), then exactly one
 * of `response` (durationMs from start to the end of the body, metadata status and ttfbMs; status
 * ≥ 400 carries `error: "HTTP <status> <text>"` and so counts as an error, also when the caller
 * discards the body, as openai does before it retries a 429), `timeout` (a timeout error such as
 * `AbortSignal.timeout`, undici's header/body/connect timeouts, or see `timeoutMs`), `abort`
 * (aborted by the caller; not an error) or `error` (connection refused, reset, DNS, …). Once the
 * headers arrived, `timeout`, `abort` and `error` carry status and ttfbMs in metadata too.
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
  const timeoutRule = resolveTimeoutRule(o.timeoutMs, o.timeoutToleranceMs);
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
        head: undefined,
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
    state.head = {
      status: typeof response.statusCode === 'number' ? response.statusCode : 0,
      statusText: typeof response.statusText === 'string' ? response.statusText : '',
      ttfbMs: performance.now() - state.startedAt,
    };
  };

  const recordResponse = (state: InFlight): void => {
    // Undici publishes the headers before the end of a request; status 0 would mean it did not.
    const head = state.head ?? NO_HEAD;
    state.recorder.record({
      kind: 'response',
      durationMs: performance.now() - state.startedAt,
      error: httpError(head),
      metadata: {
        method: state.method,
        host: state.host,
        path: state.path,
        status: head.status,
        ttfbMs: round3(head.ttfbMs),
      },
    });
  };

  const onTrailers = (message: unknown): void => {
    const { request } = message as UndiciMessage;
    const state = inFlight.get(request);
    if (state === undefined) return;
    inFlight.delete(request);
    recordResponse(state);
  };

  const onError = (message: unknown): void => {
    const { request, error } = message as UndiciMessage;
    const state = inFlight.get(request);
    if (state === undefined) return;
    inFlight.delete(request);
    const head = state.head;
    const durationMs = performance.now() - state.startedAt;
    const kind = classifyError(error, durationMs, head, timeoutRule);
    if (kind === 'response') {
      recordResponse(state);
      return;
    }
    const code = (error as { code?: unknown } | null)?.code;
    const metadata: Record<string, string | number> = {
      method: state.method,
      host: state.host,
      path: state.path,
    };
    if (head !== undefined) {
      metadata.status = head.status;
      metadata.ttfbMs = round3(head.ttfbMs);
    }
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

function testRegExp(re: RegExp, host: string): boolean {
  // A global or sticky RegExp keeps state between calls; start from 0 every time.
  re.lastIndex = 0;
  return re.test(host);
}

function round3(ms: number): number {
  return ms < 0 ? -1 : Math.round(ms * 1000) / 1000;
}
