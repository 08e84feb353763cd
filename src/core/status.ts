/**
 * Status shapes: what `getStatus()` returns and what the service adds for `/api/status`. Node-free
 * and type-only, so the dashboard reads the same types the library and the service produce.
 */
import type { PersistenceStatus } from './persistence.js';
import type { StorageEstimate } from './storage.js';

/** Memory use of the event rings, for `getStatus()`. */
export interface MemoryStatus {
  /** Estimated bytes held by the in-memory events of every type. */
  usedBytes: number;
  /** The bound (`maxMemoryBytes`). */
  maxBytes: number;
  /** Events held in memory, all types. */
  events: number;
  /** Events evicted to stay within `maxBytes` (or older than the retention) since start. */
  evicted: number;
}

/** Result of `getStatus()`. */
export interface MonitorStatus {
  instance: string;
  state: 'new' | 'running' | 'closing' | 'closed';
  /** Epoch ms when the monitor was constructed. */
  createdAt: number;
  uptimeMs: number;
  /** Connection types seen so far (recorded or recovered). */
  types: string[];
  bufferSize: number;
  retentionMs: number;
  /** Estimated bytes the in-memory events hold, against `maxMemoryBytes`. */
  memory: MemoryStatus;
  persistence: PersistenceStatus;
}

/** Body of `GET /api/status` and of `status` WebSocket answers: the monitor's status plus the service's. */
export interface ServiceStatus extends MonitorStatus {
  /** Version of connection-monitor. */
  version: string;
  server: {
    /** Epoch ms when the server was created. */
    startedAt: number;
    uptimeMs: number;
    wsConnections: number;
    wsSubscribers: number;
    /** True when a token is required. */
    auth: boolean;
  };
}

/**
 * Body of `GET /api/status` and of `status` WebSocket answers: {@link ServiceStatus} plus the
 * Redis memory estimate (`getStorageEstimate()`, measured at most once a minute; null without
 * Redis). The `stats` push carries {@link ServiceStatus} only.
 */
export interface ServiceStatusReport extends ServiceStatus {
  storage: StorageEstimate | null;
}
