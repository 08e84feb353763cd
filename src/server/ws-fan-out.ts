/**
 * Subscriptions of `/ws` clients in one scope and the fan-out of that scope's events to them.
 *
 * One source listener serves every subscriber: it is O(1) (a push into a bounded array) because
 * it may run inside `recordEvent`. A `setImmediate` flush serialises each event at most once and
 * sends it to every subscriber whose filter matches, within that subscriber's event budget
 * (`wsEventsPerSecond`, sampled evenly above it) and its {@link BackPressure}. What a subscriber
 * does not get is counted and reported in its next `stats` message (sent right after subscribing
 * and then every `statsIntervalMs`). Notable events are pushed to subscribers that asked for
 * them, under the same back-pressure.
 */
import type { ConnectionEvent } from '../core/event.js';
import type { NotableEvent } from '../core/notable.js';
import type { Logger } from '../logger.js';
import type { ResolvedServerOptions } from './options.js';
import { TokenBucket } from './token-bucket.js';
import { BackPressure } from './ws-back-pressure.js';
import type { WsConnection } from './ws-connection.js';
import type { SubscribeScope } from './ws-protocol.js';

/** Events held between a record and the next flush; beyond it they are dropped for everyone. */
const MAX_PENDING_EVENTS = 50_000;

/** Where one scope's events and stats come from. */
export interface StreamSource {
  readonly scope: SubscribeScope;
  /** Starts calling `listener` with every new event; returns the stop function. */
  listen(listener: (event: ConnectionEvent) => void): () => void;
  /** The members of a `stats` message besides `type`, `scope` and `dropped` (read once per tick). */
  stats(): Promise<Record<string, unknown>>;
}

/** What {@link EventFanOut} needs besides its source. */
export interface FanOutOptions {
  readonly limits: ResolvedServerOptions['limits'];
  /** Interval of `stats` messages, ms. */
  readonly statsIntervalMs: number;
  readonly logger: Logger;
}

/** What a connection asks for when it subscribes. */
export interface SubscriptionFilter {
  /** Types streamed, or null for all. */
  readonly types: ReadonlySet<string> | null;
  /** Whether notable events are pushed to it. */
  readonly notable: boolean;
}

interface Subscription {
  readonly connection: WsConnection;
  filter: SubscriptionFilter;
  /** Events this subscriber may still receive (`wsEventsPerSecond`). */
  readonly budget: TokenBucket;
  readonly pressure: BackPressure;
  /** Events not delivered since the last stats message. */
  dropped: number;
}

/** Streams `event`, `stats` and `notable_event` messages of one scope to subscribed connections. */
export class EventFanOut {
  private readonly subscriptions = new Map<WsConnection, Subscription>();
  private pending: ConnectionEvent[] = [];
  private pendingLost = 0;
  private isFlushScheduled = false;
  private stopListening: (() => void) | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private droppedTotal = 0;
  /** True while a tick's stats are being read (a slow read skips ticks, it does not pile up). */
  private isTickRunning = false;

  constructor(
    private readonly source: StreamSource,
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

  /** Subscribes `connection` with `filter`, or changes the filter of its subscription. */
  subscribe(connection: WsConnection, filter: SubscriptionFilter, nowMs: number): void {
    const existing = this.subscriptions.get(connection);
    if (existing !== undefined) {
      existing.filter = filter;
    } else {
      const rate = this.options.limits.wsEventsPerSecond;
      this.subscriptions.set(connection, {
        connection,
        filter,
        budget: new TokenBucket(rate, rate, nowMs),
        pressure: new BackPressure(connection, this.options.limits),
        dropped: 0,
      });
    }
    if (this.stopListening === undefined) {
      this.stopListening = this.source.listen((event) => this.onEvent(event));
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
  async sendStatsNow(connection: WsConnection): Promise<void> {
    const s = this.subscriptions.get(connection);
    if (s !== undefined) await this.sendStats([s]);
  }

  /**
   * Pushes `{ type: 'notable_event', event }` to every subscriber that asked for notable events
   * and whose types include the event's (an event of no type goes to all), unless its connection
   * is over the back-pressure limit (then it counts as dropped).
   */
  pushNotable(event: NotableEvent): void {
    let text: string | undefined;
    const now = performance.now();
    for (const s of this.subscriptions.values()) {
      const { notable, types } = s.filter;
      if (!notable || (event.type !== undefined && types !== null && !types.has(event.type))) {
        continue;
      }
      if (!s.pressure.hasRoom(now)) {
        this.drop(s, 1);
        continue;
      }
      text ??= JSON.stringify({ type: 'notable_event', event });
      s.connection.send(text);
    }
  }

  /** Ends every subscription. */
  close(): void {
    for (const connection of [...this.subscriptions.keys()]) this.unsubscribe(connection);
  }

  /** The source listener: O(1), no I/O (it may run inside `recordEvent`). */
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
      const { types } = s.filter;
      const wanted = types === null ? null : indicesOfTypes(events, types);
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
    if (this.isTickRunning) return;
    this.isTickRunning = true;
    void this.sendStats([...this.subscriptions.values()]).finally(() => {
      this.isTickRunning = false;
    });
  }

  /**
   * Sends `{ type: 'stats', scope, dropped, …source.stats() }`; the shared part is read and
   * serialised once. A subscriber that left while the stats were read gets nothing.
   */
  private async sendStats(subscriptions: readonly Subscription[]): Promise<void> {
    if (!subscriptions.some((s) => s.connection.isOpen)) return;
    let shared: string;
    try {
      shared = JSON.stringify(await this.source.stats()).slice(1);
    } catch (err) {
      this.options.logger.error({ err }, 'websocket stats failed');
      return;
    }
    const head = `{"type":"stats","scope":"${this.source.scope}","dropped":`;
    for (const s of subscriptions) {
      if (!s.connection.isOpen || this.subscriptions.get(s.connection) !== s) continue;
      s.connection.send(`${head}${s.dropped},${shared}`);
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
