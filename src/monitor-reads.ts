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
import { buildPoints } from './core/time-series.js';
import type { TypeRegistry } from './core/type-registry.js';
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
  /** This process's own stats per type. */
  readonly ownStats: () => Record<string, TypeStats>;
}

/** Queries of one monitor. */
export class MonitorReads {
  constructor(private readonly deps: MonitorReadsDeps) {}

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
   * Time series from per-minute rollups (Redis, or memory when Redis cannot answer). All types
   * are merged when `type` is omitted. `limits` (the service's) bound the range and the number of
   * points. Throws `CM_ERR_INVALID_QUERY` naming a bad parameter.
   */
  async timeSeries(query: TimeSeriesQuery, limits?: QueryLimits): Promise<TimeSeriesResult> {
    const now = this.deps.options.clock.now();
    const q = normalizeSeriesQuery(query, now, this.deps.options.retentionMs, limits);
    const types = q.type === undefined ? undefined : [q.type];
    const stored = await this.deps.persistence.rollups(types, q.from, q.to, q.instance);
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
        rollups.push(...this.deps.types.memoryRollups(t, q.from, q.to, now, q.instance));
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
      from: q.from,
      to: q.to,
      points: buildPoints(rollups, q.from, q.to, q.bucketMs),
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
      const own = this.deps.ownStats();
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

  /** What this instance says of itself in its fleet heartbeat. */
  snapshot(): InstanceSnapshot {
    const p = this.deps.persistence.status();
    const types: InstanceSnapshot['types'] = {};
    for (const [t, s] of Object.entries(this.deps.ownStats())) {
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
