/**
 * The fleet's notable events in Redis: one sorted set (`<prefix>:notable`, score = when, member =
 * the event's JSON) kept for the hour retention and at most `MAX_NOTABLE_STORED` members, trimmed
 * by every write. Saving never blocks or throws: events wait in a bounded list
 * ({@link MAX_NOTABLE_WAITING}, oldest dropped and counted) until a write succeeds — a circuit
 * opening is saved once Redis is back, with the time it happened.
 */
import {
  compareNotable,
  matchesNotable,
  MAX_NOTABLE_STORED,
  NOTABLE_KINDS,
  type NotableEvent,
  type NotableQuery,
} from '../core/notable.js';
import type { Clock } from '../core/clock.js';
import type { MonitorRedis } from './client.js';

/** Notable events waiting for Redis, at most (oldest dropped first). */
export const MAX_NOTABLE_WAITING = 1_000;

/** Settings of {@link NotableStore}. */
export interface NotableStoreOptions {
  /** How long notable events are kept: the hour rollups' retention, ms. */
  readonly keepMs: number;
  readonly clock: Clock;
}

/** Saves and reads the fleet's notable events. */
export class NotableStore {
  private waiting: NotableEvent[] = [];
  private writing: Promise<void> | undefined;
  /** Notable events dropped while Redis was away (the waiting list was full). */
  dropped = 0;

  constructor(
    private readonly client: MonitorRedis,
    private readonly key: string,
    private readonly options: NotableStoreOptions,
  ) {}

  /** Queues `e` and writes what waits (best effort, in the background). */
  save(e: NotableEvent): void {
    this.waiting.push(e);
    if (this.waiting.length > MAX_NOTABLE_WAITING) {
      this.waiting.shift();
      this.dropped++;
    }
    void this.write();
  }

  /**
   * Writes what waits, including what arrived while a write was in flight (one more write after
   * it); resolves when done or failed (they stay waiting). Never rejects.
   */
  write(): Promise<void> {
    const inFlight = this.writing;
    return inFlight === undefined ? this.startWrite() : inFlight.then(() => this.startWrite());
  }

  private startWrite(): Promise<void> {
    if (this.waiting.length === 0 || this.client.status !== 'ready') return Promise.resolve();
    this.writing ??= this.writeWaiting().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async writeWaiting(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    const now = this.options.clock.now();
    const keep = Math.round(this.options.keepMs);
    const pairs: (string | number)[] = [];
    for (const e of batch) pairs.push(e.at, JSON.stringify(e));
    try {
      const results = await this.client
        .multi()
        .zadd(this.key, ...pairs)
        .zremrangebyscore(this.key, '-inf', `(${now - keep}`)
        .zremrangebyrank(this.key, 0, -(MAX_NOTABLE_STORED + 1))
        .pexpire(this.key, keep)
        .exec();
      const failed = results?.find(([err]) => err !== null)?.[0];
      if (failed) throw failed;
    } catch {
      // Put them back in front of what arrived meanwhile, within the bound.
      this.waiting = [...batch, ...this.waiting];
      const over = this.waiting.length - MAX_NOTABLE_WAITING;
      if (over > 0) {
        this.waiting.splice(0, over);
        this.dropped += over;
      }
    }
  }

  /** The stored notable events answering `q`, newest first (the waiting ones included). */
  async list(q: NotableQuery): Promise<NotableEvent[]> {
    // Read more than asked when filtering by type: the others are skipped here.
    const want = q.type === undefined ? q.limit : Math.min(MAX_NOTABLE_STORED, q.limit * 10);
    const members = await this.client.zrange(
      this.key,
      String(q.to),
      String(q.from),
      'BYSCORE',
      'REV',
      'LIMIT',
      0,
      want,
    );
    const out: NotableEvent[] = [];
    for (const m of members) {
      const e = parseNotable(m);
      if (e !== null && matchesNotable(e, q)) out.push(e);
    }
    for (const e of this.waiting) if (matchesNotable(e, q)) out.push(e);
    return out.sort(compareNotable).slice(0, q.limit);
  }
}

/** A stored notable event, or null when the member is not one (skipped). */
function parseNotable(json: string): NotableEvent | null {
  try {
    const e = JSON.parse(json) as NotableEvent;
    const isValid =
      typeof e === 'object' &&
      e !== null &&
      typeof e.id === 'string' &&
      Number.isFinite(e.at) &&
      (NOTABLE_KINDS as readonly string[]).includes(e.kind) &&
      typeof e.message === 'string';
    return isValid ? e : null;
  } catch {
    return null;
  }
}
