/**
 * The `/ws` endpoint: accepts connections (up to `wsConnections`), rate-limits and decodes each
 * client message (`ws-protocol.ts`), bounds the requests in flight per connection, has each
 * message answered (`ws-requests.ts`; subscriptions in `ws-subscriptions.ts`), and pings to find
 * dead connections.
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { MonitorError } from '../core/errors.js';
import type { ServiceStatus, ServiceStatusReport } from '../core/status.js';
import type { Logger } from '../logger.js';
import type { ConnectionMonitor } from '../monitor.js';
import type { ResolvedServerOptions } from './options.js';
import { WsConnection } from './ws-connection.js';
import {
  WS_CLOSE_GOING_AWAY,
  WS_CLOSE_POLICY,
  WS_CLOSE_TRY_AGAIN,
  decodeMessage,
} from './ws-protocol.js';
import { WsRequests } from './ws-requests.js';
import { WsSubscriptions } from './ws-subscriptions.js';

/** Requests one connection may have running at once. */
const MAX_IN_FLIGHT = 16;
/** Interval of WebSocket pings; a client that misses one is terminated, ms. */
const PING_INTERVAL_MS = 30_000;

/** Dependencies of {@link WsHub}. */
export interface WsHubOptions {
  readonly limits: ResolvedServerOptions['limits'];
  /** Limits of every history and time-series query. */
  readonly queryLimits: ResolvedServerOptions['queryLimits'];
  readonly statsIntervalMs: number;
  /** This process's service status, sent in `stats` messages. */
  readonly status: () => ServiceStatus;
  /** The body of `/api/status` (with the storage estimate), sent in `status` answers. */
  readonly statusReport: () => Promise<ServiceStatusReport>;
  readonly logger: Logger;
}

/** Serves every WebSocket connection of one server. */
export class WsHub {
  private readonly connections = new Set<WsConnection>();
  private readonly subscriptions: WsSubscriptions;
  private readonly requests: WsRequests;
  private pingTimer: NodeJS.Timeout | undefined;
  private isClosed = false;

  constructor(
    monitor: ConnectionMonitor,
    private readonly options: WsHubOptions,
  ) {
    this.subscriptions = new WsSubscriptions(monitor, options);
    this.requests = new WsRequests(monitor, {
      queryLimits: options.queryLimits,
      statusReport: options.statusReport,
      subscriptions: this.subscriptions,
    });
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Connections with an active subscription. */
  get subscriberCount(): number {
    return this.subscriptions.subscriberCount;
  }

  /** Event messages not sent to subscribers (throttled, slow or overflow), since start. */
  get droppedMessages(): number {
    return this.subscriptions.droppedMessages;
  }

  /**
   * Takes over a freshly upgraded socket; attaches handlers synchronously. `tcp` is the socket of
   * the upgrade request (`request.socket`), used to batch writes.
   */
  accept(socket: WebSocket, tcp: Socket | undefined): void {
    if (this.isClosed || this.connections.size >= this.options.limits.wsConnections) {
      socket.close(WS_CLOSE_TRY_AGAIN, 'too many connections');
      return;
    }
    const connection = new WsConnection(socket, tcp, this.options.limits, performance.now());
    this.connections.add(connection);
    this.pingTimer ??= setInterval(() => this.ping(), PING_INTERVAL_MS).unref();
    socket.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    socket.on('pong', () => {
      connection.isAlive = true;
    });
    socket.on('error', (err) => this.options.logger.debug({ err }, 'websocket error'));
    socket.on('close', () => {
      this.connections.delete(connection);
      this.subscriptions.unsubscribe(connection);
      if (this.connections.size === 0) {
        clearInterval(this.pingTimer);
        this.pingTimer = undefined;
      }
    });
  }

  /** Stops streaming and closes every connection with 1001. Idempotent. */
  close(): void {
    this.isClosed = true;
    for (const c of this.connections) c.close(WS_CLOSE_GOING_AWAY, 'server shutting down');
    this.subscriptions.close();
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private onMessage(c: WsConnection, data: RawData, isBinary: boolean): void {
    const { logger, limits } = this.options;
    const verdict = c.messageLimit.admit(performance.now());
    if (verdict === 'cut_off') {
      c.close(WS_CLOSE_POLICY, 'message rate limit exceeded');
      return;
    }
    if (verdict === 'limited') {
      const rate = limits.wsMessagesPerSecond;
      const err = new MonitorError(
        'CM_ERR_RATE_LIMITED',
        `too many messages: at most ${rate} per second`,
      );
      c.sendError(undefined, err, logger);
      return;
    }
    const decoded = decodeMessage(data, isBinary, limits.wsMessageBytes);
    if (!decoded.ok) {
      c.sendError(decoded.id, decoded.error, logger);
      return;
    }
    const m = decoded.message;
    if (c.inFlight >= MAX_IN_FLIGHT) {
      const err = new MonitorError(
        'CM_ERR_RATE_LIMITED',
        `too many requests in flight: at most ${MAX_IN_FLIGHT}`,
      );
      c.sendError(m.id, err, logger);
      return;
    }
    c.inFlight++;
    this.requests
      .answer(c, m)
      .catch((err: unknown) => c.sendError(m.id, err, logger))
      .finally(() => {
        c.inFlight--;
      });
  }

  private ping(): void {
    for (const c of this.connections) {
      if (!c.isAlive) {
        c.terminate();
        continue;
      }
      c.isAlive = false;
      c.socket.ping();
    }
  }
}
