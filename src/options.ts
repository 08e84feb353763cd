/**
 * The options of `ConnectionMonitor` and of the service: every default, range and cross-field
 * rule, once, as one zod schema. `config.ts` maps the environment onto these same schemas, and
 * the server's options reuse the service fields, so a rule is never written twice.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import { systemClock, type Clock } from './core/clock.js';
import { describeValue } from './core/errors.js';
import { INSTANCE_ID_PATTERN, INSTANCE_ID_RULE } from './core/event.js';
import type { Persistence } from './core/persistence.js';
import { redactUrl } from './core/redact.js';
import { parseWith } from './core/validate.js';
import { defaultLogger, type Logger } from './logger.js';

/** A Redis Cluster seed node. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** Options of `ConnectionMonitor`. All optional; times in milliseconds. */
export interface MonitorOptions {
  /** Dual-write to Redis. Default `true`. */
  persistence?: boolean;
  /** `redis://` or `rediss://` URL, password allowed (never printed). Default `redis://127.0.0.1:6379`. */
  redisUrl?: string;
  /** Events per script call (a flush sends every waiting batch in one round trip). Default 100. */
  batchSize?: number;
  /** Time between flushes, ms. Default 5,000. */
  flushIntervalMs?: number;
  /** Most events waiting for Redis; beyond it events are dropped and counted. Default 1,000. */
  maxQueueSize?: number;
  /** Retention of raw events and minute rollups in Redis, and the window recovered at start, ms. Default 24 h. */
  retentionMs?: number;
  /** Retention of hour rollups in Redis, ms; at least `retentionMs`. Default 30 days. */
  hourlyRetentionMs?: number;
  /** Retention of day rollups in Redis, ms; at least `hourlyRetentionMs`. Default 365 days. */
  dailyRetentionMs?: number;
  /**
   * A type's first error after this long without one is a notable event (drawn on the charts).
   * Default 1 hour.
   */
  quietPeriodMs?: number;
  /** In-memory events kept per type. Default 10,000. */
  bufferSize?: number;
  /** Consecutive failed flushes that open the circuit. Default 5. */
  breakerFailures?: number;
  /** Time before a recovery attempt when the circuit is open, ms. Default 30,000. */
  breakerResetMs?: number;
  /** Redis command timeout, ms. Default 5,000. */
  socketTimeoutMs?: number;
  /** Redis connect timeout, ms. Default 5,000. */
  connectTimeoutMs?: number;
  /** Redis key prefix. Default `connection_monitor`. */
  keyPrefix?: string;
  /** Redis Cluster seed nodes; switches to cluster mode. Default none. */
  clusterNodes?: ClusterNode[] | undefined;
  /** Id stamped on every event. Default `<hostname>-<pid>`. */
  instanceId?: string;
  /** Deadline for draining the queue in `close()`, ms. Default 10,000. */
  closeTimeoutMs?: number;
  /** Most connection types kept in memory; a new type beyond it is rejected. Default 256. */
  maxTypes?: number;
  /**
   * How far ahead of now an event's timestamp may be, ms (clock skew of producers). Events are
   * accepted within [now − retentionMs, now + maxClockSkewMs]. Default 5 minutes.
   */
  maxClockSkewMs?: number;
  /** Most distinct kinds per type; a new kind beyond it is rejected. Default 64. */
  maxKindsPerType?: number;
  /**
   * Most bytes (estimated) the in-memory event buffers hold together; past it the oldest events
   * across types are evicted (stats stay exact). Default 64 MiB.
   */
  maxMemoryBytes?: number;
  /** Interval of the fleet heartbeat (the instance registry in Redis), ms. Default 5,000. */
  heartbeatMs?: number;
  /**
   * Extra ioredis options (e.g. `{ tls: { ca } }` for a private CA with `rediss://`). The
   * fail-fast settings (no offline queue, no retries per request, command timeout) always win.
   */
  redisOptions?: Partial<RedisOptions>;
  /** Time source. Default `Date.now`. */
  clock?: Clock;
  /** Logger (pino-compatible). Default: pino, warn level, stderr. */
  logger?: Logger;
  /** A custom persistence layer (tests, other stores). Default: Redis when `persistence` is on. */
  persistenceLayer?: Persistence;
}

/** Pattern for key prefixes. */
export const KEY_PREFIX_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Shortest accepted service token (`MONITOR_TOKEN`, the server's `token` option). */
export const MIN_TOKEN_LENGTH = 12;

/** The default instance id: `<hostname>-<pid>`, made safe for ids. */
export function defaultInstanceId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 48) || 'host';
  return `${host}-${process.pid}`;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A duration for messages: `1 hour`, `366 days`, `1.5 s`. */
function humanMs(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS} day${ms === DAY_MS ? '' : 's'}`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS} hour${ms === HOUR_MS ? '' : 's'}`;
  return `${ms / 1000} s`;
}

/** A whole number in [min, max]; every failure says the whole rule. */
export function wholeNumber(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A positive, finite duration in ms, at most `maxMs`; the message is unit-neutral. */
export function durationMs(maxMs: number) {
  const error = `must be greater than 0 and at most ${humanMs(maxMs)}`;
  return z.number({ error }).refine((n) => Number.isFinite(n) && n > 0 && n <= maxMs, { error });
}

/** `redis://` or `rediss://`, a host, an optional database number as the path. */
export const redisUrlSchema = z.string({ error: 'must be a string' }).superRefine((raw, ctx) => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a URL like redis://[:password@]host:6379[/db] or rediss://…',
    });
    return;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    ctx.addIssue({
      code: 'custom',
      message: `must use redis:// or rediss://, not ${u.protocol}//`,
    });
  } else if (u.hostname === '') {
    ctx.addIssue({ code: 'custom', message: 'must name a host (redis://host:6379)' });
  } else if (!/^\/?(\d{1,2})?$/.test(u.pathname)) {
    ctx.addIssue({ code: 'custom', message: 'must have a database number as its path (/0 … /99)' });
  }
});

/** Service fields shared by the environment (`MONITOR_HOST`, …) and the server's options. */
export const serviceFields = {
  host: z
    .string({ error: 'must be a host name or IP address' })
    .regex(/^[A-Za-z0-9.:[\]-]{1,255}$/, { error: 'must be a host name or IP address' }),
  port: wholeNumber(0, 65_535),
  token: z
    .string({ error: `must be a string of at least ${MIN_TOKEN_LENGTH} characters` })
    .refine((t) => t.length >= MIN_TOKEN_LENGTH && !/\s/.test(t), {
      error: `must be at least ${MIN_TOKEN_LENGTH} characters without spaces`,
    }),
} as const;

/** Defaults of the service fields. */
export const SERVICE_DEFAULTS = { host: '127.0.0.1', port: 8080 } as const;

/** The plain (serialisable) monitor options, with their defaults, ranges and cross-field rules. */
export const monitorOptionsSchema = z
  .strictObject({
    persistence: z.boolean({ error: 'must be true or false' }).default(true),
    redisUrl: redisUrlSchema.default('redis://127.0.0.1:6379'),
    batchSize: wholeNumber(1, 100_000).default(100),
    flushIntervalMs: durationMs(HOUR_MS).default(5_000),
    maxQueueSize: wholeNumber(1, 10_000_000).default(1_000),
    retentionMs: durationMs(366 * DAY_MS).default(DAY_MS),
    hourlyRetentionMs: durationMs(3_660 * DAY_MS).default(30 * DAY_MS),
    dailyRetentionMs: durationMs(3_660 * DAY_MS).default(365 * DAY_MS),
    quietPeriodMs: durationMs(366 * DAY_MS).default(HOUR_MS),
    bufferSize: wholeNumber(1, 10_000_000).default(10_000),
    breakerFailures: wholeNumber(1, 1_000).default(5),
    breakerResetMs: durationMs(DAY_MS).default(30_000),
    socketTimeoutMs: durationMs(HOUR_MS).default(5_000),
    connectTimeoutMs: durationMs(HOUR_MS).default(5_000),
    keyPrefix: z
      .string({ error: 'must be 1 to 64 of A-Z a-z 0-9 _ . -' })
      .regex(KEY_PREFIX_PATTERN, { error: 'must be 1 to 64 of A-Z a-z 0-9 _ . -' })
      .default('connection_monitor'),
    clusterNodes: z
      .array(z.strictObject({ host: z.string().min(1), port: wholeNumber(1, 65_535) }), {
        error: 'must be an array of { host, port }',
      })
      .min(1, { error: 'must name at least one node' })
      .optional(),
    instanceId: z
      .string({ error: INSTANCE_ID_RULE })
      .regex(INSTANCE_ID_PATTERN, { error: INSTANCE_ID_RULE })
      .default(defaultInstanceId),
    closeTimeoutMs: durationMs(HOUR_MS).default(10_000),
    maxTypes: wholeNumber(1, 100_000).default(256),
    maxClockSkewMs: wholeNumber(0, DAY_MS).default(300_000),
    maxKindsPerType: wholeNumber(1, 10_000).default(64),
    maxMemoryBytes: wholeNumber(1_048_576, 2 ** 40).default(64 * 1_048_576),
    heartbeatMs: durationMs(HOUR_MS).default(5_000),
  })
  .refine((o) => o.hourlyRetentionMs >= o.retentionMs, {
    path: ['hourlyRetentionMs'],
    error: (iss) => {
      const o = iss.input as { retentionMs: number };
      return `must not be shorter than retentionMs (${o.retentionMs} ms)`;
    },
  })
  .refine((o) => o.dailyRetentionMs >= o.hourlyRetentionMs, {
    path: ['dailyRetentionMs'],
    error: (iss) => {
      const o = iss.input as { hourlyRetentionMs: number };
      return `must not be shorter than hourlyRetentionMs (${o.hourlyRetentionMs} ms)`;
    },
  })
  .refine((o) => o.batchSize <= o.maxQueueSize, {
    path: ['batchSize'],
    error: (iss) => {
      const o = iss.input as { maxQueueSize: number };
      return `must not exceed maxQueueSize (${o.maxQueueSize})`;
    },
  });

/** The plain options after defaults. */
export type PlainOptions = z.output<typeof monitorOptionsSchema>;

/** Seed defaults, in the units the options use (ms), plus the service's bind defaults. */
export const DEFAULTS: Readonly<Omit<PlainOptions, 'instanceId' | 'clusterNodes'>> &
  typeof SERVICE_DEFAULTS = Object.freeze({
  ...(({ instanceId: _i, clusterNodes: _c, ...rest }) => rest)(monitorOptionsSchema.parse({})),
  ...SERVICE_DEFAULTS,
});

/** Options after defaults, checked once. */
export interface ResolvedOptions extends Readonly<Omit<PlainOptions, 'clusterNodes'>> {
  readonly clusterNodes: readonly ClusterNode[] | undefined;
  /** Per-process nonce so ids and batch ids never repeat across restarts of the same instance. */
  readonly bootId: string;
  readonly redisOptions: Readonly<Partial<RedisOptions>>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Shows an option's value in an error: as given, with a Redis password hidden. */
function shownOption(key: string | undefined, value: unknown): unknown {
  return key === 'redisUrl' && typeof value === 'string' ? redactUrl(value) : value;
}

/** Merges defaults and checks invariants once. Throws `CM_ERR_CONFIG` naming the option. */
export function resolveOptions(options: MonitorOptions = {}): ResolvedOptions {
  const { clock, logger, persistenceLayer: _layer, redisOptions, ...plain } = options;
  const o = parseWith(monitorOptionsSchema, plain, 'CM_ERR_CONFIG', 'options', (issue) => {
    const given = issue.key === undefined ? plain : (plain as Record<string, unknown>)[issue.key];
    const value = shownOption(issue.key, given);
    return {
      message: `option ${issue.path || 'options'}=${describeValue(value)} is not allowed: ${issue.message}`,
      value,
    };
  });
  return {
    ...o,
    clusterNodes: o.clusterNodes,
    bootId: Date.now().toString(36) + randomBytes(3).toString('hex'),
    redisOptions: redisOptions ?? {},
    clock: clock ?? systemClock,
    logger: logger ?? defaultLogger(),
  };
}
