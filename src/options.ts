import { randomBytes } from 'node:crypto';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import {
  DEFAULTS,
  INSTANCE_ID_PATTERN,
  KEY_PREFIX_PATTERN,
  defaultInstanceId,
  redactUrl,
} from './config.js';
import type { ClusterNode } from './config.js';
import { systemClock, type Clock } from './core/clock.js';
import { MonitorError, describeValue } from './core/errors.js';
import { defaultLogger, type Logger } from './logger.js';
import type { Persistence } from './persistence/persistence.js';

/** Options of `ConnectionMonitor`. All optional; times in milliseconds. */
export interface MonitorOptions {
  /** Dual-write to Redis. Default `true`. */
  persistence?: boolean;
  /** `redis://` or `rediss://` URL, password allowed (never printed). Default `redis://127.0.0.1:6379`. */
  redisUrl?: string;
  /** Events per flush. Default 100. */
  batchSize?: number;
  /** Time between flushes, ms. Default 5,000. */
  flushIntervalMs?: number;
  /** Most events waiting for Redis; beyond it events are dropped and counted. Default 1,000. */
  maxQueueSize?: number;
  /** Retention in Redis and the window recovered at start, ms. Default 24 h. */
  retentionMs?: number;
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

/** Options after defaults, checked once. */
export interface ResolvedOptions {
  readonly persistence: boolean;
  readonly redisUrl: string;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxQueueSize: number;
  readonly retentionMs: number;
  readonly bufferSize: number;
  readonly breakerFailures: number;
  readonly breakerResetMs: number;
  readonly socketTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly keyPrefix: string;
  readonly clusterNodes: readonly ClusterNode[] | undefined;
  readonly instanceId: string;
  readonly closeTimeoutMs: number;
  readonly maxTypes: number;
  /** Per-process nonce so ids and batch ids never repeat across restarts of the same instance. */
  readonly bootId: string;
  readonly redisOptions: Readonly<Partial<RedisOptions>>;
  readonly clock: Clock;
  readonly logger: Logger;
}

const int = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const ms = (max: number) =>
  z
    .number({ error: 'must be a number of milliseconds' })
    .refine((n) => Number.isFinite(n) && n > 0 && n <= max, {
      error: `must be a finite number of milliseconds greater than 0 and at most ${max}`,
    });

const optionsSchema = z.object({
  persistence: z.boolean({ error: 'must be true or false' }).optional(),
  redisUrl: z
    .string({ error: 'must be a string' })
    .refine((u) => /^rediss?:\/\/[^\s]+$/.test(u) && URL.canParse(u), {
      error: 'must be a redis:// or rediss:// URL',
    })
    .optional(),
  batchSize: int(1, 100_000).optional(),
  flushIntervalMs: ms(3_600_000).optional(),
  maxQueueSize: int(1, 10_000_000).optional(),
  retentionMs: ms(366 * 86_400_000).optional(),
  bufferSize: int(1, 10_000_000).optional(),
  breakerFailures: int(1, 1_000).optional(),
  breakerResetMs: ms(86_400_000).optional(),
  socketTimeoutMs: ms(3_600_000).optional(),
  connectTimeoutMs: ms(3_600_000).optional(),
  keyPrefix: z
    .string()
    .regex(KEY_PREFIX_PATTERN, { error: 'must be 1 to 64 of A-Z a-z 0-9 _ . -' })
    .optional(),
  clusterNodes: z
    .array(z.object({ host: z.string().min(1), port: int(1, 65_535) }), {
      error: 'must be an array of { host, port }',
    })
    .min(1, { error: 'must name at least one node' })
    .optional(),
  instanceId: z
    .string()
    .regex(INSTANCE_ID_PATTERN, { error: 'must be 1 to 64 of A-Z a-z 0-9 . _ -' })
    .optional(),
  closeTimeoutMs: ms(3_600_000).optional(),
  maxTypes: int(1, 100_000).optional(),
});

/** Merges defaults and checks invariants once. Throws `CM_ERR_CONFIG` naming the option. */
export function resolveOptions(options: MonitorOptions = {}): ResolvedOptions {
  const { clock, logger, persistenceLayer: _layer, redisOptions, ...plain } = options;
  const parsed = optionsSchema.safeParse(plain);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? 'options';
    const key = issue?.path[0];
    let value: unknown = typeof key === 'string' ? (plain as Record<string, unknown>)[key] : plain;
    if (key === 'redisUrl' && typeof value === 'string') value = redactUrl(value);
    throw new MonitorError(
      'CM_ERR_CONFIG',
      `option ${field}=${describeValue(value)} is not allowed: ${issue?.message ?? 'invalid'}`,
      { field, value },
    );
  }
  const o = parsed.data;
  const resolved: ResolvedOptions = {
    persistence: o.persistence ?? DEFAULTS.persistence,
    redisUrl: o.redisUrl ?? DEFAULTS.redisUrl,
    batchSize: o.batchSize ?? DEFAULTS.batchSize,
    flushIntervalMs: o.flushIntervalMs ?? DEFAULTS.flushIntervalMs,
    maxQueueSize: o.maxQueueSize ?? DEFAULTS.maxQueueSize,
    retentionMs: o.retentionMs ?? DEFAULTS.retentionMs,
    bufferSize: o.bufferSize ?? DEFAULTS.bufferSize,
    breakerFailures: o.breakerFailures ?? DEFAULTS.breakerFailures,
    breakerResetMs: o.breakerResetMs ?? DEFAULTS.breakerResetMs,
    socketTimeoutMs: o.socketTimeoutMs ?? DEFAULTS.socketTimeoutMs,
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    keyPrefix: o.keyPrefix ?? DEFAULTS.keyPrefix,
    clusterNodes: o.clusterNodes,
    instanceId: o.instanceId ?? defaultInstanceId(),
    closeTimeoutMs: o.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs,
    maxTypes: o.maxTypes ?? 256,
    bootId: Date.now().toString(36) + randomBytes(3).toString('hex'),
    redisOptions: redisOptions ?? {},
    clock: clock ?? systemClock,
    logger: logger ?? defaultLogger(),
  };
  if (resolved.batchSize > resolved.maxQueueSize) {
    throw new MonitorError(
      'CM_ERR_CONFIG',
      `option batchSize=${resolved.batchSize} is not allowed: must not exceed maxQueueSize (${resolved.maxQueueSize})`,
      { field: 'batchSize', value: resolved.batchSize },
    );
  }
  return resolved;
}
