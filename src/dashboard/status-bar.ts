import { el, setText } from './dom.js';
import { formatBytes, formatCount, formatTimeShort, formatUptime } from './format.js';
import type { LiveState } from './live.js';
import type { ServiceStatus, StatusReport } from './types.js';

/**
 * Why persistence is degraded, or null when it is healthy (or deliberately off). Degraded: the
 * circuit is open or half-open, or persistence is on but running in memory or has not recovered
 * its history from Redis yet.
 */
export function degradedReason(status: ServiceStatus): string | null {
  const p = status.persistence;
  if (p.circuit === 'open') {
    return `Redis is unreachable: the circuit breaker is open. Events are kept in memory and queued (${formatCount(p.queueDepth)} waiting)${p.lastError ? ` — ${p.lastError}` : ''}.`;
  }
  if (p.circuit === 'half_open') {
    return `Redis is recovering: the circuit breaker is half-open and trying a write (${formatCount(p.queueDepth)} events queued).`;
  }
  if (p.enabled && p.mode === 'memory') {
    return 'Persistence is enabled but the service is running in memory: events will not survive a restart.';
  }
  if (p.enabled && !p.recovered) {
    return 'History has not been recovered from Redis yet: older events and totals may be missing.';
  }
  return null;
}

interface Item {
  value: HTMLElement;
  root: HTMLElement;
}

function item(label: string, id: string): Item {
  const value = el('dd', { id, 'data-testid': id, text: '—' });
  const root = el('div', { class: 'status-item' }, el('dt', { text: label }), value);
  return { value, root };
}

/** The status bar and the degraded-persistence banner. */
export class StatusBar {
  private readonly items: Record<string, Item>;
  private readonly instances = new Set<string>();
  private countdown: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly banner: HTMLElement,
    private readonly liveIndicator: HTMLElement,
  ) {
    this.items = {
      persistence: item('Persistence', 'status-persistence'),
      circuit: item('Circuit', 'status-circuit'),
      queue: item('Queue depth', 'status-queue'),
      dropped: item('Dropped', 'status-dropped'),
      persisted: item('Persisted', 'status-persisted'),
      flush: item('Last flush', 'status-flush'),
      instances: item('Instances', 'status-instances'),
      uptime: item('Uptime', 'status-uptime'),
      storage: item('Redis memory', 'status-storage'),
    };
    // Shown once a status answer says what Redis holds.
    this.items.storage?.root.setAttribute('hidden', '');
    const list = el('dl', { class: 'status-list' });
    for (const i of Object.values(this.items)) list.append(i.root);
    this.root.append(list);
  }

  /** Counts an instance id seen in events or in the fleet's list. */
  noteInstance(id: string): void {
    if (this.instances.has(id)) return;
    this.instances.add(id);
    const it = this.items.instances;
    if (it !== undefined) setText(it.value, formatCount(this.instances.size));
  }

  /**
   * Renders a status answer. The Redis memory estimate comes with `GET /api/status` only (the
   * live `stats` messages carry no `storage`): the last one stays until a new one arrives.
   */
  update(status: ServiceStatus | StatusReport): void {
    const p = status.persistence;
    this.instances.add(status.instance);
    const i = this.items;
    const set = (key: string, text: string, tone?: 'ok' | 'warn' | 'bad' | '') => {
      const it = i[key];
      if (it === undefined) return;
      setText(it.value, text);
      it.root.dataset.tone = tone ?? '';
    };
    set(
      'persistence',
      !p.enabled ? 'memory only' : p.mode === 'memory' ? 'memory (degraded)' : p.mode,
      !p.enabled ? '' : p.mode === 'memory' ? 'bad' : 'ok',
    );
    set(
      'circuit',
      p.circuit === 'half_open' ? 'half-open' : p.circuit,
      p.circuit === 'closed' ? (p.enabled ? 'ok' : '') : p.circuit === 'open' ? 'bad' : 'warn',
    );
    set(
      'queue',
      formatCount(p.queueDepth),
      p.queueDepth > 0 && p.circuit !== 'closed' ? 'warn' : '',
    );
    set('dropped', formatCount(p.dropped), p.dropped > 0 ? 'bad' : '');
    set('persisted', p.enabled ? formatCount(p.persisted) : '—');
    set('flush', formatTimeShort(p.lastFlushAt, Date.now(), false));
    set('instances', formatCount(this.instances.size));
    if ('storage' in status) {
      const storage = status.storage ?? null;
      set('storage', storage === null ? '—' : formatBytes(storage.totalBytesNow));
      const it = i.storage;
      // Without Redis there is nothing to measure: the item is left out.
      if (it !== undefined) it.root.hidden = storage === null;
      if (it !== undefined && storage !== null) {
        it.root.title = `MEMORY USAGE of the keys of ${formatCount(storage.types.length)} types, measured ${formatTimeShort(storage.measuredAt, Date.now(), false)}`;
      }
    }
    set('uptime', formatUptime(status.uptimeMs));
    const reason = degradedReason(status);
    if (reason === null) {
      this.banner.hidden = true;
      this.banner.textContent = '';
    } else {
      this.banner.hidden = false;
      setText(this.banner, reason);
      this.banner.dataset.severity = p.circuit === 'open' || p.mode === 'memory' ? 'bad' : 'warn';
    }
    this.root.dataset.instance = status.instance;
  }

  /** Renders the WebSocket state in the header. */
  setLive(state: LiveState): void {
    clearInterval(this.countdown);
    if (state.state === 'reconnecting') {
      this.countdown = setInterval(() => this.renderLive(state), 1000);
    }
    this.renderLive(state);
  }

  private renderLive(state: LiveState): void {
    const node = this.liveIndicator;
    node.dataset.state = state.state;
    if (state.state === 'live') setText(node, 'Live');
    else if (state.state === 'connecting') setText(node, 'Connecting…');
    else {
      const s = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
      setText(node, s > 0 ? `Offline · retrying in ${s} s` : 'Reconnecting…');
    }
  }
}
