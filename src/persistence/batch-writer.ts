import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.js';
import type { ConnectionEvent } from '../core/event.js';
import { MonitorError } from '../core/errors.js';
import type { PersistenceEvents, ShardStatus } from '../core/persistence.js';
import type { Logger } from '../logger.js';
import type { ShardBreakers } from './breaker.js';
import { DropCounter } from './drop-counter.js';
import type { Failure } from './failures.js';
import { PendingBatches, type PendingBatch } from './pending-batches.js';
import { Quarantines } from './quarantines.js';
import { probeShard, writeToShard, type BatchSink } from './shard-calls.js';

/** Options of {@link BatchWriter}, resolved by the caller. */
export interface BatchWriterOptions {
  /** Events per script call. */
  readonly batchSize: number;
  /** Time between timer flushes, ms. */
  readonly flushIntervalMs: number;
  /** Most events waiting (queued plus in batches being written or retried). */
  readonly maxQueueSize: number;
  /** Prefix of batch ids, unique per process start (`<instance>:<boot>`). */
  readonly batchIdPrefix: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Attempts a batch gets when it fails for a reason of its own, before it is quarantined. */
export const MAX_BATCH_ATTEMPTS = 3;

/** Events of {@link BatchWriter}. */
export type BatchWriterEvents = Pick<
  PersistenceEvents,
  'flushed' | 'flushFailed' | 'dropped' | 'quarantined'
> & {
  /** A batch of `type` was written (its problems, if any, are over). */
  written: [type: string];
};

/**
 * Batching background writer (the OpenTelemetry BatchSpanProcessor pattern): a bounded FIFO
 * queue, a flush as soon as `batchSize` events wait and every `flushIntervalMs` (unref'd timer),
 * one flush in flight, drops counted exactly and reported, never thrown.
 *
 * Failure stays where it starts: events are cut into one batch per type (≤ `batchSize` events,
 * each one script call with its own id, so a replay is a no-op), and each shard's batches go
 * through that shard's breaker in one round trip. A batch that fails for a reason of its own is
 * retried up to {@link MAX_BATCH_ATTEMPTS} times, then quarantined (counted, reported) while the
 * others are written; a connection-level failure counts for its shard's breaker only and keeps
 * the batch. When the queue is full, events held for a shard whose circuit is open are dropped
 * first (oldest batch first), so a dead shard cannot crowd out healthy types.
 */
export class BatchWriter extends EventEmitter<BatchWriterEvents> {
  private readonly pending: PendingBatches;
  private readonly drops: DropCounter;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private kickScheduled = false;
  /** Bumped whenever a batch is settled or fails an attempt: `flush()` sees progress. */
  private progress = 0;
  private persistedTotal = 0;
  private readonly quarantines = new Quarantines();
  private lastFlushAtMs: number | null = null;
  private lastErrorMessage: string | null = null;
  private isClosed = false;

  constructor(
    private readonly options: BatchWriterOptions,
    private readonly sink: BatchSink,
    private readonly breakers: ShardBreakers,
  ) {
    super();
    this.pending = new PendingBatches(options.batchIdPrefix);
    this.drops = new DropCounter(options.logger, options.maxQueueSize, (info) =>
      this.emit('dropped', info),
    );
  }

  /** Events waiting for Redis, including batches being written or retried. */
  get depth(): number {
    return this.pending.depth;
  }
  get persisted(): number {
    return this.persistedTotal;
  }
  get dropped(): number {
    return this.drops.total;
  }
  get rejected(): number {
    return this.quarantines.rejected;
  }
  get lastFlushAt(): number | null {
    return this.lastFlushAtMs;
  }
  get lastError(): string | null {
    return this.lastErrorMessage;
  }
  get isRunning(): boolean {
    return this.timer !== undefined;
  }

  /** Per shard: its circuit and the events waiting for it (queued ones are not assigned yet). */
  shards(): ShardStatus[] {
    const waiting = new Map<string, number>();
    for (const [type, list] of this.pending.entries()) {
      const shard = this.sink.shardOf(type);
      for (const b of list) waiting.set(shard, (waiting.get(shard) ?? 0) + b.encoded.count);
    }
    return [...this.breakers.entries()].map(([shard, b]) => ({
      shard,
      circuit: b.state,
      consecutiveFailures: b.consecutiveFailures,
      queueDepth: waiting.get(shard) ?? 0,
    }));
  }

  /** Starts the flush timer (unref'd). */
  start(): void {
    if (this.timer !== undefined || this.isClosed) return;
    this.timer = setInterval(
      () => void this.run(true).catch(() => undefined),
      this.options.flushIntervalMs,
    );
    this.timer.unref();
    if (this.pending.queued >= this.options.batchSize) this.kick();
  }

  /** Queues one event. O(1), no I/O, never throws; drops (and counts) when full. */
  enqueue(event: ConnectionEvent): void {
    if (this.pending.depth >= this.options.maxQueueSize && !this.evictHeld()) {
      this.drops.add(1);
      return;
    }
    this.pending.push(event);
    if (this.pending.queued >= this.options.batchSize && this.timer !== undefined) this.kick();
  }

  /**
   * Resolves once every event accepted before the call is written; rejects with
   * `CM_ERR_CIRCUIT_OPEN` or `CM_ERR_PERSISTENCE` saying why not — including when some of them
   * were quarantined (the others are written).
   */
  async flush(): Promise<void> {
    const target = this.pending.lastSeq;
    const mark = this.quarantines.mark;
    while (this.pending.oldestUnsettled() <= target) {
      const before = this.progress;
      await this.run(true);
      if (this.progress !== before) continue;
      if (this.isHeldByOpenCircuit(target)) {
        throw new MonitorError(
          'CM_ERR_CIRCUIT_OPEN',
          `flush: the circuit is open, ${this.depth} event(s) still queued` +
            (this.lastErrorMessage ? ` (last error: ${this.lastErrorMessage})` : ''),
        );
      }
      throw new MonitorError(
        'CM_ERR_PERSISTENCE',
        `flush: writing to Redis failed: ${this.lastErrorMessage ?? 'unknown error'}`,
      );
    }
    const lost = this.quarantines.since(mark, target);
    if (lost.length > 0) {
      const what = lost.map((q) => `${q.count} of ${q.type} (${q.reason})`).join('; ');
      throw new MonitorError(
        'CM_ERR_PERSISTENCE',
        `flush: events were rejected by Redis and quarantined, the rest is written: ${what}`,
        { field: 'type', value: lost[0]?.type },
      );
    }
  }

  /** Stops the timer and drains what it can before `deadline` (epoch ms). Returns what is left. */
  async close(deadlineMs: number): Promise<number> {
    this.isClosed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.drops.close();
    const now = () => this.options.clock.now();
    const deadline = now() + deadlineMs;
    while (this.depth > 0 && now() < deadline) {
      const before = this.progress;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), deadline - now());
      });
      const outcome = await Promise.race([this.run(true).then(() => 'ran' as const), timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout' || this.progress === before) break;
    }
    // A write still in flight at the deadline is not awaited: the caller disconnects, which
    // rejects it.
    return this.depth;
  }

  /** Frees room by dropping the oldest never-sent batch held by an open circuit. */
  private evictHeld(): boolean {
    const dropped = this.pending.evictUnsent((type) => this.isOpen(type));
    if (dropped === undefined) return false;
    this.progress++;
    this.drops.add(dropped.encoded.count);
    return true;
  }

  private isOpen(type: string): boolean {
    return this.breakers.get(this.sink.shardOf(type)).state === 'open';
  }

  private kick(): void {
    if (this.kickScheduled || this.inFlight !== undefined) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      void this.run(false).catch(() => undefined);
    });
  }

  /** True when an event up to `target` waits for a shard whose circuit is not closed. */
  private isHeldByOpenCircuit(target: number): boolean {
    for (const type of this.pending.typesUpTo(target)) {
      if (this.breakers.get(this.sink.shardOf(type)).state !== 'closed') return true;
    }
    return false;
  }

  /**
   * Runs (or joins) a flush pass. `drainAll`: everything queued; otherwise only while full
   * batches wait.
   */
  private run(drainAll: boolean): Promise<void> {
    if (this.inFlight !== undefined) {
      if (!drainAll) return this.inFlight;
      return this.inFlight.then(() => (this.depth > 0 ? this.run(true) : undefined));
    }
    this.inFlight = this.pass(drainAll).finally(() => {
      this.inFlight = undefined;
      if (!this.isClosed && this.pending.queued >= this.options.batchSize) this.kick();
    });
    return this.inFlight;
  }

  /** One pass: cut the queue into batches, write each shard's batches, probe idle open shards. */
  private async pass(drainAll: boolean): Promise<void> {
    const size = this.options.batchSize;
    const queued = this.pending.queued;
    // When not draining, only full batches go (a partial one waits for the timer).
    this.pending.take(drainAll ? queued : queued - (queued % size), size);
    const byShard = new Map<string, PendingBatch[]>();
    for (const [type, list] of this.pending.entries()) {
      const shard = this.sink.shardOf(type);
      let group = byShard.get(shard);
      if (group === undefined) byShard.set(shard, (group = []));
      group.push(...list);
    }
    const probes: string[] = [];
    for (const [shard, b] of this.breakers.entries()) {
      if (!byShard.has(shard) && b.state !== 'closed') probes.push(shard);
    }
    await Promise.all([
      ...[...byShard].map(([shard, batches]) => this.writeShard(shard, batches)),
      ...probes.map((shard) => this.probe(shard)),
    ]);
  }

  /** Writes one shard's batches through its breaker and settles what can be settled. */
  private async writeShard(shard: string, batches: readonly PendingBatch[]): Promise<void> {
    const started = this.options.clock.now();
    const breaker = this.breakers.get(shard);
    const result = await writeToShard(
      breaker,
      this.sink,
      shard,
      batches.map((b) => b.encoded),
      () => batches.forEach((b) => (b.wasSent = true)),
    );
    if (result.state === 'held') return;
    if (result.state === 'failed') {
      this.lastErrorMessage = result.error;
      this.emit('flushFailed', {
        error: result.error,
        consecutiveFailures: breaker.consecutiveFailures,
      });
    }
    let written = 0;
    batches.forEach((b, i) => {
      const failure = result.outcomes?.[i];
      if (failure === undefined) return;
      if (failure === null) {
        written += b.encoded.count;
        this.settle(b);
        this.emit('written', b.type);
      } else if (!failure.isConnection) {
        this.progress++;
        if (++b.attempts >= MAX_BATCH_ATTEMPTS) this.quarantine(b, failure);
      }
    });
    if (written > 0) {
      this.persistedTotal += written;
      this.lastFlushAtMs = this.options.clock.now();
      this.emit('flushed', {
        count: written,
        durationMs: this.lastFlushAtMs - started,
        persisted: this.persistedTotal,
      });
    }
  }

  /** The half-open probe of an open shard with nothing to write. */
  private async probe(shard: string): Promise<void> {
    const error = await probeShard(this.breakers.get(shard), this.sink, shard);
    if (error !== null) this.lastErrorMessage = error;
  }

  private settle(b: PendingBatch): void {
    this.pending.settle(b);
    this.progress++;
  }

  private quarantine(b: PendingBatch, failure: Failure): void {
    this.settle(b);
    this.quarantines.add({
      firstSeq: b.firstSeq,
      type: b.type,
      count: b.encoded.count,
      reason: failure.reason,
    });
    this.emit('quarantined', {
      type: b.type,
      count: b.encoded.count,
      reason: failure.reason,
      ...(failure.key === undefined ? {} : { key: failure.key }),
    });
  }
}
