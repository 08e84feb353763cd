/**
 * The `/ws` endpoint: accepts connections (up to `wsConnections`), rate-limits and decodes each
 * client message (`ws-protocol.ts`), answers `historical`, `time_series` and `status` requests,
 * hands `subscribe` / `unsubscribe` to the fan-out (`ws-fan-out.ts`), and pings to find dead
 * connections.
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { MonitorError } from '../core/errors.js';
import type { ServiceStatus } from '../core/status.js';
import type { Logger } from '../logger.js';
import type { ConnectionMonitor } from '../monitor.js';
import type { ResolvedServerOptions } from './options.js';
import { WsConnection } from './ws-connection.js';
import { EventFanOut } from './ws-fan-out.js';
import {
  WS_CLOSE_GOING_AWAY,
  WS_CLOSE_POLICY,
  WS_CLOSE_TRY_AGAIN,
  decodeMessage,
  type ClientMessage,
} from './ws-protocol.js';

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
  /** The body of `/api/status` (also sent in `status` and `stats` messages). */
  readonly status: () => ServiceStatus;
  readonly logger: Logger;
}

/** Serves every WebSocket connection of one server. */
export class WsHub {
  private readonly connections = new Set<WsConnection>();
  private readonly fanOut: EventFanOut;
  private pingTimer: NodeJS.Timeout | undefined;
  private isClosed = false;

  constructor(
    private readonly monitor: ConnectionMonitor,
    private readonly options: WsHubOptions,
  ) {
    this.fanOut = new EventFanOut(monitor, options);
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Connections with an active subscription. */
  get subscriberCount(): number {
    return this.fanOut.subscriberCount;
  }

  /** Event messages not sent to subscribers (throttled, slow or overflow), since start. */
  get droppedMessages(): number {
    return this.fanOut.droppedMessages;
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
      this.fanOut.unsubscribe(connection);
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
    this.fanOut.close();
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
    this.answer(c, m)
      .catch((err: unknown) => c.sendError(m.id, err, logger))
      .finally(() => {
        c.inFlight--;
      });
  }

  /** Answers one message; a thrown error is answered as an `error` message by the caller. */
  private async answer(c: WsConnection, m: ClientMessage): Promise<void> {
    const { queryLimits } = this.options;
    switch (m.type) {
      case 'historical': {
        const { type, id, connectionType, from, to, limit, before, kind, errorsOnly } = m;
        const page = await this.monitor.getHistoricalData(
          {
            type: connectionType,
            from: from ?? undefined,
            to: to ?? undefined,
            // A digit string is accepted by the monitor's parser, which names any other string.
            limit: limit as number | undefined,
            before,
            kind,
            errorsOnly,
          },
          queryLimits,
        );
        c.send(JSON.stringify({ type, id, ...page }));
        return;
      }
      case 'time_series': {
        const { type, id, connectionType, from, to, bucket } = m;
        const series = await this.monitor.getTimeSeriesData(
          {
            type: connectionType ?? undefined,
            from: from ?? undefined,
            to: to ?? undefined,
            bucketMs: bucket ?? undefined,
          },
          queryLimits,
        );
        c.send(JSON.stringify({ type, id, ...series }));
        return;
      }
      case 'status':
        c.send(JSON.stringify({ type: m.type, id: m.id, status: this.options.status() }));
        return;
      case 'subscribe': {
        const types = m.types ?? null;
        this.fanOut.subscribe(c, types === null ? null : new Set(types), performance.now());
        c.send(JSON.stringify({ type: m.type, id: m.id, ok: true }));
        this.fanOut.sendStatsNow(c);
        return;
      }
      case 'unsubscribe':
        this.fanOut.unsubscribe(c);
        c.send(JSON.stringify({ type: m.type, id: m.id, ok: true }));
        return;
    }
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
