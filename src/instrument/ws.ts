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
  guarded,
  claimTarget,
  parseAdapterOptions,
  stripQuery,
  timerMsSchema,
  type AdapterOptions,
  type Disposer,
} from './adapter.js';
import { isInternalClient } from '../core/internal.js';
import { warnRefusedOnce } from './internal.js';

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

/** Close codes recorded with an `error` on the `disconnect` event (RFC 6455 §7.4.1). */
export const ABNORMAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  1002, 1003, 1006, 1007, 1008, 1009, 1010, 1011, 1014, 1015,
]);

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
/** The adapter's ping payloads start with these bytes ("cm"), then a 6-byte sequence number. */
const PING_TAG = 0x636d;

interface Connection {
  readonly ws: WebSocket;
  readonly connectedAt: number;
  readonly remoteAddress: string | null;
  readonly isAdopted: boolean;
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
  /** Totals at the last `traffic` report. */
  reported: { messagesIn: number; bytesIn: number; messagesOut: number; bytesOut: number };
  pingPayload: Buffer | null;
  pingSentAt: number;
  readonly onMessage: (data: unknown) => void;
  readonly onClose: (code: number, reason: Buffer) => void;
  readonly onPong: (data: Buffer) => void;
  readonly onError: (err: Error) => void;
  readonly send: ((data: unknown, options: unknown, cb: unknown) => void) | undefined;
}

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
  const hasMessageEvents = o.messageEvents;
  const isCountingOutgoing = o.countOutgoing;
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
  const connections = new Map<WebSocket, Connection>();
  let pingSeq = 0;

  const track = (ws: WebSocket, req: IncomingMessage | undefined, isAdopted: boolean) => {
    const remoteAddress = req?.socket?.remoteAddress ?? null;
    const conn: Connection = {
      ws,
      connectedAt: performance.now(),
      remoteAddress,
      isAdopted,
      messagesIn: 0,
      bytesIn: 0,
      messagesOut: 0,
      bytesOut: 0,
      reported: { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 },
      pingPayload: null,
      pingSentAt: 0,
      onMessage: guarded(recorder, (data: unknown) => {
        const bytes = byteSize(data);
        conn.messagesIn++;
        conn.bytesIn += bytes;
        if (hasMessageEvents) {
          recorder.record({ kind: 'message', metadata: { direction: 'in', bytes } });
        }
      }),
      onClose: guarded(recorder, (code: number, reason: Buffer) => {
        connections.delete(ws);
        untrack(conn);
        // The lifetime goes in metadata, not durationMs: durationMs feeds the type's latency
        // stats (avg, p95), which for WebSockets are the ping round trips.
        const metadata: Record<string, string | number | boolean | null> = {
          code,
          reason: reason.length === 0 ? '' : reason.toString('utf8'),
          messagesIn: conn.messagesIn,
          messagesOut: conn.messagesOut,
          bytesIn: conn.bytesIn,
          bytesOut: conn.bytesOut,
          connectedMs: round1(performance.now() - conn.connectedAt),
          remoteAddress: conn.remoteAddress,
        };
        if (conn.isAdopted) metadata.adopted = true;
        recorder.record({
          kind: 'disconnect',
          error: ABNORMAL_CLOSE_CODES.has(code) ? `abnormal close ${code}` : undefined,
          metadata,
        });
      }),
      onPong: guarded(recorder, (data: Buffer) => {
        const sent = conn.pingPayload;
        if (sent === null || !sent.equals(data)) return; // the application's own ping
        conn.pingPayload = null;
        recorder.record({
          kind: 'ping',
          durationMs: performance.now() - conn.pingSentAt,
          metadata: { remoteAddress: conn.remoteAddress },
        });
      }),
      onError: guarded(recorder, (err: Error) => {
        const code = (err as { code?: unknown }).code;
        recorder.record({
          kind: 'error',
          error: err,
          metadata: {
            remoteAddress: conn.remoteAddress,
            ...(typeof code === 'string' ? { errorCode: code } : {}),
          },
        });
      }),
      send: isCountingOutgoing ? makeCountingSend(ws, () => conn) : undefined,
    };
    connections.set(ws, conn);
    ws.on('message', conn.onMessage);
    ws.on('close', conn.onClose);
    ws.on('pong', conn.onPong);
    ws.on(errorMonitor, conn.onError);
    if (conn.send !== undefined) (ws as unknown as { send: unknown }).send = conn.send;
  };

  const makeCountingSend = (ws: WebSocket, connOf: () => Connection) => {
    const original = ws.send;
    // Three fixed parameters rather than a rest array: no allocation per message, and ws treats an
    // `undefined` options or callback exactly as a missing one.
    return function send(this: WebSocket, data: unknown, options: unknown, cb: unknown): void {
      // Counted only when ws will actually send it (it throws while CONNECTING and reports an
      // error through the callback once CLOSING/CLOSED).
      if (ws.readyState === 1) {
        const bytes = byteSize(data);
        const conn = connOf();
        conn.messagesOut++;
        conn.bytesOut += bytes;
        if (hasMessageEvents) {
          recorder.record({ kind: 'message', metadata: { direction: 'out', bytes } });
        }
      }
      return (original as (d: unknown, o: unknown, c: unknown) => void).call(
        this,
        data,
        options,
        cb,
      );
    };
  };

  const untrack = (conn: Connection) => {
    const { ws } = conn;
    ws.off('message', conn.onMessage);
    ws.off('close', conn.onClose);
    ws.off('pong', conn.onPong);
    ws.off(errorMonitor, conn.onError);
    const own = ws as unknown as { send: unknown };
    if (conn.send !== undefined && own.send === conn.send) delete own.send;
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
    for (const conn of connections.values()) {
      if (conn.ws.readyState !== 1) continue;
      if (conn.pingPayload !== null) {
        recorder.record({
          kind: 'timeout',
          durationMs: now - conn.pingSentAt,
          error: 'no pong before the next ping',
          metadata: { probe: 'ping', remoteAddress: conn.remoteAddress },
        });
      }
      const payload = Buffer.allocUnsafe(8);
      payload.writeUInt16BE(PING_TAG, 0);
      payload.writeUIntBE(pingSeq++ % 2 ** 48, 2, 6);
      conn.pingPayload = payload;
      conn.pingSentAt = now;
      try {
        conn.ws.ping(payload);
      } catch (err) {
        conn.pingPayload = null;
        recorder.fail(err);
      }
    }
  };

  const reportTraffic = () => {
    for (const conn of connections.values()) {
      const { reported } = conn;
      const messagesIn = conn.messagesIn - reported.messagesIn;
      const messagesOut = conn.messagesOut - reported.messagesOut;
      if (messagesIn === 0 && messagesOut === 0) continue;
      const bytesIn = conn.bytesIn - reported.bytesIn;
      const bytesOut = conn.bytesOut - reported.bytesOut;
      conn.reported = {
        messagesIn: conn.messagesIn,
        bytesIn: conn.bytesIn,
        messagesOut: conn.messagesOut,
        bytesOut: conn.bytesOut,
      };
      recorder.record({
        kind: 'traffic',
        metadata: {
          messagesIn,
          messagesOut,
          bytesIn,
          bytesOut,
          remoteAddress: conn.remoteAddress,
        },
      });
    }
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
    for (const conn of connections.values()) untrack(conn);
    connections.clear();
    release();
  };
  return dispose;
}

/** Payload size in bytes of what ws delivers or is asked to send. */
function byteSize(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return data.byteLength;
  if (Array.isArray(data)) {
    let n = 0;
    for (const part of data) n += byteSize(part);
    return n;
  }
  return 0;
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}
