/**
 * The fleet live tail over Redis pub/sub: after each write every instance publishes the events it
 * just persisted (one message per flush, a JSON array of the stored members) on `<prefix>:tail`,
 * so a subscriber sees the events of every instance within one flush interval.
 *
 * Publishing costs only when somebody listens: a subscriber keeps `<prefix>:tail:listeners` alive
 * (30 s, refreshed every 10 s) and publishers look for it every heartbeat (5 s by default), so a
 * new subscriber sees the other instances' events from their next heartbeat on. Nothing is stored: pub/sub
 * keeps no backlog, so the tail is bounded by design (one message is at most one flush, at most
 * `maxQueueSize` events); a subscriber that reads too slowly is cut off by Redis's own output
 * buffer limit for pub/sub clients.
 */
import { Listeners } from '../core/listeners.js';
import { Cluster } from 'ioredis';
import type { ConnectionEvent } from '../core/event.js';
import { markInternalClient } from '../core/internal.js';
import type { Logger } from '../logger.js';
import type { MonitorRedis } from './client.js';
import type { KeySpace } from './keys.js';

/** How long a subscriber's mark lives without a refresh, and how often it is refreshed, ms. */
const LISTENERS_TTL_MS = 30_000;
const LISTENERS_REFRESH_MS = 10_000;

/** Publishing and subscribing to the fleet's live tail. */
export class FleetTail {
  private hasListeners = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly listeners: Listeners<ConnectionEvent>;
  private subscriber: MonitorRedis | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: MonitorRedis,
    private readonly keys: KeySpace,
    private readonly logger: Logger,
  ) {
    this.listeners = new Listeners((err) =>
      logger.warn({ err }, 'connection-monitor: a fleet tail listener threw; ignored'),
    );
  }

  /** Starts looking for listeners: now, then every `intervalMs` (the heartbeat's; unref'd). */
  start(intervalMs: number): void {
    if (this.pollTimer !== undefined) return;
    const poll = () =>
      void this.client
        .exists(this.keys.tailListeners)
        .then((n) => (this.hasListeners = n > 0))
        .catch(() => undefined);
    poll();
    this.pollTimer = setInterval(poll, intervalMs);
    this.pollTimer.unref();
  }

  /** Publishes persisted members (stored event JSON) when the fleet tail has listeners. */
  publish(members: readonly string[]): void {
    if (!this.hasListeners || members.length === 0) return;
    this.client.publish(this.keys.tail, `[${members.join(',')}]`).catch(() => undefined);
  }

  /** Calls `listener` with every event the fleet writes from now on; returns the unsubscribe. */
  subscribe(listener: (event: ConnectionEvent) => void): () => void {
    const remove = this.listeners.add(listener);
    if (this.listeners.size === 1) void this.open();
    return () => {
      if (remove() && this.listeners.size === 0) this.shut();
    };
  }

  /** Stops polling and closes the subscriber connection. */
  close(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.listeners.clear();
    this.shut();
  }

  private async open(): Promise<void> {
    const sub = (
      this.client instanceof Cluster ? this.client.duplicate() : this.client.duplicate()
    ) as MonitorRedis;
    markInternalClient(sub);
    sub.on('error', () => {});
    sub.on('message', (_channel: string, text: string) => this.deliver(text));
    this.subscriber = sub;
    const mark = () =>
      void this.client
        .set(this.keys.tailListeners, '1', 'PX', LISTENERS_TTL_MS)
        .catch(() => undefined);
    mark();
    this.hasListeners = true; // this process publishes at once; others see the mark within 5 s
    this.refreshTimer = setInterval(mark, LISTENERS_REFRESH_MS);
    this.refreshTimer.unref();
    try {
      if (sub.status === 'wait') await sub.connect();
      await sub.subscribe(this.keys.tail);
    } catch (err) {
      this.logger.warn({ err }, 'connection-monitor: fleet tail subscription failed');
    }
  }

  private shut(): void {
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private deliver(text: string): void {
    let events: ConnectionEvent[];
    try {
      events = JSON.parse(text) as ConnectionEvent[];
    } catch {
      return; // not ours
    }
    if (!Array.isArray(events)) return;
    for (const e of events) this.listeners.notify(e);
  }
}
