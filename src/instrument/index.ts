/**
 * `connection-monitor/instrument`: adapters that record a client's or server's connection events
 * into a `ConnectionMonitor` for you. Each returns an idempotent {@link Disposer}.
 *
 * These modules load no package at run time besides what the library already loads (they import
 * only types from `ws` and `ioredis`, `node:` modules and zod), which is why the root entry can
 * keep re-exporting them; an adapter that needs a package of its own belongs here only.
 */
export {
  monitorWebSocketServer,
  ABNORMAL_CLOSE_CODES,
  type MonitorWebSocketServerOptions,
} from './ws.js';
export {
  monitorRedisClient,
  type MonitorRedisClientOptions,
  type RedisCommandsOption,
} from './redis.js';
export { monitorHttp, UNDICI_CHANNELS, type HttpRoute, type MonitorHttpOptions } from './http.js';
export type { Disposer, AdapterOptions, AdapterErrorContext } from './adapter.js';
export { INTERNAL_CLIENT, isInternalClient, markInternalClient } from '../core/internal.js';
