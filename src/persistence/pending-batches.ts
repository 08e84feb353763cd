/**
 * What waits for Redis: a FIFO queue of events not yet cut into batches, and per type the
 * batches taken from it and not settled (written, quarantined or dropped). Events are numbered as
 * they are accepted, so `flush()` can wait for exactly the events accepted before it.
 */
import type { ConnectionEvent } from '../core/event.js';
import { encodeBatch, type EncodedBatch } from './codec.js';

/** A batch taken from the queue. */
export interface PendingBatch {
  readonly type: string;
  readonly encoded: EncodedBatch;
  /** A lower bound of its events' sequence numbers (exact for a type's first batch of a take). */
  readonly firstSeq: number;
  /** Failed attempts for a reason of its own. */
  attempts: number;
  /**
   * Sent at least once: Redis may have applied it although no reply came (a timeout), so it is
   * never dropped to make room, only retried (a replay is a no-op).
   */
  wasSent: boolean;
}

/** The queue and the pending batches; bounded by the writer (`maxQueueSize` events in all). */
export class PendingBatches {
  private queue: ConnectionEvent[] = [];
  /** Sequence number of `queue[0]`. */
  private queueSeq = 1;
  private readonly byType = new Map<string, PendingBatch[]>();
  private pendingEvents = 0;
  private batchSeq = 0;

  /** @param batchIdPrefix unique per process start (`<instance>:<boot>`) */
  constructor(private readonly batchIdPrefix: string) {}

  /** Events waiting: queued plus in pending batches. */
  get depth(): number {
    return this.queue.length + this.pendingEvents;
  }

  /** Events queued, not yet cut into batches. */
  get queued(): number {
    return this.queue.length;
  }

  /** Sequence number of the last event accepted. */
  get lastSeq(): number {
    return this.queueSeq + this.queue.length - 1;
  }

  /** Accepts one event. O(1). */
  push(event: ConnectionEvent): void {
    this.queue.push(event);
  }

  /** Every pending batch, per type, oldest first. */
  entries(): IterableIterator<[string, PendingBatch[]]> {
    return this.byType.entries();
  }

  /**
   * Cuts the first `n` queued events into batches: grouped by type, at most `batchSize` each,
   * every batch with its own id.
   */
  take(n: number, batchSize: number): void {
    if (n === 0) return;
    const events = this.queue.splice(0, n);
    const base = this.queueSeq;
    this.queueSeq += n;
    const groups = new Map<string, { events: ConnectionEvent[]; firstSeq: number }>();
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as ConnectionEvent;
      let group = groups.get(e.type);
      if (group === undefined) groups.set(e.type, (group = { events: [], firstSeq: base + i }));
      group.events.push(e);
    }
    for (const [type, { events: list, firstSeq }] of groups) {
      let batches = this.byType.get(type);
      if (batches === undefined) this.byType.set(type, (batches = []));
      for (let i = 0; i < list.length; i += batchSize) {
        batches.push({
          type,
          encoded: encodeBatch(
            type,
            `${this.batchIdPrefix}:${++this.batchSeq}`,
            list.slice(i, i + batchSize),
          ),
          // Event i of the type sits at queue position ≥ firstSeq + i: a safe lower bound.
          firstSeq: firstSeq + i,
          attempts: 0,
          wasSent: false,
        });
      }
    }
    this.pendingEvents += n;
  }

  /** Removes a batch that was written, quarantined or dropped. */
  settle(b: PendingBatch): void {
    const list = this.byType.get(b.type);
    const i = list?.indexOf(b) ?? -1;
    if (list === undefined || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.byType.delete(b.type);
    this.pendingEvents -= b.encoded.count;
  }

  /**
   * Removes the oldest batch never sent of a type `isHeld` says is held (its shard's circuit is
   * open); returns it, or undefined when there is none.
   */
  evictUnsent(isHeld: (type: string) => boolean): PendingBatch | undefined {
    for (const [type, list] of this.byType) {
      if (!isHeld(type)) continue;
      const b = list.find((x) => !x.wasSent);
      if (b === undefined) continue;
      this.settle(b);
      return b;
    }
    return undefined;
  }

  /** Sequence number of the oldest event not settled (∞: none). */
  oldestUnsettled(): number {
    let oldest = this.queue.length > 0 ? this.queueSeq : Number.POSITIVE_INFINITY;
    for (const list of this.byType.values()) {
      const first = list[0];
      if (first !== undefined && first.firstSeq < oldest) oldest = first.firstSeq;
    }
    return oldest;
  }

  /** Types with a batch holding an event up to `target`. */
  *typesUpTo(target: number): IterableIterator<string> {
    for (const [type, list] of this.byType)
      if ((list[0]?.firstSeq ?? Infinity) <= target) yield type;
  }
}
