/**
 * A `ws` WebSocketServer: connections, disconnections with close code and reason, traffic per
 * connection, errors and ping round-trip latency.
 */
import { errorMonitor } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import { MonitorError } from '../core/errors.js';
import type { ConnectionMonitor } from '../monitor.js';
import { z } from 'zod';
import { nameSchema } from '../core/validate.js';
import {
  SafeRecorder,
  adapterOptionsShape,
  claimTarget,
  parseAdapterOptions,
  stripQuery,
  timerMsSchema,
  type AdapterOptions,
  type Disposer,
} from './adapter.js';
import { isInternalClient } from '../core/internal.js';
import { warnRefusedOnce } from './internal.js';
import { WatchedConnection } from './ws-connection.js';

export { ABNORMAL_CLOSE_CODES } from './ws-connection.js';

/** Options of {@link monitorWebSocketServer}. */
export interface MonitorWebSocketServerOptions extends AdapterOptions {
  /** Connection type recorded. Default `websocket`. */
  type?: string;
  /**
   * Interval between the adapter's pings to each open connection, ms; each pong is recorded as a
   * `ping` event with the round-trip time, and a ping still unanswered at the next interval as a
   * `timeout`. The adapter's pings carry their own payload, so the application's own heartbeat
   * pings and pongs are never confused with them. `0` disables. Default 30,000.
   */
  pingIntervalMs?: number;
  /**
   * Record one `message` event per message (metadata `direction` `in`/`out` and `bytes`).
   * Default `false`: messages are only counted and the totals recorded at disconnect.
   */
  messageEvents?: boolean;
  /**
   * Interval of periodic traffic reports, ms: each connection with traffic since its last report
   * records a `traffic` event (metadata messagesIn/Out, bytesIn/Out since that report), so
   * long-lived connections show up before they close. `0` disables: totals only at disconnect.
   * Default 0.
   */
  trafficIntervalMs?: number;
  /**
   * Count outgoing messages and bytes. This installs a pass-through `send` on each connection
   * object (ws has no event for outgoing messages); it is removed on dispose. Default `true`.
   */
  countOutgoing?: boolean;
}

const DEFAULT_PING_INTERVAL_MS = 30_000;

const flag = z.boolean({ error: 'must be true or false' });
const optionsSchema = z.strictObject({
  ...adapterOptionsShape,
  type: nameSchema.default('websocket'),
  pingIntervalMs: timerMsSchema.default(DEFAULT_PING_INTERVAL_MS),
  messageEvents: flag.default(false),
  trafficIntervalMs: timerMsSchema.default(0),
  countOutgoing: flag.default(true),
});

/**
 * Records a `ws` WebSocketServer's connections: `connect` (metadata remoteAddress and path without
 * query string), `disconnect` (metadata code, reason, connectedMs = connection lifetime,
 * messagesIn/Out, bytesIn/Out; an abnormal close code such as 1006 also sets `error`), `error`
 * (errors a connection or the server emit, observed through `errorMonitor` so unhandled errors
 * behave as before), `ping` (durationMs = round trip), `timeout` (pong missing) and, with
 * `trafficIntervalMs`, periodic `traffic` reports. Connections
 * open before the call are adopted: no `connect`, and `adopted: true` on their `disconnect`.
 *
 * The adapter listens to `connection` (prepended, so it sees a connection before the
 * application's own handler sends on it); with `noServer`, emit `connection` as ws documents.
 *
 * @returns a disposer that removes every listener, stops pinging and restores `send`.
 * @throws MonitorError `CM_ERR_CONFIG` for a bad option, or when already attached to this server
 *   for this monitor (field `target`). A server marked as the monitor's own (`INTERNAL_CLIENT`)
 *   is refused with a warning and a no-op disposer.
 */
export function monitorWebSocketServer(
  wss: WebSocketServer,
  monitor: ConnectionMonitor,
  options: MonitorWebSocketServerOptions = {},
): Disposer {
  const o = parseAdapterOptions('monitorWebSocketServer', monitor, optionsSchema, options);
  if (typeof wss !== 'object' || wss === null || typeof wss.on !== 'function') {
    throw new MonitorError('CM_ERR_CONFIG', 'invalid argument wss: must be a ws WebSocketServer', {
      field: 'wss',
    });
  }
  const { type, pingIntervalMs, trafficIntervalMs } = o;
  if (isInternalClient(wss)) {
    warnRefusedOnce(
      wss,
      monitor.options.logger,
      { type },
      'connection-monitor: refusing to instrument the monitor’s own WebSocket server',
    );
    return () => {};
  }
  const release = claimTarget(wss, monitor, 'monitorWebSocketServer');
  const recorder = new SafeRecorder(monitor, type, 'websocket', o.onError, () => dispose());
  const connections = new Map<WebSocket, WatchedConnection>();
  let pingSeq = 0;
  const settings = {
    recorder,
    hasMessageEvents: o.messageEvents,
    isCountingOutgoing: o.countOutgoing,
    onClosed: (conn: WatchedConnection) => connections.delete(conn.ws),
  };
  const track = (ws: WebSocket, req: IncomingMessage | undefined, isAdopted: boolean) => {
    connections.set(ws, new WatchedConnection(ws, req, isAdopted, settings));
  };

  const onConnection = (ws: WebSocket, req: IncomingMessage) => {
    try {
      track(ws, req, false);
      recorder.record({
        kind: 'connect',
        metadata: {
          remoteAddress: req?.socket?.remoteAddress ?? null,
          path: typeof req?.url === 'string' ? stripQuery(req.url) : null,
        },
      });
    } catch (err) {
      recorder.fail(err);
    }
  };
  const onServerError = (err: Error) => {
    recorder.record({ kind: 'error', error: err, metadata: { scope: 'server' } });
  };
  const stopTimers = () => {
    if (timer !== undefined) clearInterval(timer);
    if (trafficTimer !== undefined) clearInterval(trafficTimer);
    timer = undefined;
    trafficTimer = undefined;
  };
  const onServerClose = stopTimers;

  const pingAll = () => {
    const now = performance.now();
    for (const conn of connections.values()) conn.ping(pingSeq++, now);
  };
  const reportTraffic = () => {
    for (const conn of connections.values()) conn.reportTraffic();
  };

  wss.prependListener('connection', onConnection);
  wss.on(errorMonitor, onServerError);
  wss.on('close', onServerClose);
  for (const ws of wss.clients ?? []) {
    if (ws.readyState === 1) track(ws, undefined, true);
  }
  let timer: NodeJS.Timeout | undefined;
  if (pingIntervalMs > 0) {
    timer = setInterval(pingAll, pingIntervalMs);
    timer.unref();
  }
  let trafficTimer: NodeJS.Timeout | undefined;
  if (trafficIntervalMs > 0) {
    trafficTimer = setInterval(reportTraffic, trafficIntervalMs);
    trafficTimer.unref();
  }

  let isDisposed = false;
  const dispose: Disposer = () => {
    if (isDisposed) return;
    isDisposed = true;
    recorder.stop();
    stopTimers();
    wss.off('connection', onConnection);
    wss.off(errorMonitor, onServerError);
    wss.off('close', onServerClose);
    for (const conn of connections.values()) conn.detach();
    connections.clear();
    release();
  };
  return dispose;
}
