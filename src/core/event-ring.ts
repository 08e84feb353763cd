import type { ConnectionEvent, Metadata } from './event.js';

/** Slots allocated at first; the ring doubles up to its capacity as events arrive. */
const INITIAL_SLOTS = 64;
/** Numbers per slot: timestamp, duration (NaN when absent), sequence (-1: foreign), bytes. */
const NUMS = 4;
/** References per slot: kind, error, metadata, foreign event. */
const REFS = 4;

/**
 * The in-memory event buffer of one type: a ring of at most `capacity` events with O(1) append
 * that reads newest first and drops oldest first. Events recorded by this process are stored
 * column-wise (timestamps, durations and sequence numbers in one typed array, kind/error/metadata
 * by reference) and rebuilt as objects on read, so appending retains no per-event object: at
 * 10,000 events per type this keeps garbage-collection work — the dominant cost of an object
 * ring — off the `recordEvent` path. Events from elsewhere (recovered from Redis) are kept as
 * objects or as their stored JSON, parsed on first read (an unparsable one is skipped).
 *
 * The arrays grow by doubling, so an idle type costs a few KB, not `capacity` slots; every slot
 * carries the caller's estimate of the event's bytes, so {@link bytes} is exact to that estimate
 * and eviction ({@link dropOldest}) gives it back.
 */
export class EventRing {
  /** Maximum number of events kept. */
  readonly capacity: number;
  /** Next slot to write. */
  private head = 0;
  private count = 0;
  private slots: number;
  private numbers: Float64Array;
  private refs: unknown[];
  private byteTotal = 0;

  /**
   * @param type the connection type of every event in this ring
   * @param instance the instance id stamped on local events
   * @param idOf rebuilds a local event's id from its sequence number
   */
  constructor(
    capacity: number,
    private readonly type: string,
    private readonly instance: string,
    private readonly idOf: (seq: number) => string,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`EventRing capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.slots = Math.min(capacity, INITIAL_SLOTS);
    this.numbers = new Float64Array(this.slots * NUMS);
    this.refs = new Array<unknown>(this.slots * REFS).fill(undefined);
  }

  /** Number of events held (≤ capacity). */
  get size(): number {
    return this.count;
  }

  /** Estimated bytes of the events held (the sum of what the pushes said). */
  get bytes(): number {
    return this.byteTotal;
  }

  /** Timestamp of the oldest event held, or +∞ when empty. */
  get oldestTimestamp(): number {
    return this.count === 0
      ? Number.POSITIVE_INFINITY
      : (this.numbers[this.tail() * NUMS] as number);
  }

  /**
   * Appends a local event, overwriting the oldest when full. O(1) amortised. Returns the bytes
   * freed by an overwrite (0 while not full).
   */
  push(
    seq: number,
    kind: string,
    timestamp: number,
    durationMs: number | undefined,
    error: string | undefined,
    metadata: Metadata | undefined,
    bytes: number,
  ): number {
    const freed = this.makeRoom();
    const n = this.head * NUMS;
    const r = this.head * REFS;
    this.numbers[n] = timestamp;
    this.numbers[n + 1] = durationMs === undefined ? Number.NaN : durationMs;
    this.numbers[n + 2] = seq;
    this.numbers[n + 3] = bytes;
    this.refs[r] = kind;
    this.refs[r + 1] = error;
    this.refs[r + 2] = metadata;
    this.refs[r + 3] = undefined;
    this.advance(bytes);
    return freed;
  }

  /**
   * Appends an event from elsewhere (recovered history) as an object or as its stored JSON, which
   * is parsed on first read. O(1) amortised. Returns the bytes freed by an overwrite.
   */
  pushEvent(event: ConnectionEvent | string, timestamp: number, bytes: number): number {
    const freed = this.makeRoom();
    const n = this.head * NUMS;
    const r = this.head * REFS;
    this.numbers[n] = timestamp;
    this.numbers[n + 2] = -1;
    this.numbers[n + 3] = bytes;
    this.refs[r] = undefined;
    this.refs[r + 1] = undefined;
    this.refs[r + 2] = undefined;
    this.refs[r + 3] = event;
    this.advance(bytes);
    return freed;
  }

  /** Up to `limit` events, newest first (an unparsable recovered one is skipped). */
  newest(limit: number = this.count): ConnectionEvent[] {
    const n = Math.max(0, Math.min(limit, this.count));
    const out: ConnectionEvent[] = [];
    let idx = this.head;
    for (let k = 0; k < this.count && out.length < n; k++) {
      idx = idx === 0 ? this.slots - 1 : idx - 1;
      const e = this.at(idx);
      if (e !== null) out.push(e);
    }
    return out;
  }

  /** Iterates newest first. */
  *[Symbol.iterator](): IterableIterator<ConnectionEvent> {
    let idx = this.head;
    for (let k = 0; k < this.count; k++) {
      idx = idx === 0 ? this.slots - 1 : idx - 1;
      const e = this.at(idx);
      if (e !== null) yield e;
    }
  }

  /** Drops up to `n` of the oldest events; returns the bytes freed. */
  dropOldest(n: number): number {
    let freed = 0;
    for (let k = 0; k < n && this.count > 0; k++) freed += this.dropTail();
    return freed;
  }

  /**
   * Drops the oldest events while they are older than `cutoff` (epoch ms), stopping at the first
   * newer one (events arrive nearly in time order); returns the bytes freed.
   */
  dropOlderThan(cutoff: number): number {
    let freed = 0;
    while (this.count > 0 && (this.numbers[this.tail() * NUMS] as number) < cutoff) {
      freed += this.dropTail();
    }
    return freed;
  }

  /** Removes every event. */
  clear(): void {
    this.refs.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.byteTotal = 0;
  }

  private tail(): number {
    const t = this.head - this.count;
    return t < 0 ? t + this.slots : t;
  }

  private dropTail(): number {
    const t = this.tail();
    const bytes = this.numbers[t * NUMS + 3] as number;
    const r = t * REFS;
    this.refs[r] = undefined;
    this.refs[r + 1] = undefined;
    this.refs[r + 2] = undefined;
    this.refs[r + 3] = undefined;
    this.count--;
    this.byteTotal -= bytes;
    return bytes;
  }

  /** Grows the arrays when every slot is used and capacity allows; else frees the oldest slot. */
  private makeRoom(): number {
    if (this.count < this.slots) return 0;
    if (this.slots < this.capacity) {
      this.grow(Math.min(this.capacity, this.slots * 2));
      return 0;
    }
    // Full: the oldest slot is the one about to be written (every field of it is overwritten).
    const bytes = this.numbers[this.head * NUMS + 3] as number;
    this.count--;
    this.byteTotal -= bytes;
    return bytes;
  }

  /** Re-lays the events out oldest first in arrays of `slots` slots. */
  private grow(slots: number): void {
    const numbers = new Float64Array(slots * NUMS);
    const refs = new Array<unknown>(slots * REFS).fill(undefined);
    let idx = this.tail();
    for (let k = 0; k < this.count; k++) {
      numbers.set(this.numbers.subarray(idx * NUMS, idx * NUMS + NUMS), k * NUMS);
      for (let j = 0; j < REFS; j++) refs[k * REFS + j] = this.refs[idx * REFS + j];
      idx = idx + 1 === this.slots ? 0 : idx + 1;
    }
    this.numbers = numbers;
    this.refs = refs;
    this.slots = slots;
    this.head = this.count === slots ? 0 : this.count;
  }

  private advance(bytes: number): void {
    this.head = this.head + 1 === this.slots ? 0 : this.head + 1;
    this.count++;
    this.byteTotal += bytes;
  }

  private at(i: number): ConnectionEvent | null {
    const r = i * REFS;
    const foreign = this.refs[r + 3] as ConnectionEvent | string | null | undefined;
    if (typeof foreign === 'string') {
      let parsed: ConnectionEvent | null;
      try {
        parsed = JSON.parse(foreign) as ConnectionEvent;
      } catch {
        parsed = null; // a corrupt stored member: skipped, never thrown at a reader
      }
      this.refs[r + 3] = parsed;
      return parsed;
    }
    if (foreign === null) return null;
    if (foreign !== undefined) return foreign;
    const n = i * NUMS;
    const d = this.numbers[n + 1] as number;
    return {
      id: this.idOf(this.numbers[n + 2] as number),
      type: this.type,
      kind: this.refs[r] as string,
      timestamp: this.numbers[n] as number,
      durationMs: Number.isNaN(d) ? undefined : d,
      error: this.refs[r + 1] as string | undefined,
      metadata: this.refs[r + 2] as Metadata | undefined,
      instance: this.instance,
    };
  }
}
