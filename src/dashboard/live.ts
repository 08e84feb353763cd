import { api } from './api.js';
import { TOKEN_CHANGED, tokenStore } from './auth.js';
import { Backoff } from './backoff.js';
import type { ConnectionEvent, ServiceStatus, StatsMap } from './types.js';

/** Connection state shown in the header. */
export type LiveState =
  | { state: 'connecting' }
  | { state: 'live' }
  | { state: 'reconnecting'; retryAt: number; attempt: number };

/** Callbacks of {@link LiveConnection}. */
export interface LiveHandlers {
  /** `dropped`: events the service skipped for this page since the last stats (sampling). */
  onStats(stats: StatsMap, status: ServiceStatus, dropped: number): void;
  onEvent(event: ConnectionEvent): void;
  onState(state: LiveState): void;
  /** Called after a reconnect (the service may have restarted): refetch what is shown. */
  onReconnected(): void;
}

/** Builds the WebSocket URL next to the page, with `?token=` when one is stored. */
function wsUrl(): string {
  const url = new URL('ws', document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = tokenStore.get();
  if (token) url.searchParams.set('token', token);
  return url.toString();
}

/**
 * The `/ws` subscription: subscribes to every type, reconnects with capped, jittered exponential
 * backoff when the socket drops (e.g. the service restarts), and reports its state.
 */
export class LiveConnection {
  private socket: WebSocket | null = null;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 15_000 });
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private hasBeenLive = false;
  private isClosed = false;

  constructor(private readonly handlers: LiveHandlers) {
    // A new token makes the next attempt likely to succeed: do not wait out the backoff.
    window.addEventListener(TOKEN_CHANGED, () => {
      if (this.socket !== null || this.isClosed) return;
      clearTimeout(this.retryTimer);
      this.backoff.reset();
      this.start();
    });
  }

  /** Opens the socket (idempotent while one is open). */
  start(): void {
    if (this.socket !== null || this.isClosed) return;
    this.handlers.onState({ state: 'connecting' });
    let opened = false;
    const socket = new WebSocket(wsUrl());
    this.socket = socket;
    socket.addEventListener('open', () => {
      opened = true;
      socket.send(JSON.stringify({ type: 'subscribe', id: 'dashboard' }));
    });
    socket.addEventListener('message', (ev: MessageEvent<string>) => {
      let msg: { type?: string; [k: string]: unknown };
      try {
        msg = JSON.parse(ev.data) as typeof msg;
      } catch {
        return;
      }
      if (msg.type === 'subscribe' && msg.ok === true) {
        this.backoff.reset();
        this.handlers.onState({ state: 'live' });
        if (this.hasBeenLive) this.handlers.onReconnected();
        this.hasBeenLive = true;
      } else if (msg.type === 'event' && msg.event) {
        this.handlers.onEvent(msg.event as ConnectionEvent);
      } else if (msg.type === 'stats' && msg.stats && msg.status) {
        const dropped = typeof msg.dropped === 'number' ? msg.dropped : 0;
        this.handlers.onStats(msg.stats as StatsMap, msg.status as ServiceStatus, dropped);
      }
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.isClosed) return;
      // A socket that never opened may have been refused for a missing or stale token: a REST
      // call shows the token prompt in that case (and fails harmlessly when the service is down).
      if (!opened) void api.status().catch(() => undefined);
      this.scheduleRetry();
    });
    // 'error' is always followed by 'close'; the retry is scheduled there.
  }

  /** Closes for good. */
  close(): void {
    this.isClosed = true;
    clearTimeout(this.retryTimer);
    this.socket?.close();
    this.socket = null;
  }

  private scheduleRetry(): void {
    const delay = this.backoff.next();
    this.handlers.onState({
      state: 'reconnecting',
      retryAt: Date.now() + delay,
      attempt: this.backoff.attempts,
    });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.start(), delay);
  }
}
