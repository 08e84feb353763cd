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
  isErrorEvent,
  type ConnectionEvent,
  type EventInput,
} from './core/event.js';
import { bucketIndex } from './core/histogram.js';
import { LiveStats, type TypeStats } from './core/live-stats.js';
import {
  historyFromEvents,
  normalizeHistoryQuery,
  normalizeSeriesQuery,
  type HistoryPage,
  type HistoryQuery,
  type QueryLimits,
  type TimeSeriesQuery,
  type TimeSeriesResult,
} from './core/query.js';
import { EventRing } from './core/event-ring.js';
import { RollupStore } from './core/rollup-store.js';
import { buildPoints } from './core/time-series.js';
import type { Rollup } from './core/aggregate.js';
import {
  DisabledPersistence,
  type Persistence,
  type PersistenceEvents,
  type RecoveredType,
} from './core/persistence.js';
import type { MonitorStatus } from './core/status.js';
import { resolveOptions, type MonitorOptions, type ResolvedOptions } from './options.js';
import { RedisPersistence } from './persistence/redis-persistence.js';

export type { MonitorStatus };

/** Typed events of {@link ConnectionMonitor}. */
export type MonitorEvents = PersistenceEvents;

interface TypeState {
  readonly buffer: EventRing;
  readonly stats: LiveStats;
  readonly rollups: RollupStore;
}

/** Largest number of distinct kinds remembered as already validated. */
const KNOWN_KINDS_CAP = 1024;
/**
 * Ids are `<instance>:<boot>:<seq>` with a 13-digit sequence starting at 10^12, so ids have a
 * fixed width and sort in recording order. The id is built from a cached prefix for each block of
 * 1,000 and a precomputed 3-digit suffix: formatting a 13-digit number per event would cost more
 * than everything else `recordEvent` does.
 */
const SEQ_START = 1_000_000_000_000;
const ID_SUFFIX = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * Records connection events per type into bounded memory (instant reads) and, when persistence is
 * on, hands them to a non-blocking Redis writer. See the README for the full API.
 */
export class ConnectionMonitor extends EventEmitter<MonitorEvents> {
  /** Options after defaults. */
  readonly options: ResolvedOptions;
  private readonly types = new Map<string, TypeState>();
  private readonly knownKinds = new Set<string>();
  private readonly subscribers = new Set<(event: ConnectionEvent) => void>();
  private readonly persistence: Persistence;
  private readonly idPrefix: string;
  private readonly createdAt: number;
  private seq = SEQ_START;
  private idBlock = '';
  private idBlockEnd = SEQ_START;
  private readonly idOf = (seq: number): string =>
    this.idPrefix + String(Math.floor(seq / 1000)) + (ID_SUFFIX[seq % 1000] as string);
  private state: MonitorStatus['state'] = 'new';
  private startPromise: Promise<void> | undefined;
  private closePromise: Promise<void> | undefined;

  /** Throws `CM_ERR_CONFIG` for a bad option. */
  constructor(options: MonitorOptions = {}) {
    super();
    this.options = resolveOptions(options);
    this.idPrefix = `${this.options.instanceId}:${this.options.bootId}:`;
    this.createdAt = this.options.clock.now();
    this.persistence =
      options.persistenceLayer ??
      (this.options.persistence
        ? new RedisPersistence({
            ...this.options,
            batchIdPrefix: `${this.options.instanceId}:${this.options.bootId}`,
          })
        : new DisabledPersistence());
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
    if (this.state === 'closing' || this.state === 'closed') {
      return Promise.reject(new MonitorError('CM_ERR_CLOSED', 'the monitor is closed'));
    }
    this.startPromise ??= this.persistence
      .start({
        emit: (name, ...args) =>
          (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args),
        onRecovered: (types) => this.mergeRecovered(types),
      })
      .then(() => {
        if (this.state === 'new') this.state = 'running';
      });
    return this.startPromise;
  }

  /**
   * Records one event: memory at once, Redis in the background. Synchronous, no I/O.
   * @throws MonitorError `CM_ERR_INVALID_EVENT` for a bad type, kind, duration, timestamp, error
   *   or metadata; `CM_ERR_CLOSED` after `close()`.
   */
  recordEvent(type: string, input: EventInput): ConnectionEvent {
    if (this.state === 'closing' || this.state === 'closed') {
      throw new MonitorError('CM_ERR_CLOSED', 'the monitor is closed; recordEvent is not accepted');
    }
    let state = this.types.get(type);
    if (state === undefined) state = this.addType(type);
    checkInput(input);
    const kind = input.kind;
    if (!this.knownKinds.has(kind)) {
      assertName(kind, 'kind');
      if (this.knownKinds.size < KNOWN_KINDS_CAP) this.knownKinds.add(kind);
    }
    const durationMs = input.durationMs === undefined ? undefined : checkDuration(input.durationMs);
    const error = input.error === undefined ? undefined : checkError(input.error);
    const metadata = input.metadata === undefined ? undefined : checkMetadata(input.metadata);
    const timestamp =
      input.timestamp === undefined ? this.options.clock.now() : checkTimestamp(input.timestamp, 0);
    const seq = this.seq++;
    if (seq >= this.idBlockEnd) {
      this.idBlock = this.idPrefix + String(Math.floor(seq / 1000));
      this.idBlockEnd = seq - (seq % 1000) + 1000;
    }
    const event: ConnectionEvent = {
      id: this.idBlock + (ID_SUFFIX[seq % 1000] as string),
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
    state.buffer.push(seq, kind, timestamp, durationMs, error, metadata);
    state.stats.add(kind, timestamp, isError, durationMs, bucket);
    state.rollups.add(timestamp, kind, isError, durationMs, bucket);
    this.persistence.enqueue(event);
    if (this.subscribers.size > 0) this.notify(event);
    return event;
  }

  /** Calls `listener` for every event recorded from now on; returns the unsubscribe function. */
  subscribe(listener: (event: ConnectionEvent) => void): () => void {
    this.subscribers.add(listener);
    return () => {
      this.subscribers.delete(listener);
    };
  }

  /** Live stats of every type, keyed by type. */
  getStats(): Record<string, TypeStats>;
  /** Live stats of one type, or null when it has no events. */
  getStats(type: string): TypeStats | null;
  getStats(type?: string): Record<string, TypeStats> | TypeStats | null {
    const now = this.options.clock.now();
    if (type !== undefined) {
      assertName(type, 'type');
      return this.types.get(type)?.stats.snapshot(type, now) ?? null;
    }
    const out: Record<string, TypeStats> = {};
    for (const [t, s] of [...this.types].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out[t] = s.stats.snapshot(t, now);
    }
    return out;
  }

  /** Up to `limit` (default 100, at most bufferSize) newest events of `type`, newest first, from memory. */
  getRecentEvents(type: string, limit = 100): ConnectionEvent[] {
    assertName(type, 'type');
    if (!Number.isInteger(limit) || limit < 0) {
      throw new MonitorError(
        'CM_ERR_INVALID_QUERY',
        `limit must be a whole number ≥ 0, got ${limit}`,
        {
          field: 'limit',
          value: limit,
        },
      );
    }
    return this.types.get(type)?.buffer.newest(limit) ?? [];
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
    return [...this.types.keys()].sort();
  }

  /**
   * A page of history, newest first, from Redis, or from memory when Redis cannot answer
   * (`source` says which). `limits` (the service's) bound the range. Throws
   * `CM_ERR_INVALID_QUERY` naming a bad parameter.
   */
  async getHistoricalData(query: HistoryQuery, limits?: QueryLimits): Promise<HistoryPage> {
    const now = this.options.clock.now();
    const q = normalizeHistoryQuery(query, now, this.options.retentionMs, limits);
    const fromRedis = await this.persistence.history(q);
    const source = fromRedis === null ? 'memory' : 'redis';
    const page = fromRedis ?? historyFromEvents(this.types.get(q.type)?.buffer ?? [], q);
    return { ...page, source, from: q.from, to: q.to, clipped: q.clipped };
  }

  /**
   * Time series from per-minute rollups (Redis, or memory when Redis cannot answer). All types
   * are merged when `type` is omitted. `limits` (the service's) bound the range and the number of
   * points. Throws `CM_ERR_INVALID_QUERY` naming a bad parameter.
   */
  async getTimeSeriesData(
    query: TimeSeriesQuery = {},
    limits?: QueryLimits,
  ): Promise<TimeSeriesResult> {
    const now = this.options.clock.now();
    const q = normalizeSeriesQuery(query, now, this.options.retentionMs, limits);
    const types = q.type === undefined ? undefined : [q.type];
    let rollups: Rollup[] | null = await this.persistence.rollups(types, q.from, q.to);
    const source = rollups === null ? 'memory' : 'redis';
    if (rollups === null) {
      rollups = [];
      for (const [t, s] of this.types) {
        if (q.type === undefined || q.type === t) rollups.push(...s.rollups.range(q.from, q.to));
      }
    }
    return {
      bucketMs: q.bucketMs,
      from: q.from,
      to: q.to,
      points: buildPoints(rollups, q.from, q.to, q.bucketMs),
      source,
      clipped: q.clipped,
    };
  }

  /** Status of the monitor and its persistence. */
  getStatus(): MonitorStatus {
    return {
      instance: this.options.instanceId,
      state: this.state,
      createdAt: this.createdAt,
      uptimeMs: this.options.clock.now() - this.createdAt,
      types: this.getTypes(),
      bufferSize: this.options.bufferSize,
      retentionMs: this.options.retentionMs,
      persistence: this.persistence.status(),
    };
  }

  /** Resolves once everything recorded before the call is persisted; rejects saying why not. */
  flush(): Promise<void> {
    return this.persistence.flush();
  }

  /** Stops accepting events, drains the queue within `closeTimeoutMs`, disconnects. Idempotent. */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      this.state = 'closing';
      try {
        await this.startPromise?.catch(() => undefined);
        await this.persistence.close(this.options.closeTimeoutMs);
      } finally {
        this.state = 'closed';
        this.subscribers.clear();
      }
    })();
    return this.closePromise;
  }

  private addType(type: string): TypeState {
    assertName(type, 'type');
    if (this.types.size >= this.options.maxTypes) {
      throw new MonitorError(
        'CM_ERR_INVALID_EVENT',
        `invalid event: type ${JSON.stringify(type)} — at most ${this.options.maxTypes} connection types are kept (option maxTypes)`,
        { field: 'type', value: type },
      );
    }
    const state: TypeState = {
      buffer: new EventRing(this.options.bufferSize, type, this.options.instanceId, this.idOf),
      stats: new LiveStats(),
      rollups: new RollupStore(this.options.retentionMs),
    };
    this.types.set(type, state);
    return state;
  }

  private notify(event: ConnectionEvent): void {
    for (const listener of this.subscribers) {
      try {
        listener(event);
      } catch (err) {
        this.options.logger.warn({ err }, 'connection-monitor: a subscriber threw; ignored');
      }
    }
  }

  /**
   * Merges recovered history: recovered events go behind what this process recorded since it
   * was created (they are older), totals and minute rollups are added, the rate window is filled
   * from their timestamps.
   */
  private mergeRecovered(recovered: RecoveredType[]): void {
    const now = this.options.clock.now();
    for (const r of recovered) {
      if (!this.types.has(r.type) && this.types.size >= this.options.maxTypes) continue;
      const state = this.types.get(r.type) ?? this.addType(r.type);
      const current = state.buffer.newest();
      const room = Math.max(0, this.options.bufferSize - current.length);
      state.buffer.clear();
      for (let i = Math.min(room, r.members.length) - 1; i >= 0; i--) {
        state.buffer.pushEvent(r.members[i] as string);
      }
      for (let i = current.length - 1; i >= 0; i--) {
        const e = current[i] as ConnectionEvent;
        state.buffer.pushEvent(e);
      }
      if (r.totals !== null) state.stats.addTotals(r.totals);
      for (const t of r.recentTimestamps) if (t > now - 60_000) state.stats.addToRate(t);
      state.rollups.addLater(r.rollups);
    }
  }
}
