/**
 * The monitor's reads: history and time series (Redis, or memory when Redis cannot answer), the
 * fleet's instances and numbers. Split from `monitor.ts`, which records and owns the lifecycle.
 */
import type { Aggregate, Rollup } from './core/aggregate.js';
import { assertName } from './core/event.js';
import type { FleetStats, InstanceInfo, InstanceSnapshot } from './core/fleet.js';
import { statsOf, type TypeStats } from './core/live-stats.js';
import type { Persistence } from './core/persistence.js';
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
import {
  normalizeNotableQuery,
  type NotableEvent,
  type NotableLog,
  type NotableQueryInput,
} from './core/notable.js';
import type { StorageEstimate } from './core/storage.js';
import type { MonitorStatus } from './core/status.js';
import { bucketStart, buildPoints, type ResolutionRetention } from './core/time-series.js';
import type { TypeRegistry, TypeState } from './core/type-registry.js';
import type { ConnectionEvent } from './core/event.js';
import { MonitorError } from './core/errors.js';
import type { ResolvedOptions } from './options.js';
import { packageVersion } from './package-info.js';
import { hostname } from 'node:os';

/** What the reads need of the monitor. */
export interface MonitorReadsDeps {
  readonly types: TypeRegistry;
  readonly persistence: Persistence;
  readonly options: ResolvedOptions;
  /** Epoch ms when the monitor was created. */
  readonly createdAt: number;
  /** This process's own notable events. */
  readonly notable: NotableLog;
}

/** Queries of one monitor. */
export class MonitorReads {
  constructor(private readonly deps: MonitorReadsDeps) {}

  /** This process's own live stats of every type (or one type, null when it recorded none). */
  ownStats(): Record<string, TypeStats>;
  ownStats(type: string): TypeStats | null;
  ownStats(type?: string): Record<string, TypeStats> | TypeStats | null {
    const { types, options } = this.deps;
    const now = options.clock.now();
    if (type !== undefined) {
      assertName(type, 'type');
      const s = types.get(type)?.stats;
      return s === undefined || s.isEmpty ? null : s.snapshot(type, now);
    }
    const out: Record<string, TypeStats> = {};
    for (const t of types.names()) {
      const s = (types.get(t) as TypeState).stats;
      if (!s.isEmpty) out[t] = s.snapshot(t, now);
    }
    return out;
  }

  /** Status of the monitor (`state` is the lifecycle's) and its persistence. */
  status(state: MonitorStatus['state']): MonitorStatus {
    const { options, types, persistence, createdAt } = this.deps;
    return {
      instance: options.instanceId,
      state,
      createdAt,
      uptimeMs: options.clock.now() - createdAt,
      types: types.names(),
      bufferSize: options.bufferSize,
      retentionMs: options.retentionMs,
      memory: types.memory(),
      persistence: persistence.status(),
    };
  }

  /** Up to `limit` newest events of `type` in memory, newest first. */
  recent(type: string, limit: number): ConnectionEvent[] {
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
    return this.deps.types.get(type)?.buffer.newest(limit) ?? [];
  }

  /**
   * A page of history, newest first, from Redis, or from memory when Redis cannot answer
   * (`source` says which). `limits` (the service's) bound the range. Throws
   * `CM_ERR_INVALID_QUERY` naming a bad parameter.
   */
  async history(query: HistoryQuery, limits?: QueryLimits): Promise<HistoryPage> {
    const now = this.deps.options.clock.now();
    const q = normalizeHistoryQuery(query, now, this.deps.options.retentionMs, limits);
    const fromRedis = await this.deps.persistence.history(q);
    const source = fromRedis === null ? 'memory' : 'redis';
    const page = fromRedis ?? historyFromEvents(this.deps.types.get(q.type)?.buffer ?? [], q);
    return { ...page, source, from: q.from, to: q.to, clipped: q.clipped };
  }

  /**
   * Time series from the stored rollups of the resolution the bucket picks (Redis, or minute
   * rollups in memory when Redis cannot answer). All types are merged when `type` is omitted.
   * `limits` (the service's) bound the number of points; the range is clipped to the retention of
   * the resolution read. Throws `CM_ERR_INVALID_QUERY` naming a bad parameter.
   */
  async timeSeries(query: TimeSeriesQuery, limits?: QueryLimits): Promise<TimeSeriesResult> {
    const now = this.deps.options.clock.now();
    const q = normalizeSeriesQuery(query, now, this.retention(), limits);
    const types = q.type === undefined ? undefined : [q.type];
    // Every point holds its whole bucket, the first one included.
    const from = bucketStart(q.from, q.bucketMs);
    const stored = await this.deps.persistence.rollups(types, from, q.to, q.resolution, q.instance);
    // Types the store answered come from it; the others (all of them when it cannot answer, or
    // a type whose shard is down) from memory.
    const rollups: Rollup[] = [];
    let fromStoreCount = 0;
    let fromMemory = 0;
    const wanted = types ?? [...new Set([...this.deps.types.names(), ...(stored?.keys() ?? [])])];
    for (const t of wanted) {
      const fromStore = stored?.get(t);
      if (fromStore !== undefined) {
        fromStoreCount++;
        rollups.push(...fromStore);
      } else if (stored === null || this.deps.types.get(t) !== undefined) {
        fromMemory++;
        rollups.push(...this.deps.types.memoryRollups(t, from, q.to, now, q.instance));
      }
    }
    const source =
      stored === null || (fromStoreCount === 0 && fromMemory > 0)
        ? 'memory'
        : fromMemory === 0
          ? 'redis'
          : 'mixed';
    return {
      bucketMs: q.bucketMs,
      resolution: stored === null ? 'minute' : q.resolution,
      from: q.from,
      to: q.to,
      points: buildPoints(rollups, from, q.to, q.bucketMs),
      source,
      clipped: q.clipped,
    };
  }

  /**
   * Every instance of the fleet (monitors persisting to the same Redis and prefix) seen within
   * the retention, newest first, with its state (`alive`, `stale`, `stopped`, `gone`), clock skew
   * and round trip to Redis, and its own numbers per type. Without Redis: this instance only.
   */
  async instances(): Promise<InstanceInfo[]> {
    const listed = await this.deps.persistence.instances();
    if (listed !== null) return listed;
    return [
      {
        ...this.snapshot(),
        state: 'alive',
        lastSeenAt: this.deps.options.clock.now(),
        clockSkewMs: 0,
        redisRttMs: 0,
      },
    ];
  }

  /**
   * The fleet's numbers per type, from Redis: totals of every instance (merged counts and
   * histograms, never averaged percentiles), events/s summed over the alive instances. When Redis
   * cannot answer: this process's own `getStats()`, `source: 'memory'`.
   */
  async fleetStats(type?: string): Promise<FleetStats> {
    if (type !== undefined) assertName(type, 'type');
    const [totals, instances] = await Promise.all([
      this.deps.persistence.fleetTotals(type === undefined ? undefined : [type]),
      this.instances(),
    ]);
    if (totals === null) {
      const own = this.ownStats();
      const stats: Record<string, TypeStats> = {};
      for (const [t, st] of Object.entries(own))
        if (type === undefined || t === type) stats[t] = st;
      return { stats, source: 'memory', instances };
    }
    const stats: Record<string, TypeStats> = {};
    for (const t of [...totals.keys()].sort()) {
      let eps = 0;
      for (const i of instances) if (i.state === 'alive') eps += i.types[t]?.eventsPerSecond ?? 0;
      stats[t] = statsOf(t, totals.get(t) as Aggregate, eps);
    }
    return { stats, source: 'redis', instances };
  }

  /**
   * Notable events, newest first: the fleet's from Redis, or this process's own when Redis cannot
   * answer. Throws `CM_ERR_INVALID_QUERY` naming a bad parameter.
   */
  async notable(query: NotableQueryInput): Promise<{
    events: NotableEvent[];
    source: 'redis' | 'memory';
  }> {
    const now = this.deps.options.clock.now();
    const q = normalizeNotableQuery(query, now, this.deps.options.hourlyRetentionMs);
    const stored = await this.deps.persistence.notable(q);
    if (stored !== null) return { events: stored, source: 'redis' };
    return { events: this.deps.notable.query(q), source: 'memory' };
  }

  /** The Redis memory estimate per type (null without Redis). */
  storage(): Promise<StorageEstimate | null> {
    return this.deps.persistence.storage();
  }

  /** How long each resolution is kept. */
  private retention(): ResolutionRetention {
    const o = this.deps.options;
    return { minute: o.retentionMs, hour: o.hourlyRetentionMs, day: o.dailyRetentionMs };
  }

  /** What this instance says of itself in its fleet heartbeat. */
  snapshot(): InstanceSnapshot {
    const p = this.deps.persistence.status();
    const types: InstanceSnapshot['types'] = {};
    for (const [t, s] of Object.entries(this.ownStats())) {
      types[t] = { events: s.events, errors: s.errors, eventsPerSecond: s.eventsPerSecond };
    }
    return {
      id: this.deps.options.instanceId,
      host: hostname(),
      pid: process.pid,
      version: packageVersion(),
      startedAt: this.deps.createdAt,
      queueDepth: p.queueDepth,
      dropped: p.dropped,
      circuit: p.circuit,
      types,
    };
  }
}
