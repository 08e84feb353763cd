/**
 * Shapes of the service API as the dashboard reads them (PRODUCT.md "Service API"). Declared here
 * rather than imported from the library so the browser bundle never pulls in server code.
 */

/** Circuit breaker state of the Redis writer. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** `status.persistence`. */
export interface PersistenceStatus {
  enabled: boolean;
  mode: 'redis' | 'cluster' | 'memory';
  redisUrl: string | null;
  circuit: CircuitState;
  consecutiveFailures: number;
  workerRunning: boolean;
  queueDepth: number;
  persisted: number;
  dropped: number;
  /** Epoch ms, or null. */
  lastFlushAt: number | null;
  lastError: string | null;
  recovered: boolean;
}

/** `GET /api/status`. Extra fields the service adds are tolerated. */
export interface ServiceStatus {
  instance: string;
  state: string;
  /** Epoch ms. */
  createdAt: number;
  uptimeMs: number;
  types: string[];
  bufferSize: number;
  retentionMs: number;
  persistence: PersistenceStatus;
  version?: string;
  /** Instance ids known to the service, when it reports them. */
  instances?: string[];
}

/** Live stats of one connection type. Nullable numbers are null when there is no data. */
export interface TypeStats {
  type: string;
  events: number;
  errors: number;
  errorRate: number;
  kinds: Record<string, number>;
  avgDurationMs: number | null;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
  p99DurationMs: number | null;
  maxDurationMs: number | null;
  /** Epoch ms, or null. */
  firstEventAt: number | null;
  /** Epoch ms, or null. */
  lastEventAt: number | null;
  eventsPerSecond: number;
}

/** `GET /api/stats`. */
export type StatsMap = Record<string, TypeStats>;

/** One recorded event. `timestamp` is epoch ms. */
export interface ConnectionEvent {
  id: string;
  type: string;
  kind: string;
  timestamp: number;
  durationMs?: number;
  error?: string;
  metadata?: Record<string, string | number | boolean | null>;
  instance: string;
}

/** `GET /api/events`: newest first; `nextBefore` pages to older events. */
export interface HistoryPage {
  events: ConnectionEvent[];
  nextBefore: string | null;
  source: 'redis' | 'memory';
  from: number;
  to: number;
  clipped: boolean;
}

/** One bucket of `GET /api/timeseries`. Empty buckets have 0 counts and null rates/latencies. */
export interface SeriesPoint {
  /** Bucket start, epoch ms. */
  t: number;
  events: number;
  errors: number;
  errorRate: number | null;
  kinds: Record<string, number>;
  avgDurationMs: number | null;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
  p99DurationMs: number | null;
  minDurationMs: number | null;
  maxDurationMs: number | null;
}

/** `GET /api/timeseries`. */
export interface TimeSeries {
  bucketMs: number;
  from: number;
  to: number;
  source: 'redis' | 'memory';
  clipped: boolean;
  points: SeriesPoint[];
}

/** Messages the service pushes after `subscribe`. */
export type LiveMessage =
  | { type: 'subscribe'; id?: string; ok: boolean }
  | { type: 'event'; event: ConnectionEvent }
  | { type: 'stats'; stats: StatsMap; status: ServiceStatus; dropped?: number }
  | { type: 'error'; id?: string; code: string; message: string };
