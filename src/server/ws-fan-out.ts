/**
 * Subscriptions of `/ws` clients and the fan-out of events to them.
 *
 * One monitor listener serves every subscriber: it is O(1) (a push into a bounded array) because
 * it runs inside `recordEvent`. A `setImmediate` flush serialises each event at most once and
 * sends it to every subscriber whose filter matches, within that subscriber's event budget
 * (`wsEventsPerSecond`, sampled evenly above it) and its {@link BackPressure}. What a subscriber
 * does not get is counted and reported in its next `stats` message (sent right after subscribing
 * and then every `statsIntervalMs`).
 */
import type { ConnectionEvent } from '../core/event.js';
import type { ServiceStatus } from '../core/status.js';
import type { ConnectionMonitor } from '../monitor.js';
import type { ResolvedServerOptions } from './options.js';
import { TokenBucket } from './token-bucket.js';
import { BackPressure } from './ws-back-pressure.js';
import type { WsConnection } from './ws-connection.js';

/** Events held between a record and the next flush; beyond it they are dropped for everyone. */
const MAX_PENDING_EVENTS = 50_000;

/** What {@link EventFanOut} needs besides the monitor. */
export interface FanOutOptions {
  readonly limits: ResolvedServerOptions['limits'];
  /** Interval of `stats` messages, ms. */
  readonly statsIntervalMs: number;
  /** The status sent in `stats` messages (the `/api/status` body). */
  readonly status: () => ServiceStatus;
}

interface Subscription {
  readonly connection: WsConnection;
  /** Types streamed, or null for all. */
  types: ReadonlySet<string> | null;
  /** Events this subscriber may still receive (`wsEventsPerSecond`). */
  readonly budget: TokenBucket;
  readonly pressure: BackPressure;
  /** Events not delivered since the last stats message. */
  dropped: number;
}

/** Streams `event` and `stats` messages to subscribed connections. */
export class EventFanOut {
  private readonly subscriptions = new Map<WsConnection, Subscription>();
  private pending: ConnectionEvent[] = [];
  private pendingLost = 0;
  private isFlushScheduled = false;
  private stopListening: (() => void) | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private droppedTotal = 0;

  constructor(
    private readonly monitor: ConnectionMonitor,
    private readonly options: FanOutOptions,
  ) {}

  /** Connections with an active subscription. */
  get subscriberCount(): number {
    return this.subscriptions.size;
  }

  /** Event messages not sent to subscribers (throttled, slow or overflow), since start. */
  get droppedMessages(): number {
    return this.droppedTotal;
  }

  /** Subscribes `connection` to `types` (null: all), or changes the types of its subscription. */
  subscribe(connection: WsConnection, types: ReadonlySet<string> | null, nowMs: number): void {
    const existing = this.subscriptions.get(connection);
    if (existing !== undefined) {
      existing.types = types;
    } else {
      const rate = this.options.limits.wsEventsPerSecond;
      this.subscriptions.set(connection, {
        connection,
        types,
        budget: new TokenBucket(rate, rate, nowMs),
        pressure: new BackPressure(connection, this.options.limits),
        dropped: 0,
      });
    }
    if (this.stopListening === undefined) {
      this.stopListening = this.monitor.subscribe((event) => this.onEvent(event));
      this.statsTimer = setInterval(() => this.tick(), this.options.statsIntervalMs).unref();
    }
  }

  /** Ends the subscription of `connection`, if any; stops listening when none is left. */
  unsubscribe(connection: WsConnection): void {
    if (!this.subscriptions.delete(connection) || this.subscriptions.size > 0) return;
    this.stopListening?.();
    this.stopListening = undefined;
    clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    this.pending = [];
    this.pendingLost = 0;
  }

  /** Sends `connection` its stats message now (after its subscribe answer). */
  sendStatsNow(connection: WsConnection): void {
    const s = this.subscriptions.get(connection);
    if (s !== undefined) this.sendStats([s]);
  }

  /** Ends every subscription. */
  close(): void {
    for (const connection of [...this.subscriptions.keys()]) this.unsubscribe(connection);
  }

  /** The monitor listener: O(1), no I/O (it runs inside `recordEvent`). */
  private onEvent(event: ConnectionEvent): void {
    if (this.pending.length < MAX_PENDING_EVENTS) this.pending.push(event);
    else this.pendingLost++;
    if (!this.isFlushScheduled) {
      this.isFlushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.isFlushScheduled = false;
    const events = this.pending;
    const lost = this.pendingLost;
    this.pending = [];
    this.pendingLost = 0;
    // Each event is serialised at most once, for the first subscriber that gets it.
    const texts = new Array<string | undefined>(events.length);
    const now = performance.now();
    for (const s of this.subscriptions.values()) {
      this.drop(s, lost);
      const wanted = s.types === null ? null : indicesOfTypes(events, s.types);
      const n = wanted === null ? events.length : wanted.length;
      if (n === 0) continue;
      if (!s.pressure.hasRoom(now)) {
        this.drop(s, n);
        continue;
      }
      const k = s.budget.take(n, now);
      this.drop(s, n - k);
      if (k === 0) continue;
      s.connection.batch(() => {
        for (let i = 0; i < k; i++) {
          // Even sampling when over budget: picks spread across the batch, not just its head.
          const j = k === n ? i : Math.floor((i * n) / k);
          const at = wanted === null ? j : (wanted[j] as number);
          let text = texts[at];
          if (text === undefined) {
            text = JSON.stringify({ type: 'event', event: events[at] });
            texts[at] = text;
          }
          s.connection.send(text);
        }
      });
    }
  }

  private drop(s: Subscription, count: number): void {
    s.dropped += count;
    this.droppedTotal += count;
  }

  private tick(): void {
    const now = performance.now();
    for (const s of this.subscriptions.values()) s.pressure.hasRoom(now);
    this.sendStats(this.subscriptions.values());
  }

  /** Sends `{ type: 'stats', dropped, stats, status }`; the shared part is serialised once. */
  private sendStats(subscriptions: Iterable<Subscription>): void {
    let shared: string | undefined;
    for (const s of subscriptions) {
      if (!s.connection.isOpen) continue;
      shared ??= JSON.stringify({
        stats: this.monitor.getStats(),
        status: this.options.status(),
      }).slice(1);
      s.connection.send(`{"type":"stats","dropped":${s.dropped},${shared}`);
      s.dropped = 0;
    }
  }
}

/** Indices of the events whose type is in `types`. */
function indicesOfTypes(events: readonly ConnectionEvent[], types: ReadonlySet<string>): number[] {
  const out: number[] = [];
  for (let i = 0; i < events.length; i++) {
    if (types.has((events[i] as ConnectionEvent).type)) out.push(i);
  }
  return out;
}
