import type { Clock } from '../core/clock.js';
import type { ConnectionEvent } from '../core/event.js';
import type { Persistence, PersistenceHooks, PersistenceStatus } from '../core/persistence.js';
import type { NormalizedHistoryQuery } from '../core/query.js';
import { redactUrl } from '../core/redact.js';
import type { Logger } from '../logger.js';
import { BatchWriter, type BatchSink } from './batch-writer.js';
import { FlushBreaker } from './breaker.js';
import { createRedisClient, type MonitorRedis, type RedisConnectionOptions } from './client.js';
import type { EncodedBatch } from './codec.js';
import { KeySpace } from './keys.js';
import { RedisReader } from './reader.js';

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
  /** Consecutive failed flushes that open the circuit. */
  readonly breakerFailures: number;
  /** Time the circuit stays open before a probe, ms. */
  readonly breakerResetMs: number;
  /** Prefix of batch ids, unique per process start (`<instance>:<boot>`). */
  readonly batchIdPrefix: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Redis persistence: dual-write through a batching writer behind a circuit breaker, recovery of
 * recent history at start (or later, when Redis comes back), history and rollup reads.
 */
export class RedisPersistence implements Persistence, BatchSink {
  private readonly client: MonitorRedis;
  private readonly keys: KeySpace;
  private readonly reader: RedisReader;
  private readonly breaker: FlushBreaker;
  private readonly writer: BatchWriter;
  private readonly secret: string;
  private hooks: PersistenceHooks | undefined;
  private isRecovered = false;
  private recovering: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: RedisPersistenceOptions,
    client?: MonitorRedis,
  ) {
    this.client = client ?? createRedisClient(options);
    this.keys = new KeySpace(options.keyPrefix, options.clusterNodes !== undefined);
    this.reader = new RedisReader(this.client, this.keys);
    this.secret = safePassword(options.redisUrl);
    this.breaker = new FlushBreaker({
      failures: options.breakerFailures,
      resetMs: options.breakerResetMs,
      onChange: (state) => {
        options.logger.warn({ circuit: state }, `connection-monitor: persistence circuit ${state}`);
        this.hooks?.emit('circuit', state);
      },
    });
    this.writer = new BatchWriter(options, this, this.breaker);
    this.writer.on('flushed', (info) => this.hooks?.emit('flushed', info));
    this.writer.on('flushFailed', (info) => {
      options.logger.warn(info, 'connection-monitor: flush to Redis failed');
      this.hooks?.emit('flushFailed', info);
    });
    this.writer.on('dropped', (info) => this.hooks?.emit('dropped', info));
  }

  /** Connects and recovers; on failure starts with the circuit open (never throws). */
  async start(hooks: PersistenceHooks): Promise<void> {
    this.hooks = hooks;
    // Bounded even when Redis accepts the connection and then never answers (SIGSTOP, a full
    // network buffer): ioredis's connect timeout covers only the TCP handshake.
    const deadlineMs = this.options.connectTimeoutMs + this.options.socketTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.connect().then(() => this.recover()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer from Redis within ${deadlineMs} ms`)),
            deadlineMs,
          );
        }),
      ]);
    } catch (err) {
      this.options.logger.warn(
        {
          err: this.sanitize(err instanceof Error ? err.message : String(err)),
          redisUrl: redactUrl(this.options.redisUrl),
        },
        'connection-monitor: Redis unavailable at start; running from memory until it returns',
      );
      await this.breaker.open(err instanceof Error ? err : new Error(String(err)));
    } finally {
      clearTimeout(timer);
    }
    this.writer.start();
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
      circuit: this.breaker.state,
      consecutiveFailures: this.breaker.consecutiveFailures,
      workerRunning: this.writer.isRunning,
      queueDepth: this.writer.depth,
      persisted: this.writer.persisted,
      dropped: this.writer.dropped,
      lastFlushAt: this.writer.lastFlushAt,
      lastError: this.writer.lastError,
      recovered: this.isRecovered,
    };
  }

  async history(q: NormalizedHistoryQuery) {
    if (!this.isReadable()) return null;
    try {
      return await this.reader.history(q);
    } catch (err) {
      this.readFailed(err);
      return null;
    }
  }

  async rollups(types: readonly string[] | undefined, from: number, to: number) {
    if (!this.isReadable()) return null;
    try {
      return await this.reader.rollups(types, from, to);
    } catch (err) {
      this.readFailed(err);
      return null;
    }
  }

  /** Reads go to Redis only while it is connected and the circuit is closed. */
  private isReadable(): boolean {
    return (
      this.closing === undefined &&
      this.breaker.state === 'closed' &&
      this.client.status === 'ready'
    );
  }

  private readFailed(err: unknown): void {
    this.options.logger.warn(
      { err: this.sanitize(err instanceof Error ? err.message : String(err)) },
      'connection-monitor: Redis read failed; answering from memory',
    );
  }

  /**
   * Recovers once: concurrent callers (a start that timed out, then a probe) share one recovery,
   * so history and totals are never merged twice.
   */
  private recover(): Promise<void> {
    if (this.isRecovered) return Promise.resolve();
    this.recovering ??= this.loadHistory().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  private async loadHistory(): Promise<void> {
    const started = this.options.clock.now();
    const recovered = await this.reader.recover(
      started - this.options.retentionMs,
      this.options.bufferSize,
      started,
    );
    this.isRecovered = true;
    this.hooks?.onRecovered(recovered);
    this.hooks?.emit('recovered', {
      types: recovered.length,
      events: recovered.reduce((n, r) => n + r.members.length, 0),
      durationMs: this.options.clock.now() - started,
    });
  }

  /** The half-open probe: recovery first when it is still owed, then a PING. */
  async probe(): Promise<void> {
    try {
      await this.recover();
      await this.client.ping();
    } catch (err) {
      throw this.safeError(err);
    }
  }

  /**
   * Writes one flush: one script call per type (pipelined), plus type registration. Recovery
   * still owed (Redis was down at start) runs first, so history is merged before new writes.
   */
  async write(batches: readonly EncodedBatch[]): Promise<void> {
    try {
      await this.recover();
      await this.writeBatches(batches);
    } catch (err) {
      throw this.safeError(err);
    }
  }

  private async writeBatches(batches: readonly EncodedBatch[]): Promise<void> {
    const now = this.options.clock.now();
    const retention = Math.round(this.options.retentionMs);
    const calls = batches.map((b) => {
      const k = this.keys.forType(b.type);
      return this.client.cmWriteBatch(
        k.events,
        k.stats,
        k.rollups,
        k.rollupIndex,
        k.batches,
        b.batchId,
        now,
        retention,
        b.count,
        ...b.pairs,
        b.statsJson,
        b.rollupsJson,
      );
    });
    // The type registry lives outside the types' slots (cluster), so it is a separate, idempotent
    // write; its TTL is refreshed like every other key.
    calls.push(this.client.sadd(this.keys.types, ...batches.map((b) => b.type)));
    calls.push(this.client.pexpire(this.keys.types, retention));
    const results = await Promise.allSettled(calls);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** An error whose message is safe to show (the password cut out). */
  private safeError(err: unknown): Error {
    return new Error(this.sanitize(err instanceof Error ? err.message : String(err)));
  }

  private sanitize(message: string): string {
    return this.secret === '' ? message : message.split(this.secret).join('***');
  }
}

function safePassword(url: string): string {
  try {
    const u = new URL(url);
    return u.password === '' ? '' : decodeURIComponent(u.password);
  } catch {
    return '';
  }
}
