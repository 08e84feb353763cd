/**
 * Options of `createMonitoringServer`: one zod schema with every default, range and cross-field
 * rule. Host, port and token reuse the service fields of `src/options.ts` (the same rules as
 * `MONITOR_HOST`, `MONITOR_PORT` and `MONITOR_TOKEN`), so no rule is written twice.
 */
import { isIP } from 'node:net';
import type { LoggerOptions } from 'pino';
import { z } from 'zod';
import { describeValue } from '../core/errors.js';
import type { QueryLimits } from '../core/query.js';
import { parseWith } from '../core/validate.js';
import { SERVICE_DEFAULTS, serviceFields } from '../options.js';

/** Limits the service enforces on clients. Every field is optional; defaults are in {@link DEFAULT_LIMITS}. */
export interface ServerLimits {
  /** Largest HTTP request body, bytes. Default 1 MiB. */
  bodyBytes?: number;
  /** Most events in one `POST /api/events` batch. Default 1,000. */
  batchEvents?: number;
  /** Largest WebSocket message answered normally; bigger ones get a `CM_ERR_PAYLOAD_TOO_LARGE` reply. At most `wsFrameBytes`. Default 64 KiB. */
  wsMessageBytes?: number;
  /** Largest WebSocket frame at all; bigger ones close the connection with 1009. Default 1 MiB. */
  wsFrameBytes?: number;
  /** Client messages per second per connection (token bucket, burst of twice this). Default 50. */
  wsMessagesPerSecond?: number;
  /** Events per second streamed to one subscriber; above it events are sampled evenly and counted as dropped. Default 1,000. */
  wsEventsPerSecond?: number;
  /** Outgoing bytes buffered for one connection above which events are dropped for it. Default 1 MiB. */
  wsBufferedBytes?: number;
  /** Outgoing bytes buffered for one connection above which it is terminated at once. Default 8 MiB. */
  wsCloseBufferedBytes?: number;
  /** A connection that stays above `wsBufferedBytes` this long is closed (code 1013), ms. Default 10,000. */
  wsSlowConsumerMs?: number;
  /** Most open WebSocket connections; more are closed at once with 1013. Default 256. */
  wsConnections?: number;
  /**
   * Most points one time-series answer may have ((to − from) / bucket); more is a 400 naming
   * `bucket`. Default 2,000, which every bucket fits at the default retentions (1m over 24 h:
   * 1,441; 1h over 30 days: 721; 1d over 365 days: 366); a longer configured retention can
   * exceed it for small buckets, and then the query needs a larger bucket or a shorter range.
   */
  seriesPoints?: number;
  /**
   * Longest `from`…`to` span of a history query (`/api/events`, `historical`), ms, after
   * clipping to retention; more is a 400 naming `from`. Default 7 days. Time series are not
   * bounded by it: their range is clipped to the retention of the resolution they read (minutes:
   * `retentionMs`, hours: `hourlyRetentionMs`, days: `dailyRetentionMs`) and their size bounded
   * by `seriesPoints`.
   */
  rangeMs?: number;
  /** Events per second one client may post to `POST /api/events` (token bucket). Default 10,000. */
  ingestEventsPerSecond?: number;
  /** Most events one client may post at once (the bucket's size); at least `batchEvents`. Default 20,000. */
  ingestBurst?: number;
  /** Requests per minute one client may make to every route but `/healthz` and `POST /api/events` (fixed one-minute window, @fastify/rate-limit). Default 6,000. */
  requestsPerMinute?: number;
  /** Most clients whose rate-limit state is kept, for each of the two limits; beyond it the least recently seen is forgotten (and starts again with a full budget). Default 10,000. */
  rateLimitClients?: number;
}

/** CORS settings; CORS is off unless given. */
export interface CorsOptions {
  /** Exact origins allowed to call the API from a browser, e.g. `https://ops.example.com`. */
  origins: readonly string[];
}

/** Options of {@link createMonitoringServer}. */
export interface MonitoringServerOptions {
  /** Bind address. Default `127.0.0.1`. A non-loopback address requires `token`. */
  host?: string;
  /** Port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Bearer token for everything but `/healthz`; at least 12 characters, no spaces. Default none (no auth); `''` counts as none. */
  token?: string | undefined;
  /** pino options for the request logger, or false for none. Default false. */
  logger?: LoggerOptions | false;
  /** CORS: off by default. */
  cors?: CorsOptions | false;
  /** Client limits; see {@link ServerLimits}. */
  limits?: ServerLimits;
  /** Interval of `stats` messages to subscribers, ms, from 10 to 2,147,483,647. Default 1,000. */
  statsIntervalMs?: number;
  /** Also export prom-client's default process metrics on `/metrics`. Default false. */
  processMetrics?: boolean;
  /** Directory of the built dashboard. Default `<package root>/dist/dashboard`. */
  dashboardDir?: string;
  /**
   * Which proxies in front of the service to trust for the client address (`X-Forwarded-For`),
   * which the rate limits count by: `true` (any) or the proxies' addresses (`'127.0.0.1'`,
   * `'10.0.0.0/8'`, `'loopback'`; an array or a comma-separated string). Default false: the
   * address of the TCP peer. Behind a proxy, without it every client counts as the proxy.
   */
  trustProxy?: boolean | string | readonly string[];
  /** Send `Strict-Transport-Security` (365 days, includeSubDomains): only when every client reaches the service over HTTPS (a TLS-terminating proxy). Default false. */
  hsts?: boolean;
}

/** Any size, count or time limit: a whole number ≥ 1 (no upper bound). */
const limit = z
  .number({ error: 'must be a whole number ≥ 1' })
  .int({ error: 'must be a whole number ≥ 1' })
  .min(1, { error: 'must be a whole number ≥ 1' });

const limitsSchema = z
  .strictObject({
    bodyBytes: limit.default(1_048_576),
    batchEvents: limit.default(1_000),
    wsMessageBytes: limit.default(65_536),
    wsFrameBytes: limit.default(1_048_576),
    wsMessagesPerSecond: limit.default(50),
    wsEventsPerSecond: limit.default(1_000),
    wsBufferedBytes: limit.default(1_048_576),
    wsCloseBufferedBytes: limit.default(8_388_608),
    wsSlowConsumerMs: limit.default(10_000),
    wsConnections: limit.default(256),
    seriesPoints: limit.default(2_000),
    rangeMs: limit.default(7 * 86_400_000),
    ingestEventsPerSecond: limit.default(10_000),
    ingestBurst: limit.default(20_000),
    requestsPerMinute: limit.default(6_000),
    rateLimitClients: limit.default(10_000),
  })
  // A message over the frame limit never reaches the message check: ws closes the connection.
  .refine((l) => l.wsMessageBytes <= l.wsFrameBytes, {
    path: ['wsMessageBytes'],
    error: (iss) =>
      `must not exceed limits.wsFrameBytes (${(iss.input as { wsFrameBytes: number }).wsFrameBytes})`,
  })
  // A request is admitted whole or not at all, so a full batch must fit in the bucket.
  .refine((l) => l.ingestBurst >= l.batchEvents, {
    path: ['ingestBurst'],
    error: (iss) =>
      `must be at least limits.batchEvents (${(iss.input as { batchEvents: number }).batchEvents}), or a full batch could never be accepted`,
  });

/** Default client limits. */
export const DEFAULT_LIMITS: Readonly<Required<ServerLimits>> = Object.freeze(
  limitsSchema.parse({}),
);

const ORIGIN_PATTERN = /^https?:\/\/[^/\s]+$/;

/** Longest `setInterval` delay Node honours (a longer one fires at once). */
const MAX_INTERVAL_MS = 2_147_483_647;

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** One `trustProxy` address as proxy-addr (Fastify) reads it: an IP, IP/prefix, IP/netmask or a name. */
function isProxyAddress(entry: string): boolean {
  const [ip = '', range, ...rest] = entry.trim().split('/');
  if (rest.length > 0) return false;
  if (range === undefined) return PROXY_NAMES.has(ip) || isIP(ip) !== 0;
  const max = isIP(ip) === 4 ? 32 : isIP(ip) === 6 ? 128 : -1;
  if (max < 0) return false;
  return /^\d{1,3}$/.test(range) ? Number(range) <= max : isIP(range) === isIP(ip);
}

const TRUST_PROXY_RULE =
  'must be true, false, or proxy addresses (IP, IP/prefix, loopback, linklocal, uniquelocal) as an array or a comma-separated string';

const trustProxySchema = z
  .custom<boolean | string | string[]>(
    (v) =>
      typeof v === 'boolean' ||
      (typeof v === 'string' && v.split(',').every(isProxyAddress)) ||
      (Array.isArray(v) &&
        v.length > 0 &&
        v.every((e) => typeof e === 'string' && isProxyAddress(e))),
    { error: TRUST_PROXY_RULE },
  )
  .default(false);

/** True for 127.0.0.0/8, ::1, localhost and their bracketed forms. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

const serverOptionsSchema = z
  .strictObject({
    host: serviceFields.host.default(SERVICE_DEFAULTS.host),
    port: serviceFields.port.default(SERVICE_DEFAULTS.port),
    // '' counts as no token, as an empty MONITOR_TOKEN does.
    token: z.preprocess((t) => (t === '' ? undefined : t), serviceFields.token.optional()),
    logger: z
      .custom<LoggerOptions | false>((v) => v === false || (typeof v === 'object' && v !== null), {
        error: 'must be pino options or false',
      })
      .default(false),
    cors: z
      .union([
        z.literal(false),
        z.strictObject({
          origins: z
            .array(z.string(), { error: 'must be an array of origins' })
            .superRefine((origins, ctx) => {
              const bad = origins.find((o) => !ORIGIN_PATTERN.test(o));
              if (bad === undefined) return;
              ctx.addIssue({
                code: 'custom',
                message: `expected origins like https://host[:port], got ${describeValue(bad)}`,
              });
            }),
        }),
      ])
      .optional(),
    limits: limitsSchema.default(DEFAULT_LIMITS),
    statsIntervalMs: z
      .number({ error: `must be a number of milliseconds from 10 to ${MAX_INTERVAL_MS}` })
      .min(10, { error: `must be a number of milliseconds from 10 to ${MAX_INTERVAL_MS}` })
      .max(MAX_INTERVAL_MS, {
        error: `must be a number of milliseconds from 10 to ${MAX_INTERVAL_MS}`,
      })
      .default(1_000),
    processMetrics: z.boolean({ error: 'must be true or false' }).default(false),
    dashboardDir: z.string({ error: 'must be a directory path' }).min(1).optional(),
    trustProxy: trustProxySchema,
    hsts: z.boolean({ error: 'must be true or false' }).default(false),
  })
  .refine((o) => o.token !== undefined || isLoopbackHost(o.host), {
    path: ['token'],
    error: (iss) =>
      `refusing to listen on non-loopback host ${(iss.input as { host: string }).host} without a token: set MONITOR_TOKEN (or the token option), or bind 127.0.0.1`,
  });

/** Options after defaults. */
export interface ResolvedServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly logger: LoggerOptions | false;
  readonly corsOrigins: ReadonlySet<string>;
  readonly limits: Readonly<Required<ServerLimits>>;
  /** The limits the monitor applies to every history and time-series query of this server. */
  readonly queryLimits: QueryLimits;
  readonly statsIntervalMs: number;
  readonly processMetrics: boolean;
  readonly dashboardDir: string | undefined;
  readonly trustProxy: boolean | string | readonly string[];
  readonly hsts: boolean;
}

/** The value of option `path` as given, when it is short enough to show (never the token). */
function givenValue(options: object, path: string): unknown {
  if (path === 'token') return undefined;
  let v: unknown = options;
  for (const key of path.split(/[.[\]]+/).filter((k) => k !== '')) {
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  }
  return typeof v === 'object' && v !== null ? undefined : v;
}

/** Merges defaults and checks invariants once. Throws `CM_ERR_CONFIG` naming the option. */
export function resolveServerOptions(options: MonitoringServerOptions = {}): ResolvedServerOptions {
  const o = parseWith(serverOptionsSchema, options, 'CM_ERR_CONFIG', 'options', (issue) => {
    const value = issue.isUnknownKey ? undefined : givenValue(options, issue.path);
    const name = `server option ${issue.path || 'options'}`;
    return {
      message:
        value === undefined
          ? `${name}: ${issue.message}`
          : `${name}=${describeValue(value)} is not allowed: ${issue.message}`,
      value,
    };
  });
  return {
    host: o.host,
    port: o.port,
    token: o.token,
    logger: o.logger,
    corsOrigins: new Set(o.cors === false || o.cors === undefined ? [] : o.cors.origins),
    limits: o.limits,
    queryLimits: { maxRangeMs: o.limits.rangeMs, maxPoints: o.limits.seriesPoints },
    statsIntervalMs: o.statsIntervalMs,
    processMetrics: o.processMetrics,
    dashboardDir: o.dashboardDir,
    trustProxy: o.trustProxy,
    hsts: o.hsts,
  };
}
