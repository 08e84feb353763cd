import { api } from './api.js';
import { TOKEN_CHANGED, tokenStore } from './auth.js';
import { Backoff } from './backoff.js';
import type {
  ConnectionEvent,
  InstanceInfo,
  NotableEvent,
  ServiceStatus,
  StatsMap,
} from './types.js';

/** Connection state shown in the header. */
export type LiveState =
  | { state: 'connecting' }
  | { state: 'live' }
  | { state: 'reconnecting'; retryAt: number; attempt: number };

/**
 * Which stream to subscribe to: this process's events and stats (`instance`), or the whole
 * fleet's (`fleet`: every instance's events as they are persisted, the fleet's totals).
 */
export type LiveScope = 'instance' | 'fleet';

/** A `stats` message. */
export interface LiveStats {
  scope: LiveScope;
  stats: StatsMap;
  /** This service's status. */
  status: ServiceStatus;
  /** Events the service skipped for this page since the last stats (sampling). */
  dropped: number;
  /** The fleet's instances (fleet scope only). */
  instances: InstanceInfo[] | null;
}

/** Callbacks of {@link LiveConnection}. */
export interface LiveHandlers {
  onStats(message: LiveStats): void;
  onEvent(event: ConnectionEvent): void;
  /** A notable event (circuit change, instance start/stop, first error, alert, note). */
  onNotable(event: NotableEvent): void;
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
 * The `/ws` subscription: subscribes to every type of one scope (and to notable events),
 * reconnects with capped, jittered exponential backoff when the socket drops (e.g. the service
 * restarts), and reports its state.
 */
export class LiveConnection {
  private socket: WebSocket | null = null;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 15_000 });
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private hasBeenLive = false;
  private isClosed = false;
  private scope: LiveScope = 'instance';

  constructor(private readonly handlers: LiveHandlers) {
    // A new token makes the next attempt likely to succeed: do not wait out the backoff.
    window.addEventListener(TOKEN_CHANGED, () => {
      if (this.socket !== null || this.isClosed) return;
      clearTimeout(this.retryTimer);
      this.backoff.reset();
      this.start();
    });
  }

  /**
   * Subscribes to `scope` from now on: at once when the socket is open (the service moves the
   * subscription), else when it opens. Stats of the other scope still in flight are ignored.
   */
  setScope(scope: LiveScope): void {
    if (scope === this.scope) return;
    this.scope = scope;
    if (this.socket?.readyState === WebSocket.OPEN) this.subscribe(this.socket);
  }

  private subscribe(socket: WebSocket): void {
    socket.send(
      JSON.stringify({ type: 'subscribe', id: 'dashboard', scope: this.scope, notable: true }),
    );
  }

  /** Opens the socket (idempotent while one is open). */
  start(): void {
    if (this.socket !== null || this.isClosed) return;
    this.handlers.onState({ state: 'connecting' });
    let opened = false;
    let acknowledged = false;
    const socket = new WebSocket(wsUrl());
    this.socket = socket;
    socket.addEventListener('open', () => {
      opened = true;
      this.subscribe(socket);
    });
    socket.addEventListener('message', (ev: MessageEvent<string>) => {
      let msg: { type?: string; [k: string]: unknown };
      try {
        msg = JSON.parse(ev.data) as typeof msg;
      } catch {
        return;
      }
      if (msg.type === 'subscribe' && msg.ok === true) {
        // Only the first answer on a socket means "live"; later ones answer a change of scope.
        if (acknowledged) return;
        acknowledged = true;
        this.backoff.reset();
        this.handlers.onState({ state: 'live' });
        if (this.hasBeenLive) this.handlers.onReconnected();
        this.hasBeenLive = true;
      } else if (msg.type === 'event' && msg.event) {
        this.handlers.onEvent(msg.event as ConnectionEvent);
      } else if (msg.type === 'stats' && msg.stats && msg.status) {
        // A service without fleet scopes sends no `scope`: its stats are this process's.
        const scope = msg.scope === 'fleet' ? 'fleet' : 'instance';
        if (scope !== this.scope) return;
        this.handlers.onStats({
          scope,
          stats: msg.stats as StatsMap,
          status: msg.status as ServiceStatus,
          dropped: typeof msg.dropped === 'number' ? msg.dropped : 0,
          instances: Array.isArray(msg.instances) ? (msg.instances as InstanceInfo[]) : null,
        });
      } else if (msg.type === 'notable_event' && msg.event) {
        this.handlers.onNotable(msg.event as NotableEvent);
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
