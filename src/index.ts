/**
 * `connection-monitor`: the library (`ConnectionMonitor`, `configFromEnv`, errors, event model and
 * stats types). It loads no server code; the service is `connection-monitor/server`, the adapters
 * `connection-monitor/instrument` (also re-exported below).
 */
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
export type { CircuitState } from './core/circuit.js';
export type { Persistence, PersistenceStatus, PersistenceEvents } from './core/persistence.js';
export type { ServiceStatus, ServiceStatusReport } from './core/status.js';
// The adapters' home is `connection-monitor/instrument`. They stay importable from here because that
// costs nothing: they load no package the monitor does not load already (only `node:` modules and
// types). The server would load fastify and prom-client, so it is only at
// `connection-monitor/server`; test/package/root-entry.test.ts keeps it so.
export {
  monitorWebSocketServer,
  ABNORMAL_CLOSE_CODES,
  monitorRedisClient,
  monitorHttp,
  UNDICI_CHANNELS,
  INTERNAL_CLIENT,
  isInternalClient,
  markInternalClient,
  type MonitorWebSocketServerOptions,
  type MonitorRedisClientOptions,
  type RedisCommandsOption,
  type HttpRoute,
  type MonitorHttpOptions,
  type Disposer,
  type AdapterOptions,
  type AdapterErrorContext,
} from './instrument/index.js';
