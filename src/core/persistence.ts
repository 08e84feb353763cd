import type { CircuitState } from './circuit.js';
import type { ConnectionEvent } from './event.js';
import type { Aggregate, Rollup } from './aggregate.js';
import type { InstanceInfo, InstanceSnapshot } from './fleet.js';
import type { NotableEvent, NotableInput, NotableQuery } from './notable.js';
import type { NormalizedHistoryQuery, HistoryPage } from './query.js';
import type { StorageEstimate } from './storage.js';
import type { Resolution } from './time-series.js';

/**
 * Something that failed on its own and was isolated: a type's batches quarantined, a corrupt or
 * foreign key, an invalid name in the types set. Other types go on.
 */
export interface PersistenceProblem {
  /** The connection type concerned, or `*` when it is not one type's (the types set). */
  type: string;
  /** The Redis key concerned, when known. */
  key?: string;
  /** What is wrong, e.g. `WRONGTYPE: … holds a string, not a sorted set`. */
  reason: string;
  /** Epoch ms when it was first seen. */
  since: number;
  /** Events quarantined (rejected) because of it, or items skipped (recovery). */
  count: number;
}

/** One circuit breaker: the whole Redis, or one cluster master (its `host:port`). */
export interface ShardStatus {
  /** `redis` for a standalone server; the master's `host:port` in cluster mode. */
  shard: string;
  circuit: CircuitState;
  consecutiveFailures: number;
  /** Events waiting for this shard. */
  queueDepth: number;
}

/** Persistence part of `getStatus()`. */
export interface PersistenceStatus {
  enabled: boolean;
  /** 'memory' when persistence is disabled. */
  mode: 'redis' | 'cluster' | 'memory';
  /** Redis URL with the password replaced by `***`, or null. */
  redisUrl: string | null;
  /** The worst state over the shards (open, then half-open, then closed). */
  circuit: CircuitState;
  /** The most consecutive failed flushes of any shard. */
  consecutiveFailures: number;
  workerRunning: boolean;
  /** Events waiting for Redis (including batches being retried). */
  queueDepth: number;
  /** Events confirmed written to Redis by this process. */
  persisted: number;
  /** Events dropped because the queue was full. */
  dropped: number;
  /** Events quarantined: their batch failed for a reason of its own (see `problems`). */
  rejected: number;
  /** What is isolated right now; cleared for a type once its writes succeed again. */
  problems: PersistenceProblem[];
  /** One entry per circuit breaker (one for a standalone Redis, one per cluster master). */
  shards: ShardStatus[];
  /** Epoch ms of the last successful flush, or null. */
  lastFlushAt: number | null;
  /** Last persistence error (message only, never a secret), or null. */
  lastError: string | null;
  /** True once history was recovered from Redis. */
  recovered: boolean;
}

/** Rollups per connection type. */
export type TypedRollups = Map<string, Rollup[]>;

/** What a persistence layer hands back when it recovers history. */
export interface RecoveredType {
  type: string;
  /**
   * Stored event JSON, newest first, at most `bufferSize`. Kept as text and parsed on first read,
   * so recovery costs one copy, not one `JSON.parse` per event.
   */
  members: string[];
  /** Timestamp (epoch ms) of each member, same order. */
  timestamps: number[];
  /**
   * Minute rollups of the retention window, parsed on demand (memory answers time series only
   * when Redis cannot).
   */
  rollups: () => Rollup[];
  /** False when the window has no minute rollup (a type idle for longer than the retention). */
  hasRollups: boolean;
}

/** Typed events a persistence layer emits (re-emitted by the monitor). */
export interface PersistenceEvents {
  circuit: [state: CircuitState];
  /** Events dropped since the last report (one report per event-loop turn) and in total. */
  dropped: [info: { count: number; total: number }];
  flushed: [info: { count: number; durationMs: number; persisted: number }];
  flushFailed: [info: { error: string; consecutiveFailures: number }];
  recovered: [info: { types: number; events: number; durationMs: number }];
  /** A type's batch failed for a reason of its own and was set aside after bounded retries. */
  quarantined: [info: { type: string; count: number; reason: string; key?: string }];
}

/** Callbacks from a persistence layer to the monitor. */
export interface PersistenceHooks {
  emit<K extends keyof PersistenceEvents>(name: K, ...args: PersistenceEvents[K]): void;
  /** Merges recovered history into memory (may arrive late, when Redis comes back). */
  onRecovered(types: RecoveredType[]): void;
  /** What this instance says of itself in its heartbeat (the fleet registry). */
  snapshot(): InstanceSnapshot;
  /** Something notable the layer saw (the first error of a type after a quiet period). */
  notable(input: NotableInput): void;
}

/**
 * The seam between the in-memory monitor and a durable store. `enqueue` is called on the
 * `recordEvent` path and must never do I/O or throw.
 */
export interface Persistence {
  start(hooks: PersistenceHooks): Promise<void>;
  enqueue(event: ConnectionEvent): void;
  /**
   * True when the store itself reports a type's first error after the quiet period (Redis does,
   * fleet-wide, in the write script); otherwise the monitor watches its own events for it.
   */
  readonly detectsFirstErrors?: boolean;
  flush(): Promise<void>;
  close(deadlineMs: number): Promise<void>;
  status(): PersistenceStatus;
  /** A history page, or null when the store cannot answer now (caller falls back to memory). */
  history(q: NormalizedHistoryQuery): Promise<Pick<HistoryPage, 'events' | 'nextBefore'> | null>;
  /**
   * Rollups at `resolution` whose buckets start in [from, to] per type (every stored type when
   * `types` is undefined), of the fleet or of one instance, or null when the store cannot answer
   * now. Coarse resolutions may come with minute rollups of the range not folded into them yet:
   * the caller adds every rollup it gets into its buckets. A type the store cannot answer now is
   * left out of the map (the caller answers it from memory).
   */
  rollups(
    types: readonly string[] | undefined,
    from: number,
    to: number,
    resolution: Resolution,
    instance?: string,
  ): Promise<TypedRollups | null>;
  /** Stores a notable event for the fleet (never throws; kept to retry while the store is down). */
  saveNotable(event: NotableEvent): void;
  /** The fleet's notable events, newest first, or null when the store cannot answer now. */
  notable(q: NotableQuery): Promise<NotableEvent[] | null>;
  /** What the store holds per type and what it will hold at full retention, or null. */
  storage(): Promise<StorageEstimate | null>;
  /** The fleet's totals per type (every stored type when `types` is undefined), or null. */
  fleetTotals(types: readonly string[] | undefined): Promise<Map<string, Aggregate> | null>;
  /** Every instance of the fleet seen within the retention, or null when the store cannot answer. */
  instances(): Promise<InstanceInfo[] | null>;
  /**
   * Calls `listener` with every event any instance of the fleet writes from now on (the fleet
   * live tail); returns the unsubscribe function. A layer without a fleet never calls it.
   */
  subscribeFleet(listener: (event: ConnectionEvent) => void): () => void;
}

/** Memory-only mode: nothing is persisted (the monitor reports first errors after quiet). */
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
      rejected: 0,
      problems: [],
      shards: [],
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
  fleetTotals(): Promise<null> {
    return Promise.resolve(null);
  }
  instances(): Promise<null> {
    return Promise.resolve(null);
  }
  saveNotable(): void {}
  notable(): Promise<null> {
    return Promise.resolve(null);
  }
  storage(): Promise<null> {
    return Promise.resolve(null);
  }
  subscribeFleet(): () => void {
    return () => {};
  }
}

/**
 * The notable event of a type's first error after a quiet period of `quietMs` (`before`: the
 * last error before it, when known).
 */
export function firstErrorNotable(
  type: string,
  at: number,
  quietMs: number,
  before?: number,
): NotableInput {
  const quiet = before === undefined ? `over ${formatSpan(quietMs)}` : formatSpan(at - before);
  return { kind: 'first-error', type, at, message: `${type}: first error in ${quiet}` };
}

function formatSpan(ms: number): string {
  if (ms >= 86_400_000) return `${Math.round(ms / 86_400_000)} d`;
  if (ms >= 3_600_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 60_000)} min`;
}
