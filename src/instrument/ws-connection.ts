/**
 * One WebSocket connection watched by `monitorWebSocketServer`: its traffic counters, the
 * adapter's pings, and the listeners (and optional counting `send`) attached to it.
 */
import { errorMonitor } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { guarded, type SafeRecorder } from './adapter.js';

/** Close codes recorded with an `error` on the `disconnect` event (RFC 6455 §7.4.1). */
export const ABNORMAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  1002, 1003, 1006, 1007, 1008, 1009, 1010, 1011, 1014, 1015,
]);

/** The adapter's ping payloads start with these bytes ("cm"), then a 6-byte sequence number. */
const PING_TAG = 0x636d;
const OPEN = 1;

/** What every connection of one server shares. */
export interface ConnectionSettings {
  readonly recorder: SafeRecorder;
  /** One `message` event per message. */
  readonly hasMessageEvents: boolean;
  /** Count outgoing messages through a pass-through `send` on the connection object. */
  readonly isCountingOutgoing: boolean;
  /** Called once the connection closed (after its `disconnect` event). */
  readonly onClosed: (conn: WatchedConnection) => void;
}

interface Traffic {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
}

/** A connection being watched; `detach()` removes everything it attached. */
export class WatchedConnection {
  private readonly connectedAt = performance.now();
  private readonly remoteAddress: string | null;
  private readonly traffic: Traffic = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 };
  /** Totals at the last `traffic` report. */
  private reported: Traffic = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 };
  private pingPayload: Buffer | null = null;
  private pingSentAt = 0;
  private readonly onMessage: (data: unknown) => void;
  private readonly onClose: (code: number, reason: Buffer) => void;
  private readonly onPong: (data: Buffer) => void;
  private readonly onError: (err: Error) => void;
  private readonly send: ((data: unknown, options: unknown, cb: unknown) => void) | undefined;

  /** Starts watching `ws` (`req` is absent for a connection that was open before attaching). */
  constructor(
    readonly ws: WebSocket,
    req: IncomingMessage | undefined,
    private readonly isAdopted: boolean,
    private readonly settings: ConnectionSettings,
  ) {
    const { recorder } = settings;
    this.remoteAddress = req?.socket?.remoteAddress ?? null;
    this.onMessage = guarded(recorder, (data: unknown) => this.count('in', byteSize(data)));
    this.onClose = guarded(recorder, (code: number, reason: Buffer) => this.closed(code, reason));
    this.onPong = guarded(recorder, (data: Buffer) => this.pong(data));
    this.onError = guarded(recorder, (err: Error) => {
      const code = (err as { code?: unknown }).code;
      recorder.record({
        kind: 'error',
        error: err,
        metadata: {
          remoteAddress: this.remoteAddress,
          ...(typeof code === 'string' ? { errorCode: code } : {}),
        },
      });
    });
    this.send = settings.isCountingOutgoing ? this.countingSend() : undefined;
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    ws.on('pong', this.onPong);
    ws.on(errorMonitor, this.onError);
    if (this.send !== undefined) (ws as unknown as { send: unknown }).send = this.send;
  }

  /** Removes the listeners and the counting `send`. */
  detach(): void {
    const { ws } = this;
    ws.off('message', this.onMessage);
    ws.off('close', this.onClose);
    ws.off('pong', this.onPong);
    ws.off(errorMonitor, this.onError);
    const own = ws as unknown as { send: unknown };
    if (this.send !== undefined && own.send === this.send) delete own.send;
  }

  /**
   * Sends the adapter's ping number `seq`; a ping still unanswered records a `timeout` first.
   * Its own payload tells its pong from the application's.
   */
  ping(seq: number, now: number): void {
    if (this.ws.readyState !== OPEN) return;
    const { recorder } = this.settings;
    if (this.pingPayload !== null) {
      recorder.record({
        kind: 'timeout',
        durationMs: now - this.pingSentAt,
        error: 'no pong before the next ping',
        metadata: { probe: 'ping', remoteAddress: this.remoteAddress },
      });
    }
    const payload = Buffer.allocUnsafe(8);
    payload.writeUInt16BE(PING_TAG, 0);
    payload.writeUIntBE(seq % 2 ** 48, 2, 6);
    this.pingPayload = payload;
    this.pingSentAt = now;
    try {
      this.ws.ping(payload);
    } catch (err) {
      this.pingPayload = null;
      recorder.fail(err);
    }
  }

  /** Records a `traffic` event with what moved since the last one (nothing when idle). */
  reportTraffic(): void {
    const t = this.traffic;
    const r = this.reported;
    if (t.messagesIn === r.messagesIn && t.messagesOut === r.messagesOut) return;
    this.reported = { ...t };
    this.settings.recorder.record({
      kind: 'traffic',
      metadata: {
        messagesIn: t.messagesIn - r.messagesIn,
        messagesOut: t.messagesOut - r.messagesOut,
        bytesIn: t.bytesIn - r.bytesIn,
        bytesOut: t.bytesOut - r.bytesOut,
        remoteAddress: this.remoteAddress,
      },
    });
  }

  private count(direction: 'in' | 'out', bytes: number): void {
    const t = this.traffic;
    if (direction === 'in') {
      t.messagesIn++;
      t.bytesIn += bytes;
    } else {
      t.messagesOut++;
      t.bytesOut += bytes;
    }
    if (this.settings.hasMessageEvents) {
      this.settings.recorder.record({ kind: 'message', metadata: { direction, bytes } });
    }
  }

  private closed(code: number, reason: Buffer): void {
    this.detach();
    // The lifetime goes in metadata, not durationMs: durationMs feeds the type's latency stats
    // (avg, p95), which for WebSockets are the ping round trips.
    const t = this.traffic;
    const metadata: Record<string, string | number | boolean | null> = {
      code,
      reason: reason.length === 0 ? '' : reason.toString('utf8'),
      messagesIn: t.messagesIn,
      messagesOut: t.messagesOut,
      bytesIn: t.bytesIn,
      bytesOut: t.bytesOut,
      connectedMs: Math.round((performance.now() - this.connectedAt) * 10) / 10,
      remoteAddress: this.remoteAddress,
    };
    if (this.isAdopted) metadata.adopted = true;
    this.settings.recorder.record({
      kind: 'disconnect',
      error: ABNORMAL_CLOSE_CODES.has(code) ? `abnormal close ${code}` : undefined,
      metadata,
    });
    this.settings.onClosed(this);
  }

  private pong(data: Buffer): void {
    const sent = this.pingPayload;
    if (sent === null || !sent.equals(data)) return; // the application's own ping
    this.pingPayload = null;
    this.settings.recorder.record({
      kind: 'ping',
      durationMs: performance.now() - this.pingSentAt,
      metadata: { remoteAddress: this.remoteAddress },
    });
  }

  /** A pass-through `send` that counts what ws will actually send. */
  private countingSend(): (data: unknown, options: unknown, cb: unknown) => void {
    const { ws } = this;
    const original = ws.send as (d: unknown, o: unknown, c: unknown) => void;
    const count = (bytes: number) => this.count('out', bytes);
    // Three fixed parameters rather than a rest array: no allocation per message, and ws treats an
    // `undefined` options or callback exactly as a missing one.
    return function send(this: WebSocket, data: unknown, options: unknown, cb: unknown): void {
      // Counted only when ws will actually send it (it throws while CONNECTING and reports an
      // error through the callback once CLOSING/CLOSED).
      if (ws.readyState === OPEN) count(byteSize(data));
      return original.call(this, data, options, cb);
    };
  }
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
