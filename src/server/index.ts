/**
 * `connection-monitor/server`: the HTTP + WebSocket service around a `ConnectionMonitor`
 * (Fastify, `/metrics` through prom-client, the dashboard). A separate entry point so that
 * `import 'connection-monitor'` does not load any of it.
 */
export { createMonitoringServer, type MonitoringServer } from './app.js';
export type { ServiceStatus, ServiceStatusReport } from '../core/status.js';
export {
  DEFAULT_LIMITS,
  isLoopbackHost,
  type MonitoringServerOptions,
  type ServerLimits,
  type CorsOptions,
  type ResolvedServerOptions,
} from './options.js';
export { ERROR_ANSWERS } from './errors.js';
export { WS_CLOSE_TRY_AGAIN, WS_CLOSE_POLICY, WS_CLOSE_GOING_AWAY } from './ws-protocol.js';
export type { IngestResult, RejectedEvent } from './ingest.js';
