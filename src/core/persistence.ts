import type { ConnectionEvent } from './event.js';
import type { Aggregate, Rollup } from './aggregate.js';
import type { NormalizedHistoryQuery, HistoryPage } from './query.js';

/** Circuit breaker state as reported by `getStatus()`. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** Persistence part of `getStatus()`. */
export interface PersistenceStatus {
  enabled: boolean;
  /** 'memory' when persistence is disabled. */
  mode: 'redis' | 'cluster' | 'memory';
  /** Redis URL with the password replaced by `***`, or null. */
  redisUrl: string | null;
  circuit: CircuitState;
  consecutiveFailures: number;
  workerRunning: boolean;
  /** Events waiting for Redis (including a batch being retried). */
  queueDepth: number;
  /** Events confirmed written to Redis by this process. */
  persisted: number;
  /** Events dropped because the queue was full. */
  dropped: number;
  /** Epoch ms of the last successful flush, or null. */
  lastFlushAt: number | null;
  /** Last persistence error (message only, never a secret), or null. */
  lastError: string | null;
  /** True once history was recovered from Redis. */
  recovered: boolean;
}

/** What a persistence layer hands back when it recovers history. */
export interface RecoveredType {
  type: string;
  /**
   * Stored event JSON, newest first, at most `bufferSize`. Kept as text and parsed on first read,
   * so recovery costs one copy, not one `JSON.parse` per event.
   */
  members: string[];
  /** Timestamps (epoch ms) of the recovered events of the last 60 s, for the live rate. */
  recentTimestamps: number[];
  totals: Aggregate | null;
  /**
   * Minute rollups of the retention window, parsed on demand (memory answers time series only
   * when Redis cannot).
   */
  rollups: () => Rollup[];
}

/** Typed events a persistence layer emits (re-emitted by the monitor). */
export interface PersistenceEvents {
  circuit: [state: CircuitState];
  /** Events dropped since the last report (one report per event-loop turn) and in total. */
  dropped: [info: { count: number; total: number }];
  flushed: [info: { count: number; durationMs: number; persisted: number }];
  flushFailed: [info: { error: string; consecutiveFailures: number }];
  recovered: [info: { types: number; events: number; durationMs: number }];
}

/** Callbacks from a persistence layer to the monitor. */
export interface PersistenceHooks {
  emit<K extends keyof PersistenceEvents>(name: K, ...args: PersistenceEvents[K]): void;
  /** Merges recovered history into memory (may arrive late, when Redis comes back). */
  onRecovered(types: RecoveredType[]): void;
}

/**
 * The seam between the in-memory monitor and a durable store. `enqueue` is called on the
 * `recordEvent` path and must never do I/O or throw.
 */
export interface Persistence {
  start(hooks: PersistenceHooks): Promise<void>;
  enqueue(event: ConnectionEvent): void;
  flush(): Promise<void>;
  close(deadlineMs: number): Promise<void>;
  status(): PersistenceStatus;
  /** A history page, or null when the store cannot answer now (caller falls back to memory). */
  history(q: NormalizedHistoryQuery): Promise<Pick<HistoryPage, 'events' | 'nextBefore'> | null>;
  /** Minute rollups of these types in [from, to], or null when the store cannot answer now. */
  rollups(types: readonly string[] | undefined, from: number, to: number): Promise<Rollup[] | null>;
}

/** Memory-only mode: nothing is persisted. */
export class DisabledPersistence implements Persistence {
  start(): Promise<void> {
    return Promise.resolve();
  }
  enqueue(): void {}
  flush(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  status(): PersistenceStatus {
    return {
      enabled: false,
      mode: 'memory',
      redisUrl: null,
      circuit: 'closed',
      consecutiveFailures: 0,
      workerRunning: false,
      queueDepth: 0,
      persisted: 0,
      dropped: 0,
      lastFlushAt: null,
      lastError: null,
      recovered: false,
    };
  }
  history(): Promise<null> {
    return Promise.resolve(null);
  }
  rollups(): Promise<null> {
    return Promise.resolve(null);
  }
}
