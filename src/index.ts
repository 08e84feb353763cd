export { ConnectionMonitor, type MonitorEvents, type MonitorStatus } from './monitor.js';
export {
  DEFAULTS,
  type MonitorOptions,
  type ResolvedOptions,
  type ClusterNode,
} from './options.js';
export { configFromEnv, ENV_VARIABLES, type EnvConfig } from './config.js';
export { redactUrl } from './core/redact.js';
export { MonitorError, isMonitorError, type ErrorCode } from './core/errors.js';
export {
  NAME_PATTERN,
  MAX_ERROR_LENGTH,
  MAX_METADATA_KEYS,
  MAX_METADATA_KEY_LENGTH,
  MAX_METADATA_VALUE_LENGTH,
  MAX_METADATA_TOTAL_LENGTH,
  isErrorEvent,
  type ConnectionEvent,
  type EventInput,
  type Metadata,
  type MetadataValue,
  type KnownKind,
} from './core/event.js';
export type { TypeStats } from './core/live-stats.js';
export type { Aggregate, Rollup, AggregateSummary } from './core/aggregate.js';
export {
  MAX_HISTORY_LIMIT,
  DEFAULT_HISTORY_LIMIT,
  type HistoryQuery,
  type HistoryPage,
  type TimeSeriesQuery,
  type TimeSeriesResult,
} from './core/query.js';
export { BUCKET_SIZES_MS, type TimeSeriesPoint } from './core/time-series.js';
export {
  HISTOGRAM_RELATIVE_ERROR,
  HISTOGRAM_BUCKETS,
  bucketIndex,
  bucketLowerMs,
  bucketUpperMs,
} from './core/histogram.js';
export type { Clock } from './core/clock.js';
export type { Logger } from './logger.js';
export type {
  CircuitState,
  Persistence,
  PersistenceStatus,
  PersistenceEvents,
} from './core/persistence.js';
export {
  createMonitoringServer,
  DEFAULT_LIMITS,
  ERROR_ANSWERS,
  WS_CLOSE_TRY_AGAIN,
  WS_CLOSE_POLICY,
  WS_CLOSE_GOING_AWAY,
  type MonitoringServer,
  type MonitoringServerOptions,
  type ServerLimits,
  type CorsOptions,
  type ServiceStatus,
  type IngestResult,
  type RejectedEvent,
} from './server/index.js';
export {
  monitorWebSocketServer,
  ABNORMAL_CLOSE_CODES,
  type MonitorWebSocketServerOptions,
} from './instrument/ws.js';
export {
  monitorRedisClient,
  type MonitorRedisClientOptions,
  type RedisCommandsOption,
} from './instrument/redis.js';
export {
  monitorHttp,
  UNDICI_CHANNELS,
  type HttpRoute,
  type MonitorHttpOptions,
} from './instrument/http.js';
export type { Disposer, AdapterOptions, AdapterErrorContext } from './instrument/adapter.js';
export { INTERNAL_CLIENT, isInternalClient, markInternalClient } from './core/internal.js';
