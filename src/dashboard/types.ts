/**
 * Shapes of the service API as the dashboard reads them. The JSON shapes come from the library's
 * own types (type-only imports of Node-free modules: nothing of them reaches the bundle), so the
 * dashboard cannot drift from what the service sends.
 */
import type { ConnectionEvent } from '../core/event.js';
import type { FleetStats, InstanceInfo, InstanceState } from '../core/fleet.js';
import type { TypeStats } from '../core/live-stats.js';
import type { NotableEvent } from '../core/notable.js';
import type { HistoryPage, TimeSeriesResult } from '../core/query.js';
import type { CircuitState } from '../core/circuit.js';
import type { PersistenceStatus } from '../core/persistence.js';
import type { ServiceStatus, ServiceStatusReport } from '../core/status.js';
import type { StorageEstimate } from '../core/storage.js';

export type {
  CircuitState,
  ConnectionEvent,
  FleetStats,
  HistoryPage,
  InstanceInfo,
  InstanceState,
  NotableEvent,
  PersistenceStatus,
  ServiceStatus,
  StorageEstimate,
  TypeStats,
};

/** `GET /api/status`: the service status plus the Redis memory estimate (null without Redis). */
export type StatusReport = ServiceStatusReport;

/** `GET /api/stats` (this process). */
export type StatsMap = Record<string, TypeStats>;

/** `GET /api/timeseries`. */
export type TimeSeries = TimeSeriesResult;

/** `GET /api/notable`. */
export interface NotableAnswer {
  events: NotableEvent[];
  source: 'redis' | 'memory';
}

/**
 * Whose numbers the page shows: the whole fleet (every instance persisting to the same Redis), or
 * one instance (`id`).
 */
export type Scope = { kind: 'fleet' } | { kind: 'instance'; id: string };
