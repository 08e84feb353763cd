import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { markInternalClient } from '../core/internal.js';
import { SCRIPTS } from './scripts.js';

/** What the client factory needs to connect. */
export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL (in cluster mode: credentials and TLS only). */
  readonly redisUrl: string;
  /** Cluster seed nodes; undefined for a standalone server. */
  readonly clusterNodes: readonly { host: string; port: number }[] | undefined;
  /** Command timeout, ms. */
  readonly socketTimeoutMs: number;
  /** Connect timeout, ms. */
  readonly connectTimeoutMs: number;
  /** Extra ioredis options; the fail-fast settings win. */
  readonly redisOptions: Readonly<Partial<RedisOptions>>;
}

/** The client type: standalone or cluster, with our scripts defined. */
export type MonitorRedis = (Redis | Cluster) & ScriptCommands;

/** Script commands added with `defineCommand` (EVALSHA, loaded once, reloaded on NOSCRIPT). */
export interface ScriptCommands {
  /** 0: the batch id was seen; else `WRITE_FLAGS` (write-script.ts). */
  cmWriteBatch(...args: (string | number)[]): Promise<number>;
  cmHistory(...args: (string | number)[]): Promise<(string | number)[]>;
}

/**
 * Creates the fail-fast ioredis client: no offline queue, no per-request retries, a command
 * timeout, no resending after reconnect. Connection is lazy: `start()` connects.
 */
export function createRedisClient(options: RedisConnectionOptions): MonitorRedis {
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
  // Instrumentation refuses it: the monitor never records its own persistence traffic.
  markInternalClient(client);
  // Errors surface through command rejections; an 'error' listener keeps ioredis from logging
  // unhandled error events (which could print connection details).
  client.on('error', () => {});
  return client as MonitorRedis;
}
