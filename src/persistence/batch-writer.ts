import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.js';
import type { ConnectionEvent } from '../core/event.js';
import { MonitorError } from '../core/errors.js';
import type { PersistenceEvents, ShardStatus } from '../core/persistence.js';
import type { Logger } from '../logger.js';
import { isCircuitOpenError, type ShardBreakers } from './breaker.js';
import { encodeBatch, type EncodedBatch } from './codec.js';
import type { Failure } from './failures.js';

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

/** Where the writer's batches go. */
export interface BatchSink {
  /** The shard (breaker) a type's batches go to: `redis`, or a cluster master's `host:port`. */
  shardOf(type: string): string;
  /**
   * Writes type-batches of one shard in one round trip. Resolves with one entry per batch, in
   * order: null when written, else why not (reasons safe to show). Rejects only when nothing
   * could be attempted (a connection-level failure for them all).
   */
  write(shard: string, batches: readonly EncodedBatch[]): Promise<(Failure | null)[]>;
  /** A cheap round trip to `shard`: the half-open probe when nothing waits for it. */
  probe(shard: string): Promise<void>;
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

interface PendingBatch {
  readonly type: string;
  readonly encoded: EncodedBatch;
  /** Smallest enqueue sequence number of its events. */
  readonly firstSeq: number;
  /** Failed attempts for a reason of its own. */
  attempts: number;
  /**
   * Sent at least once: Redis may have applied it although no reply came (a timeout), so it is
   * never dropped to make room, only retried (a replay is a no-op).
   */
  wasSent: boolean;
}

/** A quarantine, remembered for the `flush()` calls waiting on its events. */
interface Quarantine {
  readonly firstSeq: number;
  readonly type: string;
  readonly count: number;
  readonly reason: string;
}

/** Least time between two "events dropped" warnings. */
const DROP_WARNING_INTERVAL_MS = 10_000;
/** Quarantines remembered for `flush()` (older ones are in the problems of the status). */
const RECENT_QUARANTINES = 64;

/** A connection-level failure thrown inside a breaker, so it counts for that shard only. */
class ConnectionFailure extends Error {
  readonly code = 'CM_CONNECTION_FAILURE';
  constructor(
    message: string,
    /** Per-batch outcomes, when the write got that far. */
    readonly outcomes: readonly (Failure | null)[] | undefined,
  ) {
    super(message);
  }
}

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
  private queue: ConnectionEvent[] = [];
  /** Sequence number of `queue[0]`; events are numbered as they are accepted. */
  private queueSeq = 1;
  /** Batches taken from the queue and not settled yet, by type, oldest first. */
  private readonly pending = new Map<string, PendingBatch[]>();
  private pendingEvents = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private kickScheduled = false;
  private batchSeq = 0;
  /** Bumped whenever a batch is settled or fails an attempt: `flush()` sees progress. */
  private progress = 0;
  private droppedTotal = 0;
  private droppedSinceWarning = 0;
  private dropWarningTimer: NodeJS.Timeout | undefined;
  private droppedThisTurn = 0;
  private persistedTotal = 0;
  private rejectedTotal = 0;
  private readonly quarantines: Quarantine[] = [];
  private quarantineCount = 0;
  private lastFlushAtMs: number | null = null;
  private lastErrorMessage: string | null = null;
  private isClosed = false;

  constructor(
    private readonly options: BatchWriterOptions,
    private readonly sink: BatchSink,
    private readonly breakers: ShardBreakers,
  ) {
    super();
  }

  /** Events waiting for Redis, including batches being written or retried. */
  get depth(): number {
    return this.queue.length + this.pendingEvents;
  }
  get persisted(): number {
    return this.persistedTotal;
  }
  get dropped(): number {
    return this.droppedTotal;
  }
  get rejected(): number {
    return this.rejectedTotal;
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
    for (const [type, list] of this.pending) {
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
    if (this.queue.length >= this.options.batchSize) this.kick();
  }

  /** Queues one event. O(1), no I/O, never throws; drops (and counts) when full. */
  enqueue(event: ConnectionEvent): void {
    if (this.queue.length + this.pendingEvents >= this.options.maxQueueSize && !this.evictHeld()) {
      this.drop(1);
      return;
    }
    this.queue.push(event);
    if (this.queue.length >= this.options.batchSize && this.timer !== undefined) this.kick();
  }

  /**
   * Resolves once every event accepted before the call is written; rejects with
   * `CM_ERR_CIRCUIT_OPEN` or `CM_ERR_PERSISTENCE` saying why not — including when some of them
   * were quarantined (the others are written).
   */
  async flush(): Promise<void> {
    const target = this.queueSeq + this.queue.length - 1;
    const quarantinesBefore = this.quarantineCount;
    while (this.oldestUnsettled() <= target) {
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
    const lost = this.quarantines
      .slice(Math.max(0, this.quarantines.length - (this.quarantineCount - quarantinesBefore)))
      .filter((q) => q.firstSeq <= target);
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
    if (this.dropWarningTimer !== undefined) {
      clearTimeout(this.dropWarningTimer);
      this.dropWarningTimer = undefined;
      if (this.droppedSinceWarning > 0) this.warnDropped();
    }
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

  /**
   * Frees room by dropping the oldest batch held, never sent, for a shard whose circuit is open.
   * True when something was dropped.
   */
  private evictHeld(): boolean {
    for (const [type, list] of this.pending) {
      if (this.breakers.get(this.sink.shardOf(type)).state !== 'open') continue;
      const i = list.findIndex((b) => !b.wasSent);
      if (i < 0) continue;
      const [held] = list.splice(i, 1);
      if (list.length === 0) this.pending.delete(type);
      const count = held?.encoded.count ?? 0;
      this.pendingEvents -= count;
      this.progress++;
      this.drop(count);
      return true;
    }
    return false;
  }

  /**
   * Counts dropped events. The first drop logs at once; later ones are summed into one line per
   * {@link DROP_WARNING_INTERVAL_MS} by an unref'd timer, so dropping reads no clock.
   */
  private drop(count: number): void {
    this.droppedTotal += count;
    this.droppedSinceWarning += count;
    // One `dropped` report per event-loop turn with the turn's count: dropping stays as cheap as
    // queueing while Redis is down.
    if (this.droppedThisTurn === 0) {
      setImmediate(() => {
        const n = this.droppedThisTurn;
        this.droppedThisTurn = 0;
        this.emit('dropped', { count: n, total: this.droppedTotal });
      });
    }
    this.droppedThisTurn += count;
    if (this.dropWarningTimer === undefined) {
      this.warnDropped();
      this.dropWarningTimer = setTimeout(() => {
        this.dropWarningTimer = undefined;
        if (this.droppedSinceWarning > 0) this.warnDropped();
      }, DROP_WARNING_INTERVAL_MS);
      this.dropWarningTimer.unref();
    }
  }

  private warnDropped(): void {
    this.options.logger.warn(
      {
        dropped: this.droppedSinceWarning,
        droppedTotal: this.droppedTotal,
        maxQueueSize: this.options.maxQueueSize,
      },
      'connection-monitor: persistence queue full, events dropped (kept in memory only)',
    );
    this.droppedSinceWarning = 0;
  }

  private kick(): void {
    if (this.kickScheduled || this.inFlight !== undefined) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      void this.run(false).catch(() => undefined);
    });
  }

  /** Sequence number of the oldest event not written, quarantined or dropped (∞: none). */
  private oldestUnsettled(): number {
    let oldest = this.queue.length > 0 ? this.queueSeq : Number.POSITIVE_INFINITY;
    for (const list of this.pending.values()) {
      const first = list[0];
      if (first !== undefined && first.firstSeq < oldest) oldest = first.firstSeq;
    }
    return oldest;
  }

  /** True when an event up to `target` waits for a shard whose circuit is open. */
  private isHeldByOpenCircuit(target: number): boolean {
    for (const [type, list] of this.pending) {
      if ((list[0]?.firstSeq ?? Infinity) > target) continue;
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
      if (!this.isClosed && this.queue.length >= this.options.batchSize) this.kick();
    });
    return this.inFlight;
  }

  /** One pass: cut the queue into batches, write each shard's batches, probe idle open shards. */
  private async pass(drainAll: boolean): Promise<void> {
    this.take(drainAll);
    const byShard = new Map<string, PendingBatch[]>();
    for (const [type, list] of this.pending) {
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
      ...probes.map((shard) => this.probeShard(shard)),
    ]);
  }

  /**
   * Takes what one pass writes: when `drainAll`, everything queued; otherwise the full batches
   * waiting. Events are grouped by type and cut into batches of at most `batchSize`.
   */
  private take(drainAll: boolean): void {
    const size = this.options.batchSize;
    const n = drainAll ? this.queue.length : this.queue.length - (this.queue.length % size);
    if (n === 0) return;
    const events = this.queue.splice(0, n);
    const base = this.queueSeq;
    this.queueSeq += n;
    const byType = new Map<string, { events: ConnectionEvent[]; firstSeq: number }>();
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as ConnectionEvent;
      let group = byType.get(e.type);
      if (group === undefined) byType.set(e.type, (group = { events: [], firstSeq: base + i }));
      group.events.push(e);
    }
    for (const [type, { events: list, firstSeq }] of byType) {
      let batches = this.pending.get(type);
      if (batches === undefined) this.pending.set(type, (batches = []));
      for (let i = 0; i < list.length; i += size) {
        const id = `${this.options.batchIdPrefix}:${++this.batchSeq}`;
        // firstSeq of the first chunk is exact; later chunks hold only later events.
        batches.push({
          type,
          encoded: encodeBatch(type, id, list.slice(i, i + size)),
          firstSeq: i === 0 ? firstSeq : firstSeq + i,
          attempts: 0,
          wasSent: false,
        });
      }
    }
    this.pendingEvents += n;
  }

  /** Writes one shard's batches through its breaker and settles what can be settled. */
  private async writeShard(shard: string, batches: readonly PendingBatch[]): Promise<void> {
    const started = this.options.clock.now();
    let outcomes: readonly (Failure | null)[] | undefined;
    try {
      outcomes = await this.breakers.get(shard).execute(async () => {
        for (const b of batches) b.wasSent = true;
        let out: (Failure | null)[];
        try {
          out = await this.sink.write(
            shard,
            batches.map((b) => b.encoded),
          );
        } catch (err) {
          throw new ConnectionFailure(err instanceof Error ? err.message : String(err), undefined);
        }
        const lost = out.find((f) => f?.isConnection === true);
        if (lost) throw new ConnectionFailure(lost.reason, out);
        return out;
      });
    } catch (err) {
      if (isCircuitOpenError(err)) return;
      this.lastErrorMessage = err instanceof Error ? err.message : String(err);
      this.emit('flushFailed', {
        error: this.lastErrorMessage,
        consecutiveFailures: this.breakers.get(shard).consecutiveFailures,
      });
      outcomes = err instanceof ConnectionFailure ? err.outcomes : undefined;
      if (outcomes === undefined) return;
    }
    let written = 0;
    batches.forEach((b, i) => {
      const failure = outcomes?.[i];
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
  private async probeShard(shard: string): Promise<void> {
    try {
      await this.breakers.get(shard).execute(async () => {
        try {
          await this.sink.probe(shard);
        } catch (err) {
          throw new ConnectionFailure(err instanceof Error ? err.message : String(err), undefined);
        }
      });
    } catch (err) {
      if (isCircuitOpenError(err)) return;
      this.lastErrorMessage = err instanceof Error ? err.message : String(err);
    }
  }

  private settle(b: PendingBatch): void {
    const list = this.pending.get(b.type);
    const i = list?.indexOf(b) ?? -1;
    if (list === undefined || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.pending.delete(b.type);
    this.pendingEvents -= b.encoded.count;
    this.progress++;
  }

  private quarantine(b: PendingBatch, failure: Failure): void {
    this.settle(b);
    this.rejectedTotal += b.encoded.count;
    const q: Quarantine = {
      firstSeq: b.firstSeq,
      type: b.type,
      count: b.encoded.count,
      reason: failure.reason,
    };
    this.quarantines.push(q);
    if (this.quarantines.length > RECENT_QUARANTINES) this.quarantines.shift();
    this.quarantineCount++;
    this.emit('quarantined', {
      type: b.type,
      count: b.encoded.count,
      reason: failure.reason,
      ...(failure.key === undefined ? {} : { key: failure.key }),
    });
  }
}
