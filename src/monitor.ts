import { EventEmitter } from 'node:events';
import { configFromEnv } from './config.js';
import { MonitorError } from './core/errors.js';
import {
  assertName,
  checkDuration,
  checkError,
  checkInput,
  checkMetadata,
  checkTimestamp,
  estimateEventBytes,
  isErrorEvent,
  type ConnectionEvent,
  type MetadataSize,
  type EventInput,
} from './core/event.js';
import { bucketIndex } from './core/histogram.js';
import type { TypeStats } from './core/live-stats.js';
import type { FleetStats, InstanceInfo } from './core/fleet.js';
import {
  type HistoryPage,
  type HistoryQuery,
  type QueryLimits,
  type TimeSeriesQuery,
  type TimeSeriesResult,
} from './core/query.js';
import { EventIds } from './core/event-ids.js';
import { TypeRegistry } from './core/type-registry.js';
import {
  DisabledPersistence,
  type Persistence,
  type PersistenceEvents,
} from './core/persistence.js';
import type { MonitorStatus } from './core/status.js';
import {
  checkNotableInput,
  type NotableEvent,
  type NotableInput,
  type NotableQueryInput,
} from './core/notable.js';
import type { StorageEstimate } from './core/storage.js';
import { Listeners } from './core/listeners.js';
import { MonitorLifecycle } from './monitor-lifecycle.js';
import { NotableRecorder } from './monitor-notable.js';
import { resolveOptions, type MonitorOptions, type ResolvedOptions } from './options.js';
import { LazyRedisPersistence } from './lazy-persistence.js';
import { MonitorReads } from './monitor-reads.js';

export type { MonitorStatus };

/** Typed events of {@link ConnectionMonitor}. */
export type MonitorEvents = PersistenceEvents & {
  /** A notable event: a circuit change, an instance start/stop, a first error after quiet, … */
  notable: [event: NotableEvent];
};

/** Largest number of distinct kinds remembered as already validated. */
const KNOWN_KINDS_CAP = 1024;
/** Memory is trimmed by time (events and rollups older than the retention) this often, ms. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Records connection events per type into bounded memory (instant reads) and, when persistence is
 * on, hands them to a non-blocking Redis writer. See the README for the full API.
 */
export class ConnectionMonitor extends EventEmitter<MonitorEvents> {
  /** Options after defaults. */
  readonly options: ResolvedOptions;
  private readonly types: TypeRegistry;
  private readonly ids: EventIds;
  private readonly knownKinds = new Set<string>();
  private readonly persistence: Persistence;
  private readonly subscribers: Listeners<ConnectionEvent>;
  private readonly reads: MonitorReads;
  private readonly notables: NotableRecorder;
  private nextSweepAt = 0;
  /** Reused out-parameter of `checkMetadata` (no allocation per event). */
  private readonly metadataSize: MetadataSize = { bytes: 0 };
  private readonly lifecycle: MonitorLifecycle;

  /** Throws `CM_ERR_CONFIG` for a bad option. */
  constructor(options: MonitorOptions = {}) {
    super();
    this.options = resolveOptions(options);
    this.subscribers = new Listeners((err) =>
      this.options.logger.warn({ err }, 'connection-monitor: a subscriber threw; ignored'),
    );
    this.ids = new EventIds(`${this.options.instanceId}:${this.options.bootId}:`);
    this.types = new TypeRegistry({ ...this.options, idOf: this.ids.idOf });
    const persistence =
      options.persistenceLayer ??
      (this.options.persistence
        ? new LazyRedisPersistence({
            ...this.options,
            batchIdPrefix: `${this.options.instanceId}:${this.options.bootId}`,
          })
        : new DisabledPersistence(this.options.quietPeriodMs));
    this.persistence = persistence;
    this.notables = new NotableRecorder({
      idPrefix: `${this.options.instanceId}:${this.options.bootId}:`,
      instance: this.options.instanceId,
      clock: this.options.clock,
      save: (e) => persistence.saveNotable(e),
      emit: (e) => this.emit('notable', e),
      logger: this.options.logger,
    });
    this.reads = new MonitorReads({
      types: this.types,
      persistence,
      options: this.options,
      createdAt: this.options.clock.now(),
      notable: this.notables.log,
    });
    this.lifecycle = new MonitorLifecycle({
      persistence,
      hooks: {
        emit: (name, ...args) => {
          if (name === 'circuit') this.notables.circuit(args[0] as PersistenceEvents['circuit'][0]);
          return (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
        },
        onRecovered: (types) => this.types.mergeRecovered(types),
        snapshot: () => this.reads.snapshot(),
        notable: (input) => this.notables.record(input),
      },
      notables: this.notables,
      closeTimeoutMs: this.options.closeTimeoutMs,
      onClosed: () => this.subscribers.clear(),
    });
  }

  /** A monitor configured from an object shaped like `process.env`; `overrides` win. */
  static fromEnv(
    env: Readonly<Record<string, string | undefined>>,
    overrides: MonitorOptions = {},
  ): ConnectionMonitor {
    const { host: _h, port: _p, token: _t, ...monitorOptions } = configFromEnv(env);
    // The environment's values, then the caller's overrides (checked together once).
    return new ConnectionMonitor({ ...monitorOptions, ...overrides });
  }

  /** Connects and recovers history. Never throws because Redis is down. Idempotent. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /**
   * Records one event: memory at once, Redis in the background. Synchronous, no I/O.
   * @throws MonitorError `CM_ERR_INVALID_EVENT` for a bad type, kind, duration, timestamp, error
   *   or metadata; `CM_ERR_CLOSED` after `close()`.
   */
  recordEvent(type: string, input: EventInput): ConnectionEvent {
    if (this.lifecycle.isClosed) {
      throw new MonitorError('CM_ERR_CLOSED', 'the monitor is closed; recordEvent is not accepted');
    }
    // A new type is added only for an event that passes every check: a refused event leaves no
    // trace (no empty type listed, no place of `maxTypes` taken).
    let state = this.types.get(type);
    if (state === undefined) assertName(type, 'type');
    checkInput(input);
    const kind = input.kind;
    if (!this.knownKinds.has(kind)) {
      assertName(kind, 'kind');
      if (this.knownKinds.size < KNOWN_KINDS_CAP) this.knownKinds.add(kind);
    }
    const durationMs = input.durationMs === undefined ? undefined : checkDuration(input.durationMs);
    const error = input.error === undefined ? undefined : checkError(input.error);
    const metadata =
      input.metadata === undefined ? undefined : checkMetadata(input.metadata, this.metadataSize);
    const now = this.options.clock.now();
    const timestamp =
      input.timestamp === undefined
        ? now
        : checkTimestamp(
            input.timestamp,
            now - this.options.retentionMs,
            now + this.options.maxClockSkewMs,
          );
    state ??= this.types.getOrAdd(type);
    // Last check: it counts a new kind, so it runs once nothing else can refuse the event.
    this.types.admitKind(state, kind);
    const event: ConnectionEvent = {
      id: this.ids.next(),
      type,
      kind,
      timestamp,
      durationMs,
      error,
      metadata,
      instance: this.options.instanceId,
    };
    const isError = isErrorEvent(kind, error);
    const bucket = durationMs === undefined ? -1 : bucketIndex(durationMs);
    const bytes = estimateEventBytes(error, metadata === undefined ? 0 : this.metadataSize.bytes);
    const freed = state.buffer.push(
      this.ids.lastSeq,
      kind,
      timestamp,
      durationMs,
      error,
      metadata,
      bytes,
    );
    this.types.noteAdded(bytes, freed);
    state.stats.add(kind, timestamp, isError, durationMs, bucket);
    state.rollups.add(timestamp, kind, isError, durationMs, bucket, now);
    if (now >= this.nextSweepAt) this.sweep(now);
    this.persistence.enqueue(event);
    if (this.subscribers.size > 0) this.subscribers.notify(event);
    return event;
  }

  /** Drops what is older than the retention from memory, at most once a minute (see `sweep`). */
  private sweep(now: number): void {
    this.nextSweepAt = now + SWEEP_INTERVAL_MS;
    this.types.sweep(now);
  }

  /** Calls `listener` for every event recorded from now on; returns the unsubscribe function. */
  subscribe(listener: (event: ConnectionEvent) => void): () => void {
    const remove = this.subscribers.add(listener);
    return () => void remove();
  }

  /**
   * This process's own live stats of every type it recorded, keyed by type (since it started:
   * the fleet's totals, across restarts and instances, are `getFleetStats()`).
   */
  getStats(): Record<string, TypeStats>;
  /** This process's own live stats of one type, or null when it recorded none. */
  getStats(type: string): TypeStats | null;
  getStats(type?: string): Record<string, TypeStats> | TypeStats | null {
    return type === undefined ? this.reads.ownStats() : this.reads.ownStats(type);
  }

  /** Up to `limit` (default 100, at most bufferSize) newest events of `type`, newest first, from memory. */
  getRecentEvents(type: string, limit = 100): ConnectionEvent[] {
    return this.reads.recent(type, limit);
  }

  /**
   * The all-time latency histogram of one type (log-scale buckets, see `bucketUpperMs`), or null
   * for an unseen type. For exporters such as Prometheus; computed at read time, not per event.
   */
  getLatencyHistogram(type: string): { counts: number[]; sumMs: number; count: number } | null {
    assertName(type, 'type');
    return this.types.get(type)?.stats.latencyHistogram() ?? null;
  }

  /** Connection types seen so far, sorted. */
  getTypes(): string[] {
    return this.types.names();
  }

  /**
   * A page of history, newest first, from Redis (the fleet's, or one instance's with `instance`),
   * or from memory when Redis cannot answer (`source` says which). `limits` (the service's) bound
   * the range. Throws `CM_ERR_INVALID_QUERY` naming a bad parameter.
   */
  getHistoricalData(query: HistoryQuery, limits?: QueryLimits): Promise<HistoryPage> {
    return this.reads.history(query, limits);
  }

  /**
   * Time series of the fleet or of one instance (`instance`), from the stored rollups of the
   * coarsest resolution that answers the bucket exactly (minutes for 24 h, hours for 30 days,
   * days for 365 by default: `resolution` says which), or from memory when Redis cannot answer.
   * All types are merged when `type` is omitted. The range is clipped to the resolution's
   * retention; `limits` (the service's) bound the number of points. Throws `CM_ERR_INVALID_QUERY`.
   */
  getTimeSeriesData(query: TimeSeriesQuery = {}, limits?: QueryLimits): Promise<TimeSeriesResult> {
    return this.reads.timeSeries(query, limits);
  }

  /**
   * Every instance of the fleet (monitors persisting to the same Redis and prefix) seen within
   * the retention, newest first, with its state (`alive`, `stale`, `stopped`, `gone`), clock skew
   * and round trip to Redis, and its own numbers per type. Without Redis: this instance only.
   */
  getInstances(): Promise<InstanceInfo[]> {
    return this.reads.instances();
  }

  /**
   * The fleet's numbers per type, from Redis: totals of every instance (merged counts and
   * histograms, never averaged percentiles), events/s summed over the alive instances. When Redis
   * cannot answer: this process's own `getStats()`, `source: 'memory'`.
   */
  getFleetStats(type?: string): Promise<FleetStats> {
    return this.reads.fleetStats(type);
  }

  /**
   * Calls `listener` with every event any instance of the fleet persists from now on (within one
   * flush interval; this instance's own included). Returns the unsubscribe function. Without
   * persistence nothing is ever delivered.
   */
  subscribeFleet(listener: (event: ConnectionEvent) => void): () => void {
    return this.persistence.subscribeFleet(listener);
  }

  /**
   * Records a notable event of your own (`kind: 'note'`, e.g. a deploy) or one of the built-in
   * kinds (alerts use `alert`): kept in memory and, with Redis, for the fleet for the hour
   * retention, drawn on the dashboard's charts. Throws `CM_ERR_INVALID_EVENT` naming a bad field.
   */
  recordNotable(input: NotableInput): NotableEvent {
    return this.notables.record(checkNotableInput(input));
  }

  /**
   * Notable events, newest first (default: the last 30 days, 200 at most): the fleet's from
   * Redis, or this process's own when Redis cannot answer (`source`). With `type`: that type's
   * and those of no type (circuits, instances). Throws `CM_ERR_INVALID_QUERY`.
   */
  getNotableEvents(
    query: NotableQueryInput = {},
  ): Promise<{ events: NotableEvent[]; source: 'redis' | 'memory' }> {
    return this.reads.notable(query);
  }

  /**
   * Redis memory per type now (`MEMORY USAGE` of its keys) and projected at full retention of
   * every rollup resolution; null without Redis. Measured at most once a minute.
   */
  getStorageEstimate(): Promise<StorageEstimate | null> {
    return this.reads.storage();
  }

  /** Status of the monitor and its persistence. */
  getStatus(): MonitorStatus {
    return this.reads.status(this.lifecycle.state);
  }

  /** Resolves once everything recorded before the call is persisted; rejects saying why not. */
  flush(): Promise<void> {
    return this.persistence.flush();
  }

  /** Stops accepting events, drains the queue within `closeTimeoutMs`, disconnects. Idempotent. */
  close(): Promise<void> {
    return this.lifecycle.close();
  }
}
