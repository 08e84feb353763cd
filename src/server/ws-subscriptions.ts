/**
 * The `/ws` subscriptions of both scopes, one {@link EventFanOut} each:
 *
 * - `instance` (the default): this process's events as it records them (`monitor.subscribe`),
 *   its own `getStats()` in `stats` messages;
 * - `fleet`: every instance's events as they are persisted (`monitor.subscribeFleet`, within one
 *   flush interval), `getFleetStats()` (`stats`, `source`, `instances`) in `stats` messages.
 *
 * A connection is in one scope at a time: subscribing again with the other scope moves it. The
 * monitor's notable events (`'notable'`) are pushed to the subscribers of either scope that asked
 * for them.
 */
import type { NotableEvent } from '../core/notable.js';
import type { ServiceStatus } from '../core/status.js';
import type { Logger } from '../logger.js';
import type { ConnectionMonitor } from '../monitor.js';
import type { ResolvedServerOptions } from './options.js';
import type { WsConnection } from './ws-connection.js';
import { EventFanOut, type SubscriptionFilter } from './ws-fan-out.js';
import type { SubscribeScope } from './ws-protocol.js';

/** What {@link WsSubscriptions} needs besides the monitor. */
export interface WsSubscriptionsOptions {
  readonly limits: ResolvedServerOptions['limits'];
  /** Interval of `stats` messages, ms. */
  readonly statsIntervalMs: number;
  /** The status sent in `stats` messages (this process's; no storage estimate). */
  readonly status: () => ServiceStatus;
  readonly logger: Logger;
}

/** Every subscription of one server's `/ws`. */
export class WsSubscriptions {
  private readonly scopes: Readonly<Record<SubscribeScope, EventFanOut>>;
  private readonly scopeOf = new Map<WsConnection, SubscribeScope>();
  private stopNotable: (() => void) | undefined;

  constructor(
    private readonly monitor: ConnectionMonitor,
    options: WsSubscriptionsOptions,
  ) {
    const { status } = options;
    const fanOut = {
      limits: options.limits,
      statsIntervalMs: options.statsIntervalMs,
      logger: options.logger,
    };
    this.scopes = {
      instance: new EventFanOut(
        {
          scope: 'instance',
          listen: (listener) => monitor.subscribe(listener),
          stats: async () => ({ stats: monitor.getStats(), status: status() }),
        },
        fanOut,
      ),
      fleet: new EventFanOut(
        {
          scope: 'fleet',
          listen: (listener) => monitor.subscribeFleet(listener),
          stats: async () => ({ ...(await monitor.getFleetStats()), status: status() }),
        },
        fanOut,
      ),
    };
  }

  /** Connections with an active subscription (either scope). */
  get subscriberCount(): number {
    return this.scopeOf.size;
  }

  /** Event messages not sent to subscribers (throttled, slow or overflow), since start. */
  get droppedMessages(): number {
    return this.scopes.instance.droppedMessages + this.scopes.fleet.droppedMessages;
  }

  /** Subscribes `connection` in `scope` with `filter` (moving it out of the other scope). */
  subscribe(
    connection: WsConnection,
    scope: SubscribeScope,
    filter: SubscriptionFilter,
    nowMs: number,
  ): void {
    const previous = this.scopeOf.get(connection);
    if (previous !== undefined && previous !== scope) this.scopes[previous].unsubscribe(connection);
    this.scopes[scope].subscribe(connection, filter, nowMs);
    this.scopeOf.set(connection, scope);
    if (this.stopNotable === undefined) {
      const listener = (event: NotableEvent) => this.pushNotable(event);
      this.monitor.on('notable', listener);
      this.stopNotable = () => this.monitor.off('notable', listener);
    }
  }

  /** Sends `connection` its stats message now (after its subscribe answer). */
  sendStatsNow(connection: WsConnection): Promise<void> {
    const scope = this.scopeOf.get(connection);
    return scope === undefined ? Promise.resolve() : this.scopes[scope].sendStatsNow(connection);
  }

  /** Ends the subscription of `connection`, if any. */
  unsubscribe(connection: WsConnection): void {
    const scope = this.scopeOf.get(connection);
    if (scope === undefined) return;
    this.scopeOf.delete(connection);
    this.scopes[scope].unsubscribe(connection);
    if (this.scopeOf.size === 0) {
      this.stopNotable?.();
      this.stopNotable = undefined;
    }
  }

  /** Ends every subscription. */
  close(): void {
    for (const connection of [...this.scopeOf.keys()]) this.unsubscribe(connection);
  }

  private pushNotable(event: NotableEvent): void {
    this.scopes.instance.pushNotable(event);
    this.scopes.fleet.pushNotable(event);
  }
}
