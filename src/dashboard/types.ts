/**
 * Shapes of the service API as the dashboard reads them. The JSON shapes come from the library's
 * own types (type-only imports of Node-free modules: nothing of them reaches the bundle), so the
 * dashboard cannot drift from what the service sends.
 */
import type { ConnectionEvent } from '../core/event.js';
import type { TypeStats } from '../core/live-stats.js';
import type { HistoryPage, TimeSeriesResult } from '../core/query.js';
import type { CircuitState } from '../core/circuit.js';
import type { PersistenceStatus } from '../core/persistence.js';
import type { ServiceStatus } from '../core/status.js';

export type {
  CircuitState,
  ConnectionEvent,
  HistoryPage,
  PersistenceStatus,
  ServiceStatus,
  TypeStats,
};

/** `GET /api/stats`. */
export type StatsMap = Record<string, TypeStats>;

/** `GET /api/timeseries`. */
export type TimeSeries = TimeSeriesResult;
