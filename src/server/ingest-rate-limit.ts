/**
 * The per-client budget of `POST /api/events`, counted in events, not requests: one client posting
 * thousands of events per second must not fill the monitor's persistence queue for every other
 * producer. One {@link TokenBucket} per client, kept for at most `maxClients` clients.
 *
 * Why not @fastify/rate-limit here (it limits the other routes): its store counts one per request
 * (`incr(key, cb, timeWindow, max)` has no weight), in fixed windows (no steady rate with a burst),
 * and a 1,000-event batch must cost 1,000.
 */
import { TokenBucket } from './token-bucket.js';

/** Options of {@link IngestRateLimit}. */
export interface IngestRateLimitOptions {
  /** Events per second per client. */
  readonly eventsPerSecond: number;
  /** Most events per client at once (the bucket's size). */
  readonly burst: number;
  /** Most clients remembered; beyond it the least recently seen is forgotten. */
  readonly maxClients: number;
}

/**
 * Per-client token buckets with a least-recently-seen bound. A forgotten client starts again with
 * a full bucket, as a new one does: the bound trades that for memory (about 100 bytes a client).
 */
export class IngestRateLimit {
  /** In order of last use, oldest first (a `Map` keeps insertion order). */
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(readonly options: IngestRateLimitOptions) {}

  /** Clients remembered now (at most `maxClients`). */
  get clientCount(): number {
    return this.buckets.size;
  }

  /**
   * Admits `events` from `client` whole, or none of them: accepted data is never silently
   * partial, and a refused request costs nothing.
   * @param client The client's key (its address).
   * @param nowMs The current time, ms, on a monotonic clock.
   * @returns 0 when admitted, else the ms until the request would fit.
   */
  admit(client: string, events: number, nowMs: number): number {
    let bucket = this.buckets.get(client);
    if (bucket === undefined) {
      if (this.buckets.size >= this.options.maxClients) {
        const oldest = this.buckets.keys().next();
        if (oldest.done !== true) this.buckets.delete(oldest.value);
      }
      const { eventsPerSecond, burst } = this.options;
      bucket = new TokenBucket(eventsPerSecond, burst, nowMs);
    } else {
      // Move to the end: the most recently seen.
      this.buckets.delete(client);
    }
    this.buckets.set(client, bucket);
    return bucket.takeAll(events, nowMs);
  }
}
