/**
 * Quarantined batches, counted and remembered long enough for the `flush()` calls waiting on
 * their events to say which types were rejected (older ones live on in the status's problems).
 */

/** One quarantined batch. */
export interface Quarantine {
  /** A lower bound of its events' sequence numbers. */
  readonly firstSeq: number;
  readonly type: string;
  readonly count: number;
  readonly reason: string;
}

/** Quarantines remembered for `flush()`. */
const RECENT = 64;

/** Rejected events counted, the recent quarantines kept. */
export class Quarantines {
  private readonly recent: Quarantine[] = [];
  private added = 0;
  private rejectedTotal = 0;

  /** Events quarantined since start. */
  get rejected(): number {
    return this.rejectedTotal;
  }

  /** A mark to pass to {@link since}. */
  get mark(): number {
    return this.added;
  }

  add(q: Quarantine): void {
    this.rejectedTotal += q.count;
    this.recent.push(q);
    if (this.recent.length > RECENT) this.recent.shift();
    this.added++;
  }

  /** The quarantines added after `mark` (as far as remembered) holding an event up to `seq`. */
  since(mark: number, seq: number): Quarantine[] {
    const n = Math.min(this.recent.length, this.added - mark);
    return this.recent.slice(this.recent.length - n).filter((q) => q.firstSeq <= seq);
  }
}
