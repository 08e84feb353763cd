import type { ConnectionEvent, Metadata } from './event.js';

/**
 * The in-memory event buffer of one type: a fixed-capacity ring with O(1) append that reads newest
 * first. Events recorded by this process are stored column-wise (timestamps, durations and
 * sequence numbers in typed arrays, kind/error/metadata by reference) and rebuilt as objects on
 * read, so appending retains no per-event object: at 10,000 events per type this keeps
 * garbage-collection work — the dominant cost of an object ring — off the `recordEvent` path.
 * Events from elsewhere (recovered from Redis) are kept as objects.
 */
export class EventRing {
  /** Maximum number of events kept. */
  readonly capacity: number;
  private head = 0;
  private count = 0;
  /**
   * Numbers of slot i at [3i, 3i+3): timestamp, duration (NaN when absent), sequence number (-1
   * for a foreign event). Interleaved so an append touches one cache line, not three.
   */
  private readonly numbers: Float64Array;
  /** References of slot i at [4i, 4i+4): kind, error, metadata, foreign event. */
  private readonly refs: unknown[];

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
    this.numbers = new Float64Array(capacity * 3);
    this.refs = new Array<unknown>(capacity * 4).fill(undefined);
  }

  /** Number of events held (≤ capacity). */
  get size(): number {
    return this.count;
  }

  /** Appends a local event, overwriting the oldest when full. O(1). */
  push(
    seq: number,
    kind: string,
    timestamp: number,
    durationMs: number | undefined,
    error: string | undefined,
    metadata: Metadata | undefined,
  ): void {
    const n = this.head * 3;
    const r = this.head * 4;
    this.numbers[n] = timestamp;
    this.numbers[n + 1] = durationMs === undefined ? Number.NaN : durationMs;
    this.numbers[n + 2] = seq;
    this.refs[r] = kind;
    this.refs[r + 1] = error;
    this.refs[r + 2] = metadata;
    this.refs[r + 3] = undefined;
    this.advance();
  }

  /**
   * Appends an event from elsewhere (recovered history) as an object or as its stored JSON, which
   * is parsed on first read. O(1).
   */
  pushEvent(event: ConnectionEvent | string): void {
    const n = this.head * 3;
    const r = this.head * 4;
    this.numbers[n + 2] = -1;
    this.refs[r] = undefined;
    this.refs[r + 1] = undefined;
    this.refs[r + 2] = undefined;
    this.refs[r + 3] = event;
    this.advance();
  }

  /** Up to `limit` events, newest first. */
  newest(limit: number = this.count): ConnectionEvent[] {
    const n = Math.max(0, Math.min(limit, this.count));
    const out = new Array<ConnectionEvent>(n);
    let idx = this.head;
    for (let k = 0; k < n; k++) {
      idx = idx === 0 ? this.capacity - 1 : idx - 1;
      out[k] = this.at(idx);
    }
    return out;
  }

  /** Iterates newest first. */
  *[Symbol.iterator](): IterableIterator<ConnectionEvent> {
    let idx = this.head;
    for (let k = 0; k < this.count; k++) {
      idx = idx === 0 ? this.capacity - 1 : idx - 1;
      yield this.at(idx);
    }
  }

  /** Removes every event. */
  clear(): void {
    this.refs.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private advance(): void {
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.count < this.capacity) this.count++;
  }

  private at(i: number): ConnectionEvent {
    const r = i * 4;
    const foreign = this.refs[r + 3] as ConnectionEvent | string | undefined;
    if (typeof foreign === 'string') {
      const parsed = JSON.parse(foreign) as ConnectionEvent;
      this.refs[r + 3] = parsed;
      return parsed;
    }
    if (foreign !== undefined) return foreign;
    const n = i * 3;
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
