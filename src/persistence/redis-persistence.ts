import type { Clock } from '../core/clock.js';
import type { ConnectionEvent } from '../core/event.js';
import type { NotableEvent, NotableQuery } from '../core/notable.js';
import type { Persistence, PersistenceHooks, PersistenceStatus } from '../core/persistence.js';
import type { NormalizedHistoryQuery } from '../core/query.js';
import type { Resolution } from '../core/time-series.js';
import { errorText, passwordRedactor, redactUrl } from '../core/redact.js';
import type { Logger } from '../logger.js';
import { BatchWriter } from './batch-writer.js';
import { ShardBreakers } from './breaker.js';
import { createRedisClient, type MonitorRedis, type RedisConnectionOptions } from './client.js';
import { KeySpace } from './keys.js';
import { ProblemLog } from './problems.js';
import { RedisReader } from './reader.js';
import { FleetTail } from './fleet-tail.js';
import { InstanceRegistry } from './instance-registry.js';
import { DEFAULT_SHARD, shardOfKey } from './shards.js';
import { RedisBatchSink } from './batch-sink.js';
import { TypeRegistration } from './type-registration.js';
import { Recovery } from './recovery.js';
import { NotableStore } from './notable-store.js';
import { RedisReads } from './redis-reads.js';
import { StorageMeter } from './storage-meter.js';

/** What Redis persistence needs (the monitor passes these from its resolved options). */
export interface RedisPersistenceOptions extends RedisConnectionOptions {
  readonly keyPrefix: string;
  /** Events per script call. */
  readonly batchSize: number;
  /** Time between flushes, ms. */
  readonly flushIntervalMs: number;
  /** Most events waiting for Redis. */
  readonly maxQueueSize: number;
  /** Retention of events and minute rollups, and the window recovered at start, ms. */
  readonly retentionMs: number;
  /** Retention of hour rollups (and notable events), ms. */
  readonly hourlyRetentionMs: number;
  /** Retention of the fleet's day rollups, ms. */
  readonly dailyRetentionMs: number;
  /** A type's first error after this long without one is notable, ms. */
  readonly quietPeriodMs: number;
  /** Events recovered per type at start. */
  readonly bufferSize: number;
  /** Most types recovered from the types set. */
  readonly maxTypes: number;
  /** Consecutive failed flushes that open a shard's circuit. */
  readonly breakerFailures: number;
  /** Time a circuit stays open before a probe, ms. */
  readonly breakerResetMs: number;
  /** Prefix of batch ids, unique per process start (`<instance>:<boot>`). */
  readonly batchIdPrefix: string;
  /** This instance's id (its own rollups, its heartbeats). */
  readonly instanceId: string;
  /** Interval of the fleet heartbeat, ms. */
  readonly heartbeatMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Redis persistence: dual-write through a batching writer behind one circuit breaker per shard,
 * per-type recovery of recent history (at start, or before a type's first write when it could
 * not be recovered then), history and rollup reads. A type whose data is corrupt, or whose shard
 * is down, fails alone: see the "Failure model" in docs/redis-schema.md.
 */
export class RedisPersistence implements Persistence {
  private readonly client: MonitorRedis;
  private readonly keys: KeySpace;
  private readonly reader: RedisReader;
  private readonly breakers: ShardBreakers;
  private readonly writer: BatchWriter;
  private readonly problems: ProblemLog;
  private readonly recovery: Recovery;
  private readonly sanitize: (text: string) => string;
  private readonly sink: RedisBatchSink;
  private readonly registration: TypeRegistration;
  private readonly registry: InstanceRegistry;
  private readonly tail: FleetTail;
  private readonly notables: NotableStore;
  private readonly reads: RedisReads;
  private hooks: PersistenceHooks | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: RedisPersistenceOptions,
    client?: MonitorRedis,
  ) {
    this.client = client ?? createRedisClient(options);
    this.keys = new KeySpace(options.keyPrefix, options.clusterNodes !== undefined);
    this.reader = new RedisReader(this.client, this.keys);
    this.sanitize = passwordRedactor(options.redisUrl);
    this.problems = new ProblemLog(options.clock, options.logger);
    this.registration = new TypeRegistration(
      this.client,
      this.keys.types,
      // Listed as long as the longest history of a type is kept (its day rollups).
      options.dailyRetentionMs,
      (reason) => this.problems.add('*', this.sanitize(reason), 0, this.keys.types),
    );
    this.recovery = new Recovery(this.reader, this.problems, {
      ...options,
      typesKey: this.keys.types,
    });
    this.registry = new InstanceRegistry(this.client, this.keys.instances, options, () => {
      if (this.hooks === undefined) throw new Error('not started');
      return this.hooks.snapshot();
    });
    this.tail = new FleetTail(this.client, this.keys, options.logger);
    this.notables = new NotableStore(this.client, this.keys.notable, {
      keepMs: options.hourlyRetentionMs,
      clock: options.clock,
    });
    this.reads = new RedisReads({
      client: this.client,
      keys: this.keys,
      reader: this.reader,
      registry: this.registry,
      notable: this.notables,
      storage: new StorageMeter(this.client, this.keys, options),
      maxTypes: options.maxTypes,
      isClosing: () => this.closing !== undefined,
      isShardClosed: (type) => this.breakers.get(this.sink.shardOf(type)).state === 'closed',
      readFailed: (err) =>
        options.logger.warn(
          { err: this.sanitize(errorText(err)) },
          'connection-monitor: Redis read failed; answering from memory',
        ),
    });
    this.breakers = new ShardBreakers({
      failures: options.breakerFailures,
      resetMs: options.breakerResetMs,
      onChange: (state) => {
        options.logger.warn({ circuit: state }, `connection-monitor: persistence circuit ${state}`);
        this.hooks?.emit('circuit', state);
      },
    });
    this.sink = new RedisBatchSink({
      client: this.client,
      keys: this.keys,
      recovery: this.recovery,
      registration: this.registration,
      tail: this.tail,
      settings: {
        retentionMs: options.retentionMs,
        hourlyRetentionMs: options.hourlyRetentionMs,
        dailyRetentionMs: options.dailyRetentionMs,
        quietMs: options.quietPeriodMs,
      },
      instanceId: options.instanceId,
      quietPeriodMs: options.quietPeriodMs,
      clock: options.clock,
      redact: this.sanitize,
      hooks: () => this.hooks,
    });
    this.writer = new BatchWriter(options, this.sink, this.breakers);
    this.writer.on('flushed', (info) => {
      this.hooks?.emit('flushed', info);
      // Redis answers again: notable events that waited for it go now.
      void this.notables.write();
    });
    this.writer.on('flushFailed', (info) => {
      options.logger.warn(info, 'connection-monitor: flush to Redis failed');
      this.hooks?.emit('flushFailed', info);
    });
    this.writer.on('dropped', (info) => this.hooks?.emit('dropped', info));
    this.writer.on('quarantined', (info) => {
      this.problems.add(info.type, info.reason, info.count, info.key);
      this.hooks?.emit('quarantined', info);
    });
    this.writer.on('written', (type) => this.problems.resolve(type));
  }

  /** Connects and recovers; on failure starts with the circuit open (never throws). */
  async start(hooks: PersistenceHooks): Promise<void> {
    this.hooks = hooks;
    this.recovery.attach(hooks);
    // Bounded even when Redis accepts the connection and then never answers (SIGSTOP, a full
    // network buffer): ioredis's connect timeout covers only the TCP handshake.
    const deadlineMs = this.options.connectTimeoutMs + this.options.socketTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.connect().then(() => this.recovery.all()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer from Redis within ${deadlineMs} ms`)),
            deadlineMs,
          );
        }),
      ]);
    } catch (err) {
      this.options.logger.warn(
        { err: this.sanitize(errorText(err)), redisUrl: redactUrl(this.options.redisUrl) },
        'connection-monitor: Redis unavailable at start; running from memory until it returns',
      );
      // The shard that could not answer: the whole server, or the one holding the types set.
      const shard =
        this.client.status === 'ready' ? shardOfKey(this.client, this.keys.types) : DEFAULT_SHARD;
      await this.breakers.get(shard).open(new Error(this.sanitize(errorText(err))));
    } finally {
      clearTimeout(timer);
    }
    this.writer.start();
    this.registry.start();
    this.tail.start(this.options.heartbeatMs);
  }

  enqueue(event: ConnectionEvent): void {
    this.writer.enqueue(event);
  }

  /** Writes what waits: the events (rejects saying why not) and the notable events (best effort). */
  async flush(): Promise<void> {
    await this.writer.flush();
    await this.notables.write();
  }

  /** Drains within `deadlineMs`, then disconnects. Every caller waits for the same close. */
  close(deadlineMs: number): Promise<void> {
    this.closing ??= this.drainAndDisconnect(deadlineMs);
    return this.closing;
  }

  private async drainAndDisconnect(deadlineMs: number): Promise<void> {
    const left = await this.writer.close(deadlineMs);
    this.tail.close();
    await Promise.race([
      this.notables.write(),
      new Promise((r) => setTimeout(r, Math.min(1_000, deadlineMs)).unref()),
    ]);
    // The fleet learns this instance stopped (not crashed): bounded, in case Redis is gone.
    await this.registry.stop(Math.min(1_000, deadlineMs));
    if (left > 0) {
      this.options.logger.warn(
        { unpersisted: left },
        'connection-monitor: closed with events not written to Redis',
      );
    } else {
      // Drained: say goodbye politely (bounded, in case Redis stops answering now).
      try {
        await Promise.race([this.client.quit(), new Promise((r) => setTimeout(r, 1_000).unref())]);
      } catch {
        // Already disconnected.
      }
    }
    this.client.disconnect();
  }

  status(): PersistenceStatus {
    return {
      enabled: true,
      mode: this.options.clusterNodes !== undefined ? 'cluster' : 'redis',
      redisUrl: redactUrl(this.options.redisUrl),
      circuit: this.breakers.state,
      consecutiveFailures: this.breakers.consecutiveFailures,
      workerRunning: this.writer.isRunning,
      queueDepth: this.writer.depth,
      persisted: this.writer.persisted,
      dropped: this.writer.dropped,
      rejected: this.writer.rejected,
      problems: this.problems.list(),
      shards: this.writer.shards(),
      lastFlushAt: this.writer.lastFlushAt,
      lastError: this.writer.lastError,
      recovered: this.recovery.isComplete,
    };
  }

  history(q: NormalizedHistoryQuery) {
    return this.reads.history(q);
  }

  rollups(
    types: readonly string[] | undefined,
    from: number,
    to: number,
    resolution: Resolution,
    instance?: string,
  ) {
    return this.reads.rollups(types, from, to, resolution, instance);
  }

  fleetTotals(types: readonly string[] | undefined) {
    return this.reads.fleetTotals(types);
  }

  instances() {
    return this.reads.instances();
  }

  saveNotable(event: NotableEvent): void {
    this.notables.save(event);
  }

  notable(q: NotableQuery) {
    return this.reads.notable(q);
  }

  storage() {
    return this.reads.storage();
  }

  /** The fleet live tail (Redis pub/sub; see `fleet-tail.ts`). */
  subscribeFleet(listener: (event: ConnectionEvent) => void): () => void {
    return this.tail.subscribe(listener);
  }
}
