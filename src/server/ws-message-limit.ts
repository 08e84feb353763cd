/**
 * A WebSocket connection's message rate limit (`wsMessagesPerSecond`, burst of twice that) and its
 * trip rule: {@link MAX_REJECTED_IN_A_ROW} rate-limited messages in a row close the connection
 * with 1008.
 *
 * "In a row" is counted across the trickle: during a flood, tokens keep flowing in (one every
 * 20 ms at 50/s) and each lets one message through. Such a message does not end the row; only one
 * accepted with a token to spare does, which means the client slowed below its rate. Otherwise a
 * flood never reaches the count (each refill would reset it).
 */
import { TokenBucket } from './token-bucket.js';

/** Rate-limited messages in a row after which the connection is closed. */
export const MAX_REJECTED_IN_A_ROW = 1_000;

/** What to do with one client message. */
export type MessageVerdict = 'accepted' | 'limited' | 'cut_off';

/** Message budget of one connection. */
export class MessageRateLimit {
  private readonly bucket: TokenBucket;
  private rejectedInARow = 0;

  /**
   * @param ratePerSecond Messages per second; the burst is twice this.
   * @param nowMs The current time, ms, on a monotonic clock.
   */
  constructor(
    readonly ratePerSecond: number,
    nowMs: number,
  ) {
    this.bucket = new TokenBucket(ratePerSecond, ratePerSecond * 2, nowMs);
  }

  /** Rate-limited messages since the row was last ended. */
  get rejectedCount(): number {
    return this.rejectedInARow;
  }

  /** Counts one message at `nowMs`: served, answered with a rate-limit error, or cut off. */
  admit(nowMs: number): MessageVerdict {
    if (!this.bucket.tryTake(nowMs)) {
      this.rejectedInARow++;
      return this.rejectedInARow >= MAX_REJECTED_IN_A_ROW ? 'cut_off' : 'limited';
    }
    if (this.bucket.available(nowMs) >= 1) this.rejectedInARow = 0;
    return 'accepted';
  }
}
