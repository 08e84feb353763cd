/**
 * A token bucket: `ratePerSecond` tokens flow in continuously up to `capacity`; taking one costs a
 * token. Used for a connection's message rate limit, a subscriber's event budget and a client's
 * ingestion budget. Time is passed in (ms, any monotonic origin such as `performance.now()`), so
 * it reads no clock and its tests need no sleeps.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  /**
   * @param ratePerSecond Tokens added per second.
   * @param capacity Most tokens held (the burst).
   * @param nowMs The current time, ms.
   * @param initial Tokens at the start. Default: full.
   */
  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
    nowMs: number,
    initial = capacity,
  ) {
    this.tokens = initial;
    this.refilledAt = nowMs;
  }

  /** Tokens held at `nowMs` (with the fraction still flowing in); takes none. */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  /** Takes up to `count` whole tokens at `nowMs`; returns how many it took (0 when empty). */
  take(count: number, nowMs: number): number {
    this.refill(nowMs);
    const taken = Math.max(0, Math.min(count, Math.floor(this.tokens)));
    this.tokens -= taken;
    return taken;
  }

  /** Takes one token at `nowMs`; false when there is none. */
  tryTake(nowMs: number): boolean {
    return this.take(1, nowMs) === 1;
  }

  /**
   * Takes `count` tokens at once if the bucket holds them all; otherwise takes none.
   * @returns 0 when taken, else the ms until `count` tokens will be held (Infinity when `count`
   *   exceeds the capacity).
   */
  takeAll(count: number, nowMs: number): number {
    this.refill(nowMs);
    if (count <= this.tokens) {
      this.tokens -= count;
      return 0;
    }
    if (count > this.capacity) return Infinity;
    return ((count - this.tokens) / this.ratePerSecond) * 1000;
  }

  private refill(nowMs: number): void {
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((nowMs - this.refilledAt) / 1000) * this.ratePerSecond,
    );
    this.refilledAt = nowMs;
  }
}
