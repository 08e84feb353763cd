import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ResolvedOptions } from '../options.js';
import { SCRIPTS } from './scripts.js';

/**
 * Marks ioredis clients created by the monitor itself, so instrumentation never records the
 * monitor's own persistence traffic.
 */
export const INTERNAL_CLIENT = Symbol.for('connection-monitor.internal');

/** The client type: standalone or cluster, with our scripts defined. */
export type MonitorRedis = (Redis | Cluster) & ScriptCommands;

/** Script commands added with `defineCommand` (EVALSHA, loaded once, reloaded on NOSCRIPT). */
export interface ScriptCommands {
  cmWriteBatch(...args: (string | number)[]): Promise<number>;
  cmHistory(...args: (string | number)[]): Promise<(string | number)[]>;
}

/**
 * Creates the fail-fast ioredis client: no offline queue, no per-request retries, a command
 * timeout, no resending after reconnect. Connection is lazy: `start()` connects.
 */
export function createRedisClient(options: ResolvedOptions): MonitorRedis {
  const failFast: RedisOptions = {
    ...options.redisOptions,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.socketTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    enableReadyCheck: true,
    // Keep reconnecting in the background with a capped backoff; the breaker decides when to try.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  };
  let client: Redis | Cluster;
  if (options.clusterNodes !== undefined) {
    const url = new URL(options.redisUrl);
    const clusterOptions: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      redisOptions: {
        ...failFast,
        password: url.password === '' ? undefined : decodeURIComponent(url.password),
        username: url.username === '' ? undefined : decodeURIComponent(url.username),
        tls: url.protocol === 'rediss:' ? (options.redisOptions.tls ?? {}) : undefined,
      },
      clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
    };
    client = new Cluster([...options.clusterNodes], clusterOptions);
  } else {
    client = new Redis(options.redisUrl, {
      ...failFast,
      tls: options.redisUrl.startsWith('rediss:') ? (options.redisOptions.tls ?? {}) : undefined,
    });
  }
  for (const [name, def] of Object.entries(SCRIPTS)) client.defineCommand(name, def);
  (client as unknown as Record<symbol, boolean>)[INTERNAL_CLIENT] = true;
  // Errors surface through command rejections; an 'error' listener keeps ioredis from logging
  // unhandled error events (which could print connection details).
  client.on('error', () => {});
  return client as MonitorRedis;
}
