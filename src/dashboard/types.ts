/**
 * Shapes of the service API as the dashboard reads them (PRODUCT.md "Service API"). The JSON
 * shapes come from the library's own types (type-only imports of Node-free modules: nothing of
 * them reaches the bundle), so the dashboard cannot drift from what the service sends.
 */
import type { ConnectionEvent } from '../core/event.js';
import type { TypeStats } from '../core/live-stats.js';
import type { HistoryPage, TimeSeriesResult } from '../core/query.js';
import type { TimeSeriesPoint } from '../core/time-series.js';
import type { CircuitState, PersistenceStatus } from '../persistence/persistence.js';
import type { MonitorStatus } from '../status.js';

export type { CircuitState, ConnectionEvent, HistoryPage, PersistenceStatus, TypeStats };

/** `GET /api/status`: the monitor's status plus what the service adds. */
export type ServiceStatus = MonitorStatus & {
  version?: string;
  /** Instance ids known to the service, when it reports them. */
  instances?: string[];
};

/** `GET /api/stats`. */
export type StatsMap = Record<string, TypeStats>;

/** One bucket of `GET /api/timeseries`. */
export type SeriesPoint = TimeSeriesPoint;

/** `GET /api/timeseries`. */
export type TimeSeries = TimeSeriesResult;

/** Messages the service pushes after `subscribe`. */
export type LiveMessage =
  | { type: 'subscribe'; id?: string; ok: boolean }
  | { type: 'event'; event: ConnectionEvent }
  | { type: 'stats'; stats: StatsMap; status: ServiceStatus; dropped?: number }
  | { type: 'error'; id?: string; code: string; message: string };
