/**
 * Event ids: `<instance>:<boot>:<seq>` with a 13-digit sequence starting at 10^12, so ids have a
 * fixed width and sort in recording order. The id is built from a cached prefix for each block of
 * 1,000 and a precomputed 3-digit suffix: formatting a 13-digit number per event would cost more
 * than everything else `recordEvent` does.
 */
const SEQ_START = 1_000_000_000_000;
const ID_SUFFIX = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** Hands out sequence numbers and their ids for one monitor. */
export class EventIds {
  /** Sequence number of the id {@link next} returned last. */
  lastSeq = SEQ_START - 1;
  private block = '';
  private blockEnd = SEQ_START;

  /** @param prefix `<instance>:<boot>:` */
  constructor(private readonly prefix: string) {}

  /** The next id (its sequence number is then {@link lastSeq}). O(1), no formatting per event. */
  next(): string {
    const seq = ++this.lastSeq;
    if (seq >= this.blockEnd) {
      this.block = this.prefix + String(Math.floor(seq / 1000));
      this.blockEnd = seq - (seq % 1000) + 1000;
    }
    return this.block + (ID_SUFFIX[seq % 1000] as string);
  }

  /** The id of any sequence number handed out (rebuilding events on read). */
  readonly idOf = (seq: number): string =>
    this.prefix + String(Math.floor(seq / 1000)) + (ID_SUFFIX[seq % 1000] as string);
}
