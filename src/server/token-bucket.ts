/**
 * A token bucket: `ratePerSecond` tokens flow in continuously up to `capacity`; taking one costs a
 * token. Used for a connection's message rate limit and a subscriber's event budget. Time is
 * passed in (ms, any monotonic origin such as `performance.now()`), so it reads no clock and its
 * tests need no sleeps.
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

  /** Takes up to `count` whole tokens at `nowMs`; returns how many it took (0 when empty). */
  take(count: number, nowMs: number): number {
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((nowMs - this.refilledAt) / 1000) * this.ratePerSecond,
    );
    this.refilledAt = nowMs;
    const taken = Math.max(0, Math.min(count, Math.floor(this.tokens)));
    this.tokens -= taken;
    return taken;
  }

  /** Takes one token at `nowMs`; false when there is none. */
  tryTake(nowMs: number): boolean {
    return this.take(1, nowMs) === 1;
  }
}
