import type { LoggerOptions } from 'pino';
import { MonitorError } from '../core/errors.js';

/** Limits the service enforces on clients. Every field is optional; defaults are in {@link DEFAULT_LIMITS}. */
export interface ServerLimits {
  /** Largest HTTP request body, bytes. Default 1 MiB. */
  bodyBytes?: number;
  /** Most events in one `POST /api/events` batch. Default 1,000. */
  batchEvents?: number;
  /** Largest WebSocket message answered normally; bigger ones get a `CM_ERR_PAYLOAD_TOO_LARGE` reply. Default 64 KiB. */
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
  /** Most points one time-series answer may have ((to − from) / bucket). Default 2,000. */
  seriesPoints?: number;
  /** Longest `from`…`to` span of a query, ms (after clipping to retention). Default 7 days. */
  rangeMs?: number;
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
  /** Bearer token for everything but `/healthz`; at least 12 characters. Default none (no auth). */
  token?: string | undefined;
  /** pino options for the request logger, or false for none. Default false. */
  logger?: LoggerOptions | false;
  /** CORS: off by default. */
  cors?: CorsOptions | false;
  /** Client limits; see {@link ServerLimits}. */
  limits?: ServerLimits;
  /** Interval of `stats` messages to subscribers, ms. Default 1,000. */
  statsIntervalMs?: number;
  /** Also export prom-client's default process metrics on `/metrics`. Default false. */
  processMetrics?: boolean;
  /** Directory of the built dashboard. Default `<package root>/dist/dashboard`. */
  dashboardDir?: string;
}

/** Default client limits. */
export const DEFAULT_LIMITS: Readonly<Required<ServerLimits>> = {
  bodyBytes: 1_048_576,
  batchEvents: 1_000,
  wsMessageBytes: 65_536,
  wsFrameBytes: 1_048_576,
  wsMessagesPerSecond: 50,
  wsEventsPerSecond: 1_000,
  wsBufferedBytes: 1_048_576,
  wsCloseBufferedBytes: 8_388_608,
  wsSlowConsumerMs: 10_000,
  wsConnections: 256,
  seriesPoints: 2_000,
  rangeMs: 7 * 86_400_000,
};

/** Options after defaults. */
export interface ResolvedServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly logger: LoggerOptions | false;
  readonly corsOrigins: ReadonlySet<string>;
  readonly limits: Readonly<Required<ServerLimits>>;
  readonly statsIntervalMs: number;
  readonly processMetrics: boolean;
  readonly dashboardDir: string | undefined;
}

/** Shortest accepted token (same rule as `MONITOR_TOKEN`). */
export const MIN_SERVER_TOKEN_LENGTH = 12;

/** True for 127.0.0.0/8, ::1, localhost and their bracketed forms. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

function configError(field: string, message: string): MonitorError {
  return new MonitorError('CM_ERR_CONFIG', `server option ${field}: ${message}`, { field });
}

/** Merges defaults and checks invariants once. Throws `CM_ERR_CONFIG` naming the option. */
export function resolveServerOptions(options: MonitoringServerOptions = {}): ResolvedServerOptions {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw configError('port', `must be a whole number from 0 to 65535, got ${String(port)}`);
  }
  const token = options.token === '' ? undefined : options.token;
  if (token !== undefined && (token.length < MIN_SERVER_TOKEN_LENGTH || /\s/.test(token))) {
    throw configError(
      'token',
      `must be at least ${MIN_SERVER_TOKEN_LENGTH} characters without spaces`,
    );
  }
  if (token === undefined && !isLoopbackHost(host)) {
    throw new MonitorError(
      'CM_ERR_CONFIG',
      `refusing to listen on non-loopback host ${host} without a token: set MONITOR_TOKEN (or the token option), or bind 127.0.0.1`,
      { field: 'token' },
    );
  }
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(options.limits ?? {})) {
    if (!(key in DEFAULT_LIMITS)) throw configError(`limits.${key}`, 'unknown limit');
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw configError(`limits.${key}`, `must be a whole number ≥ 1, got ${String(value)}`);
    }
    (limits as Record<string, number>)[key] = value;
  }
  if (limits.wsMessageBytes > limits.wsFrameBytes) {
    throw configError('limits.wsMessageBytes', 'must not exceed limits.wsFrameBytes');
  }
  const statsIntervalMs = options.statsIntervalMs ?? 1_000;
  if (!Number.isFinite(statsIntervalMs) || statsIntervalMs < 10) {
    throw configError('statsIntervalMs', 'must be a number of milliseconds ≥ 10');
  }
  const origins = options.cors === false || options.cors === undefined ? [] : options.cors.origins;
  for (const o of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) {
      throw configError('cors.origins', `expected origins like https://host[:port], got ${o}`);
    }
  }
  return {
    host,
    port,
    token,
    logger: options.logger ?? false,
    corsOrigins: new Set(origins),
    limits,
    statsIntervalMs,
    processMetrics: options.processMetrics ?? false,
    dashboardDir: options.dashboardDir,
  };
}
