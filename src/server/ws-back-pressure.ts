/**
 * Back-pressure of one subscriber: how much unread data its connection may hold before events to
 * it are dropped, and when it is cut off. Server memory per connection is therefore bounded
 * whatever the client does.
 *
 * - up to `wsBufferedBytes`: events are queued;
 * - above it: events are dropped (and counted by the caller); if it stays above for
 *   `wsSlowConsumerMs`, the connection is closed with 1013 (terminated 2 s later if the client
 *   does not read the close frame either);
 * - above `wsCloseBufferedBytes`: terminated at once, since a close frame would queue behind the
 *   unread data.
 */
import type { ResolvedServerOptions } from './options.js';
import type { WsConnection } from './ws-connection.js';
import { WS_CLOSE_TRY_AGAIN } from './ws-protocol.js';

type Limits = Pick<
  ResolvedServerOptions['limits'],
  'wsBufferedBytes' | 'wsCloseBufferedBytes' | 'wsSlowConsumerMs'
>;

/** How long a slow consumer gets to answer our close frame before it is terminated, ms. */
const CLOSE_GRACE_MS = 2_000;

/** Buffer limits of one subscriber's connection; see the module comment. */
export class BackPressure {
  /** Since when (ms) the buffer has been above the soft limit, or null. */
  private slowSince: number | null = null;
  private isCutOff = false;

  constructor(
    private readonly connection: WsConnection,
    private readonly limits: Limits,
  ) {}

  /** True when events may be queued now; false drops them (and may close the connection). */
  hasRoom(nowMs: number): boolean {
    const c = this.connection;
    const buffered = c.bufferedBytes;
    if (buffered > this.limits.wsCloseBufferedBytes) {
      c.terminate();
      return false;
    }
    if (buffered <= this.limits.wsBufferedBytes) {
      this.slowSince = null;
      return true;
    }
    this.slowSince ??= nowMs;
    if (nowMs - this.slowSince > this.limits.wsSlowConsumerMs && !this.isCutOff) {
      this.isCutOff = true;
      c.close(WS_CLOSE_TRY_AGAIN, 'slow consumer: reading too slowly');
      setTimeout(() => c.terminate(), CLOSE_GRACE_MS).unref();
    }
    return false;
  }
}
