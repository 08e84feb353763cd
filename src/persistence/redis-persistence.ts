import type { Aggregate, Rollup } from '../core/aggregate.js';
import type { Clock } from '../core/clock.js';
import type { ConnectionEvent } from '../core/event.js';
import type {
  Persistence,
  PersistenceHooks,
  PersistenceStatus,
  TypedRollups,
} from '../core/persistence.js';
import type { NormalizedHistoryQuery } from '../core/query.js';
import { redactUrl } from '../core/redact.js';
import type { Logger } from '../logger.js';
import { BatchWriter } from './batch-writer.js';
import { ShardBreakers } from './breaker.js';
import { createRedisClient, type MonitorRedis, type RedisConnectionOptions } from './client.js';
import type { EncodedBatch } from './codec.js';
import { classifyFailure, type Failure } from './failures.js';
import { KeySpace } from './keys.js';
import { ProblemLog } from './problems.js';
import { RedisReader } from './reader.js';
import { decodeStats } from './codec.js';
import { FleetTail } from './fleet-tail.js';
import { InstanceRegistry } from './instance-registry.js';
import type { BatchSink } from './shard-calls.js';
import { clientOfShard, DEFAULT_SHARD, shardOfKey } from './shards.js';
import { TypeRegistration } from './type-registration.js';
import { Recovery } from './recovery.js';
import { APPLIED_TO_NEW_KEYS, writeBatchArgs } from './write-script.js';

/** What Redis persistence needs (the monitor passes these from its resolved options). */
export interface RedisPersistenceOptions extends RedisConnectionOptions {
  readonly keyPrefix: string;
  /** Events per script call. */
  readonly batchSize: number;
  /** Time between flushes, ms. */
  readonly flushIntervalMs: number;
  /** Most events waiting for Redis. */
  readonly maxQueueSize: number;
  /** Retention of every key, and the window recovered at start, ms. */
  readonly retentionMs: number;
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
export class RedisPersistence implements Persistence, BatchSink {
  private readonly client: MonitorRedis;
  private readonly keys: KeySpace;
  private readonly reader: RedisReader;
  private readonly breakers: ShardBreakers;
  private readonly writer: BatchWriter;
  private readonly problems: ProblemLog;
  private readonly recovery: Recovery;
  private readonly secret: string;
  private readonly registration: TypeRegistration;
  private readonly registry: InstanceRegistry;
  private readonly tail: FleetTail;
  private hooks: PersistenceHooks | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: RedisPersistenceOptions,
    client?: MonitorRedis,
  ) {
    this.client = client ?? createRedisClient(options);
    this.keys = new KeySpace(options.keyPrefix, options.clusterNodes !== undefined);
    this.reader = new RedisReader(this.client, this.keys);
    this.secret = safePassword(options.redisUrl);
    this.problems = new ProblemLog(options.clock, options.logger);
    this.registration = new TypeRegistration(
      this.client,
      this.keys.types,
      options.retentionMs,
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
    this.breakers = new ShardBreakers({
      failures: options.breakerFailures,
      resetMs: options.breakerResetMs,
      onChange: (state) => {
        options.logger.warn({ circuit: state }, `connection-monitor: persistence circuit ${state}`);
        this.hooks?.emit('circuit', state);
      },
    });
    this.writer = new BatchWriter(options, this, this.breakers);
    this.writer.on('flushed', (info) => this.hooks?.emit('flushed', info));
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

  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Drains within `deadlineMs`, then disconnects. Every caller waits for the same close. */
  close(deadlineMs: number): Promise<void> {
    this.closing ??= this.drainAndDisconnect(deadlineMs);
    return this.closing;
  }

  private async drainAndDisconnect(deadlineMs: number): Promise<void> {
    const left = await this.writer.close(deadlineMs);
    this.tail.close();
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

  async history(q: NormalizedHistoryQuery) {
    if (!this.isReadable(q.type)) return null;
    try {
      return await this.reader.history(q);
    } catch (err) {
      this.readFailed(err);
      return null;
    }
  }

  /**
   * Rollups per type; a type whose shard cannot answer now is left out (the caller answers it
   * from memory), so one dead shard does not turn every time series into memory's.
   */
  async rollups(types: readonly string[] | undefined, from: number, to: number, instance?: string) {
    if (this.closing !== undefined || this.client.status !== 'ready') return null;
    let list = types;
    if (list === undefined) {
      try {
        list = (await this.reader.types(this.options.maxTypes)).types;
      } catch (err) {
        this.readFailed(err);
        return null;
      }
    }
    const out: TypedRollups = new Map<string, Rollup[]>();
    await Promise.all(
      list.map(async (type) => {
        if (!this.isReadable(type)) return;
        try {
          out.set(type, await this.reader.rollups(type, from, to, instance));
        } catch (err) {
          this.readFailed(err);
        }
      }),
    );
    return out;
  }

  /** The fleet's totals (the stats hashes), per type the store can answer now. */
  async fleetTotals(types: readonly string[] | undefined) {
    if (this.closing !== undefined || this.client.status !== 'ready') return null;
    let list = types;
    try {
      list ??= (await this.reader.types(this.options.maxTypes)).types;
    } catch (err) {
      this.readFailed(err);
      return null;
    }
    const out = new Map<string, Aggregate>();
    await Promise.all(
      list.map(async (type) => {
        if (!this.isReadable(type)) return;
        try {
          const totals = decodeStats(await this.client.hgetall(this.keys.forType(type).stats));
          if (totals !== null) out.set(type, totals);
        } catch (err) {
          this.readFailed(err);
        }
      }),
    );
    return out;
  }

  /** Every instance of the fleet seen within the retention, or null when Redis cannot answer. */
  async instances() {
    if (this.closing !== undefined || this.client.status !== 'ready') return null;
    try {
      return await this.registry.list();
    } catch (err) {
      this.readFailed(err);
      return null;
    }
  }

  /** The fleet live tail (Redis pub/sub; see `fleet-tail.ts`). */
  subscribeFleet(listener: (event: ConnectionEvent) => void): () => void {
    return this.tail.subscribe(listener);
  }

  /** The shard of a type's keys: `redis`, or the cluster master serving its slot. */
  shardOf(type: string): string {
    return shardOfKey(this.client, this.keys.forType(type).events);
  }

  /** The half-open probe of a shard: the types set recovered when still owed, then a PING. */
  async probe(shard: string): Promise<void> {
    try {
      if (shard === shardOfKey(this.client, this.keys.types)) await this.recovery.all();
      await clientOfShard(this.client, shard).ping();
    } catch (err) {
      throw this.safeError(err);
    }
  }

  /**
   * Writes one shard's batches: each type recovered first when it is not yet, then one script
   * call per batch (one round trip). One entry per batch: null when written, else why not.
   */
  async write(shard: string, batches: readonly EncodedBatch[]): Promise<(Failure | null)[]> {
    if (!this.recovery.isComplete) this.recovery.all().catch(() => undefined);
    const types = new Set(batches.map((b) => b.type));
    let blocked: Map<string, Failure>;
    try {
      blocked = await this.recovery.ensure(types);
    } catch (err) {
      throw this.safeError(err);
    }
    const now = this.options.clock.now();
    const calls = batches.map((b) => {
      const failure = blocked.get(b.type);
      if (failure !== undefined) return Promise.reject(failure);
      return this.client.cmWriteBatch(
        ...writeBatchArgs(
          this.keys.forType(b.type),
          this.options.instanceId,
          b,
          now,
          this.options.retentionMs,
        ),
      );
    });
    const results = await Promise.allSettled(calls);
    const written: string[] = [];
    results.forEach((r, i) => {
      const pairs = batches[i]?.pairs ?? [];
      if (r.status === 'fulfilled')
        for (let j = 1; j < pairs.length; j += 2) written.push(pairs[j] as string);
    });
    this.tail.publish(written);
    const outcomes = results.map((r) => {
      if (r.status === 'fulfilled') return null;
      const f: Failure = isFailure(r.reason) ? r.reason : classifyFailure(r.reason);
      return { ...f, reason: this.sanitize(f.reason) };
    });
    this.registration.register(types, now, {
      // Types whose keys the script created: new ones, or ones whose data Redis lost.
      created: batches.flatMap((b, i) => {
        const r = results[i];
        return r?.status === 'fulfilled' && r.value === APPLIED_TO_NEW_KEYS ? [b.type] : [];
      }),
      hadConnectionFailure: outcomes.some((f) => f?.isConnection === true),
    });
    return outcomes;
  }

  /** Reads go to Redis only while it is connected and the type's shard circuit is closed. */
  private isReadable(type: string): boolean {
    return (
      this.closing === undefined &&
      this.client.status === 'ready' &&
      this.breakers.get(this.shardOf(type)).state === 'closed'
    );
  }

  private readFailed(err: unknown): void {
    this.options.logger.warn(
      { err: this.sanitize(errorText(err)) },
      'connection-monitor: Redis read failed; answering from memory',
    );
  }

  /** An error whose message is safe to show (the password cut out). */
  private safeError(err: unknown): Error {
    return new Error(this.sanitize(errorText(err)));
  }

  private sanitize(message: string): string {
    return this.secret === '' ? message : message.split(this.secret).join('***');
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isFailure(value: unknown): value is Failure {
  return typeof value === 'object' && value !== null && 'isConnection' in value;
}

function safePassword(url: string): string {
  try {
    const u = new URL(url);
    return u.password === '' ? '' : decodeURIComponent(u.password);
  } catch {
    return '';
  }
}
