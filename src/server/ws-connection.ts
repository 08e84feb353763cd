/**
 * One client of `/ws`: its WebSocket, the TCP socket under it (to batch writes), and what the
 * server counts per connection (message budget, requests in flight, liveness).
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import { toWireError } from './errors.js';
import type { ResolvedServerOptions } from './options.js';
import { MessageRateLimit } from './ws-message-limit.js';
import type { MessageId } from './ws-protocol.js';

type Limits = ResolvedServerOptions['limits'];

/** A connected `/ws` client. */
export class WsConnection {
  /** Client messages allowed (`wsMessagesPerSecond`, burst of twice that) and the 1008 cut-off. */
  readonly messageLimit: MessageRateLimit;
  /** Requests being answered. */
  inFlight = 0;
  /** False once a ping went unanswered. */
  isAlive = true;

  /**
   * @param socket The upgraded WebSocket.
   * @param tcp The TCP socket of the upgrade request (`request.socket`), which the WebSocket
   *   writes to; corked around a burst of sends so they leave in one write.
   */
  constructor(
    readonly socket: WebSocket,
    private readonly tcp: Socket | undefined,
    private readonly limits: Limits,
    nowMs: number,
  ) {
    this.messageLimit = new MessageRateLimit(limits.wsMessagesPerSecond, nowMs);
  }

  /** True while messages can be sent. */
  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Outgoing bytes not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /**
   * Sends a text message. A client whose unread data passed `wsCloseBufferedBytes` is terminated
   * instead (subscriber or not: a client that asks for big answers and never reads them).
   */
  send(text: string): void {
    if (!this.isOpen) return;
    if (this.socket.bufferedAmount > this.limits.wsCloseBufferedBytes) {
      this.socket.terminate();
      return;
    }
    this.socket.send(text);
  }

  /** Runs `sends` with the TCP socket corked, so its messages leave in one write, not one each. */
  batch(sends: () => void): void {
    this.tcp?.cork();
    try {
      sends();
    } finally {
      this.tcp?.uncork();
    }
  }

  /** Answers `{ type: 'error', id?, code, message, field? }`; logs errors that are ours. */
  sendError(id: MessageId, err: unknown, logger: Logger): void {
    const w = toWireError(err);
    if (w.isInternal) logger.error({ err }, 'websocket request failed');
    // An error reply is small, but a flooding client must not grow our buffer without bound.
    if (this.socket.bufferedAmount > this.limits.wsBufferedBytes) return;
    this.send(
      JSON.stringify({
        type: 'error',
        ...(id === undefined ? {} : { id }),
        code: w.code,
        message: w.message,
        ...(w.field === undefined ? {} : { field: w.field }),
      }),
    );
  }

  /** Closes with a code and reason (the client answers the close frame). */
  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  /** Drops the connection at once (no close handshake). */
  terminate(): void {
    this.socket.terminate();
  }
}
