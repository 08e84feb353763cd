import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.js';
import type { ConnectionEvent } from '../core/event.js';
import { MonitorError } from '../core/errors.js';
import type { PersistenceEvents } from '../core/persistence.js';
import type { Logger } from '../logger.js';
import { isCircuitOpenError, type FlushBreaker } from './breaker.js';
import { encodeBatch, type EncodedBatch } from './codec.js';

/** Options of {@link BatchWriter}, resolved by the caller. */
export interface BatchWriterOptions {
  /** Events per script call. */
  readonly batchSize: number;
  /** Time between timer flushes, ms. */
  readonly flushIntervalMs: number;
  /** Most events waiting (queued plus a batch being retried). */
  readonly maxQueueSize: number;
  /** Prefix of batch ids, unique per process start (`<instance>:<boot>`). */
  readonly batchIdPrefix: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Where the writer's batches go. */
export interface BatchSink {
  /**
   * Writes one flush's type-batches; rejects when any of them failed, with a message safe to show
   * (no secrets). Any work that must precede a write (recovery) is the sink's.
   */
  write(batches: readonly EncodedBatch[]): Promise<void>;
  /** A cheap round trip, the half-open probe when nothing is queued. */
  probe(): Promise<void>;
}

/** Events of {@link BatchWriter}. */
export type BatchWriterEvents = Pick<PersistenceEvents, 'flushed' | 'flushFailed' | 'dropped'>;

interface Batch {
  readonly events: readonly ConnectionEvent[];
  readonly encoded: readonly EncodedBatch[];
}

/** Least time between two "events dropped" warnings. */
const DROP_WARNING_INTERVAL_MS = 10_000;

/**
 * Batching background writer (the OpenTelemetry BatchSpanProcessor pattern): a bounded FIFO
 * queue, a flush as soon as `batchSize` events wait and every `flushIntervalMs` (unref'd timer),
 * one flush in flight, failed batches retried with the same ids (the write script makes replays
 * no-ops), drops counted exactly and reported, never thrown.
 */
export class BatchWriter extends EventEmitter<BatchWriterEvents> {
  private queue: ConnectionEvent[] = [];
  private retry: Batch | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private kickScheduled = false;
  private flushSeq = 0;
  private accepted = 0;
  private completed = 0;
  private droppedTotal = 0;
  private droppedSinceWarning = 0;
  private dropWarningTimer: NodeJS.Timeout | undefined;
  private droppedThisTurn = 0;
  private persistedTotal = 0;
  private lastFlushAtMs: number | null = null;
  private lastErrorMessage: string | null = null;
  private isClosed = false;

  constructor(
    private readonly options: BatchWriterOptions,
    private readonly sink: BatchSink,
    private readonly breaker: FlushBreaker,
  ) {
    super();
  }

  /** Events waiting for Redis, including a batch being retried. */
  get depth(): number {
    return this.queue.length + (this.retry?.events.length ?? 0);
  }
  get persisted(): number {
    return this.persistedTotal;
  }
  get dropped(): number {
    return this.droppedTotal;
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
    if (this.queue.length + (this.retry?.events.length ?? 0) >= this.options.maxQueueSize) {
      this.drop();
      return;
    }
    this.queue.push(event);
    this.accepted++;
    if (this.queue.length >= this.options.batchSize && this.timer !== undefined) this.kick();
  }

  /**
   * Resolves once every event accepted before the call is written; rejects with
   * `CM_ERR_CIRCUIT_OPEN` or `CM_ERR_PERSISTENCE` saying why not.
   */
  async flush(): Promise<void> {
    const target = this.accepted;
    while (this.completed < target) {
      const before = this.completed;
      await this.run(true);
      if (this.completed === before) {
        if (this.breaker.state === 'open') {
          throw new MonitorError(
            'CM_ERR_CIRCUIT_OPEN',
            `flush: the circuit is open, ${target - this.completed} event(s) still queued` +
              (this.lastErrorMessage ? ` (last error: ${this.lastErrorMessage})` : ''),
          );
        }
        throw new MonitorError(
          'CM_ERR_PERSISTENCE',
          `flush: writing to Redis failed: ${this.lastErrorMessage ?? 'unknown error'}`,
        );
      }
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
    const deadline = this.options.clock.now() + deadlineMs;
    while (this.depth > 0 && this.options.clock.now() < deadline) {
      const before = this.completed;
      const left = deadline - this.options.clock.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), left);
      });
      const outcome = await Promise.race([this.run(true).then(() => 'ran' as const), timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout' || this.completed === before) break;
    }
    // A write still in flight at the deadline is not awaited: the caller disconnects, which
    // rejects it.
    return this.depth;
  }

  /**
   * Counts one dropped event. The first drop logs at once; later ones are summed into one line per
   * {@link DROP_WARNING_INTERVAL_MS} by an unref'd timer, so dropping reads no clock.
   */
  private drop(): void {
    this.droppedTotal++;
    this.droppedSinceWarning++;
    // One `dropped` report per event-loop turn with the turn's count: dropping stays as cheap as
    // queueing while Redis is down.
    if (this.droppedThisTurn++ === 0) {
      setImmediate(() => {
        const count = this.droppedThisTurn;
        this.droppedThisTurn = 0;
        this.emit('dropped', { count, total: this.droppedTotal });
      });
    }
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

  /**
   * Runs (or joins) the flush loop. `drainAll`: keep going until the queue is empty; otherwise
   * only while full batches wait. Stops at the first failure.
   */
  private run(drainAll: boolean): Promise<void> {
    if (this.inFlight !== undefined) {
      if (!drainAll) return this.inFlight;
      return this.inFlight.then(() => (this.depth > 0 ? this.run(true) : undefined));
    }
    this.inFlight = this.loop(drainAll).finally(() => {
      this.inFlight = undefined;
      if (!this.isClosed && this.queue.length >= this.options.batchSize) this.kick();
    });
    return this.inFlight;
  }

  private async loop(drainAll: boolean): Promise<void> {
    if (this.depth === 0) {
      // Nothing to write: still let a half-open probe close the circuit.
      if (this.breaker.state !== 'closed') await this.attempt(undefined);
      return;
    }
    for (;;) {
      const batch = this.retry ?? this.take(drainAll);
      this.retry = batch;
      const ok = await this.attempt(batch);
      if (!ok) return;
      this.retry = undefined;
      const more = drainAll ? this.queue.length > 0 : this.queue.length >= this.options.batchSize;
      if (!more) return;
    }
  }

  /**
   * Takes what one flush writes: when `drainAll`, everything queued; otherwise the full batches
   * waiting. Events are grouped by type and cut into batches of at most `batchSize`, each one
   * script call with its own id; the flush sends them all in one round trip.
   */
  private take(drainAll: boolean): Batch {
    const size = this.options.batchSize;
    const n = drainAll ? this.queue.length : this.queue.length - (this.queue.length % size);
    const events = this.queue.splice(0, n);
    const seq = ++this.flushSeq;
    const byType = new Map<string, ConnectionEvent[]>();
    for (const e of events) {
      let list = byType.get(e.type);
      if (list === undefined) byType.set(e.type, (list = []));
      list.push(e);
    }
    const encoded: EncodedBatch[] = [];
    for (const [type, list] of byType) {
      for (let i = 0; i < list.length; i += size) {
        encoded.push(
          encodeBatch(
            type,
            `${this.options.batchIdPrefix}:${seq}:${i / size}`,
            list.slice(i, i + size),
          ),
        );
      }
    }
    return { events, encoded };
  }

  /** One write (or probe) through the breaker. True on success. */
  private async attempt(batch: Batch | undefined): Promise<boolean> {
    const started = this.options.clock.now();
    try {
      await this.breaker.execute(() =>
        batch === undefined ? this.sink.probe() : this.sink.write(batch.encoded),
      );
    } catch (err) {
      if (!isCircuitOpenError(err)) {
        this.lastErrorMessage = err instanceof Error ? err.message : String(err);
        this.emit('flushFailed', {
          error: this.lastErrorMessage,
          consecutiveFailures: this.breaker.consecutiveFailures,
        });
      }
      return false;
    }
    if (batch !== undefined) {
      this.completed += batch.events.length;
      this.persistedTotal += batch.events.length;
      this.lastFlushAtMs = this.options.clock.now();
      this.emit('flushed', {
        count: batch.events.length,
        durationMs: this.lastFlushAtMs - started,
        persisted: this.persistedTotal,
      });
    }
    return true;
  }
}
