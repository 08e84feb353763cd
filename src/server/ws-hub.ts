/**
 * The `/ws` endpoint: answers `historical`, `time_series` and `status` requests and streams
 * `event` and `stats` messages to subscribers.
 *
 * Fan-out: one monitor listener (O(1): push into a bounded array) for all subscribers; a
 * `setImmediate` flush serialises each event at most once and sends it to every subscriber whose
 * filter matches. Each subscriber has an event budget (`wsEventsPerSecond`, sampled evenly when
 * exceeded) and a buffer check: above `wsBufferedBytes` its events are dropped and counted (the
 * count goes out in its next `stats` message); above `wsCloseBufferedBytes`, or above
 * `wsBufferedBytes` for `wsSlowConsumerMs`, it is closed with 1013 (terminated at once above the
 * hard limit, since a close frame would queue behind the unread data). Server memory per connection
 * is therefore bounded whatever the client does.
 */
import type { RawData, WebSocket } from 'ws';
import { MonitorError } from '../core/errors.js';
import type { ConnectionEvent } from '../core/event.js';
import type { Logger } from '../logger.js';
import type { ConnectionMonitor } from '../monitor.js';
import { toWireError } from './errors.js';
import type { ResolvedServerOptions } from './options.js';
import { queryHistory, queryTimeSeries } from './queries.js';
import { MAX_ID_LENGTH, parseOrThrow, wsMessages, type WsMessage } from './schemas.js';

/** Close code for a client that reads too slowly or when the server is full (RFC 6455 "try again later"). */
export const WS_CLOSE_TRY_AGAIN = 1013;
/** Close code for a client that keeps flooding after being rate limited. */
export const WS_CLOSE_POLICY = 1008;
/** Close code when the service shuts down. */
export const WS_CLOSE_GOING_AWAY = 1001;

/** Events held between a record and the next flush; beyond it they are dropped for everyone. */
const MAX_PENDING_EVENTS = 50_000;
/** Requests one connection may have running at once. */
const MAX_IN_FLIGHT = 16;
/** Rate-limited messages in a row after which the connection is closed. */
const MAX_REJECTED_IN_A_ROW = 1_000;
/** Interval of WebSocket pings; a client that misses one is terminated, ms. */
const PING_INTERVAL_MS = 30_000;

type MessageId = string | number | undefined;

interface Client {
  readonly socket: WebSocket;
  /** Message tokens (rate limit). */
  tokens: number;
  tokensAt: number;
  rejectedInARow: number;
  inFlight: number;
  isAlive: boolean;
  isSubscribed: boolean;
  types: ReadonlySet<string> | null;
  /** Event budget of the subscription. */
  eventTokens: number;
  eventTokensAt: number;
  /** Events not delivered to this subscriber since its last stats message. */
  dropped: number;
  /** performance.now() since when the outgoing buffer has been above the soft limit. */
  slowSince: number | null;
}

/** Dependencies of {@link WsHub}. */
export interface WsHubOptions {
  readonly limits: ResolvedServerOptions['limits'];
  readonly statsIntervalMs: number;
  /** The body of `/api/status` (also sent in `status` and `stats` messages). */
  readonly status: () => object;
  readonly logger: Logger;
}

/** Serves every WebSocket connection of one server. */
export class WsHub {
  private readonly clients = new Set<Client>();
  private readonly subscribers = new Set<Client>();
  private pending: ConnectionEvent[] = [];
  private pendingLost = 0;
  private isFlushScheduled = false;
  private stopListening: (() => void) | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private droppedTotal = 0;
  private isClosed = false;

  constructor(
    private readonly monitor: ConnectionMonitor,
    private readonly options: WsHubOptions,
  ) {}

  /** Open connections. */
  get connectionCount(): number {
    return this.clients.size;
  }

  /** Connections with an active subscription. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Event messages not sent to subscribers (throttled, slow or overflow), since start. */
  get droppedMessages(): number {
    return this.droppedTotal;
  }

  /** Takes over a freshly upgraded socket. Attaches handlers synchronously. */
  accept(socket: WebSocket): void {
    if (this.isClosed || this.clients.size >= this.options.limits.wsConnections) {
      socket.close(WS_CLOSE_TRY_AGAIN, 'too many connections');
      return;
    }
    const now = performance.now();
    const burst = this.options.limits.wsMessagesPerSecond * 2;
    const client: Client = {
      socket,
      tokens: burst,
      tokensAt: now,
      rejectedInARow: 0,
      inFlight: 0,
      isAlive: true,
      isSubscribed: false,
      types: null,
      eventTokens: 0,
      eventTokensAt: now,
      dropped: 0,
      slowSince: null,
    };
    this.clients.add(client);
    this.pingTimer ??= setInterval(() => this.ping(), PING_INTERVAL_MS).unref();
    socket.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    socket.on('pong', () => {
      client.isAlive = true;
    });
    socket.on('error', (err) => this.options.logger.debug({ err }, 'websocket error'));
    socket.on('close', () => {
      this.clients.delete(client);
      this.unsubscribe(client);
      if (this.clients.size === 0 && this.pingTimer !== undefined) {
        clearInterval(this.pingTimer);
        this.pingTimer = undefined;
      }
    });
  }

  /** Stops streaming and closes every connection with 1001. Idempotent. */
  close(): void {
    this.isClosed = true;
    for (const c of this.clients) c.socket.close(WS_CLOSE_GOING_AWAY, 'server shutting down');
    for (const c of [...this.subscribers]) this.unsubscribe(c);
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    const { limits } = this.options;
    const now = performance.now();
    const rate = limits.wsMessagesPerSecond;
    client.tokens = Math.min(rate * 2, client.tokens + ((now - client.tokensAt) / 1000) * rate);
    client.tokensAt = now;
    if (client.tokens < 1) {
      if (++client.rejectedInARow >= MAX_REJECTED_IN_A_ROW) {
        client.socket.close(WS_CLOSE_POLICY, 'message rate limit exceeded');
        return;
      }
      this.sendError(
        client,
        undefined,
        new MonitorError('CM_ERR_RATE_LIMITED', `too many messages: at most ${rate} per second`),
      );
      return;
    }
    client.tokens -= 1;
    client.rejectedInARow = 0;
    const size = byteLength(data);
    if (size > limits.wsMessageBytes) {
      this.sendError(
        client,
        undefined,
        new MonitorError(
          'CM_ERR_PAYLOAD_TOO_LARGE',
          `message of ${size} bytes is too large: at most ${limits.wsMessageBytes}`,
        ),
      );
      return;
    }
    if (isBinary) {
      this.sendError(
        client,
        undefined,
        badRequest('binary messages are not accepted: send JSON text'),
      );
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(textOf(data));
    } catch {
      this.sendError(client, undefined, badRequest('malformed JSON'));
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.sendError(client, undefined, badRequest('a message must be a JSON object with a type'));
      return;
    }
    const id = safeId((parsed as { id?: unknown }).id);
    const type = (parsed as { type?: unknown }).type;
    if (typeof type !== 'string' || !Object.hasOwn(wsMessages, type)) {
      const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : 'missing';
      this.sendError(
        client,
        id,
        badRequest(
          `unknown message type ${shown}: expected historical, time_series, status, subscribe or unsubscribe`,
          'type',
        ),
      );
      return;
    }
    if (client.inFlight >= MAX_IN_FLIGHT) {
      this.sendError(
        client,
        id,
        new MonitorError(
          'CM_ERR_RATE_LIMITED',
          `too many requests in flight: at most ${MAX_IN_FLIGHT}`,
        ),
      );
      return;
    }
    let message: WsMessage;
    try {
      message = parseOrThrow(
        wsMessages[type as keyof typeof wsMessages],
        parsed,
        'CM_ERR_BAD_REQUEST',
        `${type} message`,
      );
    } catch (err) {
      this.sendError(client, id, err);
      return;
    }
    client.inFlight++;
    this.dispatch(client, message)
      .catch((err: unknown) => this.sendError(client, id, err))
      .finally(() => {
        client.inFlight--;
      });
  }

  private async dispatch(client: Client, m: WsMessage): Promise<void> {
    const { limits } = this.options;
    switch (m.type) {
      case 'historical': {
        const page = await queryHistory(
          this.monitor,
          {
            type: m.connectionType,
            from: m.from ?? undefined,
            to: m.to ?? undefined,
            limit: m.limit as number | undefined,
            before: m.before ?? undefined,
            kind: m.kind,
            errorsOnly: m.errorsOnly,
          },
          limits,
        );
        this.send(client, JSON.stringify({ type: 'historical', id: m.id, ...page }));
        return;
      }
      case 'time_series': {
        const series = await queryTimeSeries(
          this.monitor,
          {
            type: m.connectionType ?? undefined,
            from: m.from ?? undefined,
            to: m.to ?? undefined,
            bucketMs: m.bucket ?? undefined,
          },
          limits,
        );
        this.send(client, JSON.stringify({ type: 'time_series', id: m.id, ...series }));
        return;
      }
      case 'status':
        this.send(
          client,
          JSON.stringify({ type: 'status', id: m.id, status: this.options.status() }),
        );
        return;
      case 'subscribe': {
        const types = m.types ?? null;
        if (types !== null) {
          for (const [i, t] of types.entries()) {
            if (!/^[a-z][a-z0-9_-]{0,63}$/.test(t)) {
              throw new MonitorError(
                'CM_ERR_BAD_REQUEST',
                `invalid subscribe message: types.${i} must match ^[a-z][a-z0-9_-]{0,63}$`,
                { field: `types.${i}` },
              );
            }
          }
        }
        this.subscribe(client, types === null ? null : new Set(types));
        this.send(client, JSON.stringify({ type: 'subscribe', id: m.id, ok: true }));
        this.sendStats([client]);
        return;
      }
      case 'unsubscribe':
        this.unsubscribe(client);
        this.send(client, JSON.stringify({ type: 'unsubscribe', id: m.id, ok: true }));
        return;
    }
  }

  private subscribe(client: Client, types: ReadonlySet<string> | null): void {
    client.types = types;
    if (!client.isSubscribed) {
      client.isSubscribed = true;
      client.eventTokens = this.options.limits.wsEventsPerSecond;
      client.eventTokensAt = performance.now();
      client.dropped = 0;
      this.subscribers.add(client);
    }
    if (this.stopListening === undefined) {
      this.stopListening = this.monitor.subscribe((event) => this.onEvent(event));
      this.statsTimer = setInterval(() => this.tick(), this.options.statsIntervalMs).unref();
    }
  }

  private unsubscribe(client: Client): void {
    if (!client.isSubscribed) return;
    client.isSubscribed = false;
    this.subscribers.delete(client);
    if (this.subscribers.size === 0) {
      this.stopListening?.();
      this.stopListening = undefined;
      clearInterval(this.statsTimer);
      this.statsTimer = undefined;
      this.pending = [];
      this.pendingLost = 0;
    }
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
    const { limits } = this.options;
    const texts = new Array<string | undefined>(events.length);
    const now = performance.now();
    for (const c of this.subscribers) {
      c.dropped += lost;
      this.droppedTotal += lost;
      // Indices of the events this subscriber wants (null: all of them).
      let wanted: number[] | null = null;
      if (c.types !== null) {
        wanted = [];
        for (let i = 0; i < events.length; i++) {
          if (c.types.has((events[i] as ConnectionEvent).type)) wanted.push(i);
        }
      }
      const n = wanted === null ? events.length : wanted.length;
      if (n === 0) continue;
      if (!this.hasRoom(c, now)) {
        c.dropped += n;
        this.droppedTotal += n;
        continue;
      }
      const rate = limits.wsEventsPerSecond;
      c.eventTokens = Math.min(rate, c.eventTokens + ((now - c.eventTokensAt) / 1000) * rate);
      c.eventTokensAt = now;
      const k = Math.min(n, Math.floor(c.eventTokens));
      c.eventTokens -= k;
      c.dropped += n - k;
      this.droppedTotal += n - k;
      // One write per subscriber per flush instead of one per message: cork the TCP socket (ws
      // keeps it in `_socket`; without it we fall back to one write per message).
      const tcp = (c.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      tcp?.cork();
      for (let i = 0; i < k; i++) {
        // Even sampling when over budget: picks spread across the batch, not just its head.
        const j = k === n ? i : Math.floor((i * n) / k);
        const at = wanted === null ? j : (wanted[j] as number);
        let text = texts[at];
        if (text === undefined) {
          text = JSON.stringify({ type: 'event', event: events[at] });
          texts[at] = text;
        }
        this.send(c, text);
      }
      tcp?.uncork();
    }
  }

  /** False (and maybe closes the client) when its outgoing buffer is over the limits. */
  private hasRoom(c: Client, now: number): boolean {
    const { limits } = this.options;
    const buffered = c.socket.bufferedAmount;
    if (buffered > limits.wsCloseBufferedBytes) {
      // Memory first: drop the connection and its buffer now (a close frame would queue behind it).
      c.socket.terminate();
      return false;
    }
    if (buffered <= limits.wsBufferedBytes) {
      c.slowSince = null;
      return true;
    }
    c.slowSince ??= now;
    if (now - c.slowSince > limits.wsSlowConsumerMs) {
      c.socket.close(WS_CLOSE_TRY_AGAIN, 'slow consumer: reading too slowly');
      // A client that does not read will not answer the close frame either.
      setTimeout(() => c.socket.terminate(), 2_000).unref();
    }
    return false;
  }

  private tick(): void {
    const now = performance.now();
    for (const c of this.subscribers) this.hasRoom(c, now);
    this.sendStats(this.subscribers);
  }

  /** Sends `{ type: 'stats', dropped, stats, status }`; the shared part is serialised once. */
  private sendStats(clients: Iterable<Client>): void {
    let shared: string | undefined;
    for (const c of clients) {
      if (c.socket.readyState !== c.socket.OPEN) continue;
      shared ??= JSON.stringify({
        stats: this.monitor.getStats(),
        status: this.options.status(),
      }).slice(1);
      this.send(c, `{"type":"stats","dropped":${c.dropped},${shared}`);
      c.dropped = 0;
    }
  }

  private ping(): void {
    for (const c of this.clients) {
      if (!c.isAlive) {
        c.socket.terminate();
        continue;
      }
      c.isAlive = false;
      c.socket.ping();
    }
  }

  private send(c: Client, text: string): void {
    if (c.socket.readyState !== c.socket.OPEN) return;
    // A client that asks for big answers and never reads them is cut off here, subscriber or not.
    if (c.socket.bufferedAmount > this.options.limits.wsCloseBufferedBytes) {
      c.socket.terminate();
      return;
    }
    c.socket.send(text);
  }

  private sendError(c: Client, id: MessageId, err: unknown): void {
    const w = toWireError(err);
    if (w.isInternal) this.options.logger.error({ err }, 'websocket request failed');
    // An error reply is small, but a flooding client must not grow our buffer without bound.
    if (c.socket.bufferedAmount > this.options.limits.wsBufferedBytes) return;
    this.send(
      c,
      JSON.stringify({
        type: 'error',
        ...(id === undefined ? {} : { id }),
        code: w.code,
        message: w.message,
        ...(w.field === undefined ? {} : { field: w.field }),
      }),
    );
  }
}

function badRequest(message: string, field?: string): MonitorError {
  return new MonitorError('CM_ERR_BAD_REQUEST', message, field === undefined ? {} : { field });
}

/** The message id to echo: a short string or a finite number; anything else is not echoed. */
function safeId(id: unknown): MessageId {
  if (typeof id === 'string' && id.length <= MAX_ID_LENGTH) return id;
  if (typeof id === 'number' && Number.isFinite(id)) return id;
  return undefined;
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
