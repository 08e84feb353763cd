/**
 * Redis persistence, loaded when the monitor starts rather than when the library is imported:
 * ioredis and cockatiel (about half of the library's import time) load only for a monitor that
 * persists, and only once it starts. Events recorded before `start()` wait in a queue bounded
 * like the writer's (`maxQueueSize`, drops counted) and go to the writer when it exists.
 */
import type { Aggregate } from './core/aggregate.js';
import type { ConnectionEvent } from './core/event.js';
import type { InstanceInfo } from './core/fleet.js';
import type { NotableEvent, NotableQuery } from './core/notable.js';
import type { StorageEstimate } from './core/storage.js';
import type { Resolution } from './core/time-series.js';
import type {
  Persistence,
  PersistenceHooks,
  PersistenceStatus,
  TypedRollups,
} from './core/persistence.js';
import type { NormalizedHistoryQuery, HistoryPage } from './core/query.js';
import { MonitorError } from './core/errors.js';
import { redactUrl } from './core/redact.js';
import type { RedisPersistenceOptions } from './persistence/redis-persistence.js';

/** {@link Persistence} that loads the Redis implementation in `start()`. */
export class LazyRedisPersistence implements Persistence {
  readonly detectsFirstErrors = true;
  private real: Persistence | undefined;
  /** Events recorded before start, at most `maxQueueSize`. */
  private early: ConnectionEvent[] = [];
  private earlyDropped = 0;
  /** Notable events saved before start (a few: the monitor saves none before it starts). */
  private earlyNotable: NotableEvent[] = [];
  /** Fleet subscriptions made before start, made on the real layer when it exists. */
  private pendingSubscriptions: (() => void)[] = [];
  private isClosed = false;

  constructor(private readonly options: RedisPersistenceOptions) {}

  async start(hooks: PersistenceHooks): Promise<void> {
    const { RedisPersistence } = await import('./persistence/redis-persistence.js');
    if (this.isClosed) return;
    const real = new RedisPersistence(this.options);
    this.real = real;
    // Queued before the connection: the writer waits for each type's recovery before writing it.
    for (const e of this.early) real.enqueue(e);
    this.early = [];
    for (const e of this.earlyNotable) real.saveNotable(e);
    this.earlyNotable = [];
    for (const subscribe of this.pendingSubscriptions) subscribe();
    this.pendingSubscriptions = [];
    await real.start(hooks);
  }

  enqueue(event: ConnectionEvent): void {
    if (this.real !== undefined) this.real.enqueue(event);
    else if (this.early.length < this.options.maxQueueSize) this.early.push(event);
    else this.earlyDropped++;
  }

  flush(): Promise<void> {
    if (this.real !== undefined) return this.real.flush();
    if (this.early.length === 0) return Promise.resolve();
    return Promise.reject(
      new MonitorError(
        'CM_ERR_PERSISTENCE',
        `flush: the monitor is not started, ${this.early.length} event(s) wait for start()`,
      ),
    );
  }

  async close(deadlineMs: number): Promise<void> {
    this.isClosed = true;
    await this.real?.close(deadlineMs);
  }

  status(): PersistenceStatus {
    const s = this.real?.status() ?? {
      enabled: true,
      mode: this.options.clusterNodes === undefined ? 'redis' : 'cluster',
      redisUrl: redactUrl(this.options.redisUrl),
      circuit: 'closed',
      consecutiveFailures: 0,
      workerRunning: false,
      queueDepth: this.early.length,
      persisted: 0,
      dropped: 0,
      rejected: 0,
      problems: [],
      shards: [],
      lastFlushAt: null,
      lastError: null,
      recovered: false,
    };
    return { ...s, dropped: s.dropped + this.earlyDropped };
  }

  history(q: NormalizedHistoryQuery): Promise<Pick<HistoryPage, 'events' | 'nextBefore'> | null> {
    return this.real?.history(q) ?? Promise.resolve(null);
  }

  rollups(
    types: readonly string[] | undefined,
    from: number,
    to: number,
    resolution: Resolution,
    instance?: string,
  ): Promise<TypedRollups | null> {
    return this.real?.rollups(types, from, to, resolution, instance) ?? Promise.resolve(null);
  }

  saveNotable(event: NotableEvent): void {
    if (this.real !== undefined) this.real.saveNotable(event);
    else if (this.earlyNotable.length < 100) this.earlyNotable.push(event);
  }

  notable(q: NotableQuery): Promise<NotableEvent[] | null> {
    return this.real?.notable(q) ?? Promise.resolve(null);
  }

  storage(): Promise<StorageEstimate | null> {
    return this.real?.storage() ?? Promise.resolve(null);
  }

  fleetTotals(types: readonly string[] | undefined): Promise<Map<string, Aggregate> | null> {
    return this.real?.fleetTotals(types) ?? Promise.resolve(null);
  }

  instances(): Promise<InstanceInfo[] | null> {
    return this.real?.instances() ?? Promise.resolve(null);
  }

  /** Before start the subscription waits: it is made on the real layer once it exists. */
  subscribeFleet(listener: (event: ConnectionEvent) => void): () => void {
    if (this.real !== undefined) return this.real.subscribeFleet(listener);
    let stop: (() => void) | undefined;
    let isCancelled = false;
    this.pendingSubscriptions.push(() => {
      if (!isCancelled) stop = this.real?.subscribeFleet(listener);
    });
    return () => {
      isCancelled = true;
      stop?.();
    };
  }
}
