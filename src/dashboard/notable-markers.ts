/**
 * Notable events (a circuit opening, an instance starting, the first error after a quiet period,
 * an alert, a deploy note) as markers on the time charts: a dashed vertical line at the moment,
 * with the message as the marker's tooltip (`title`) and accessible name. The markers are DOM
 * nodes over the plot (not canvas drawing) so the browser shows the tooltip and tests can read
 * them; they are repositioned after every draw, so resizing and new data keep them in place.
 */
import type uPlot from 'uplot';
import { el } from './dom.js';
import { formatDateTime } from './format.js';
import type { NotableEvent } from './types.js';

/** The notable events every chart marks, shared by the charts (one list, many plots). */
export class NotableStore {
  private events: NotableEvent[] = [];
  private readonly listeners = new Set<() => void>();

  /** The events to mark, oldest first. */
  get all(): readonly NotableEvent[] {
    return this.events;
  }

  /** Replaces the events (a new range or scope was loaded). */
  set(events: readonly NotableEvent[]): void {
    this.events = dedupe(events);
    this.changed();
  }

  /** Adds one event pushed live (ignored when already known). */
  add(event: NotableEvent): void {
    if (this.events.some((e) => e.id === event.id)) return;
    this.events = dedupe([...this.events, event]);
    this.changed();
  }

  /** Calls `listener` after every change; returns the stop function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function dedupe(events: readonly NotableEvent[]): NotableEvent[] {
  const byId = new Map(events.map((e) => [e.id, e]));
  return [...byId.values()].sort((a, b) => a.at - b.at);
}

/** The text of one event in a marker: when and what. */
export function markerText(e: NotableEvent): string {
  return `${formatDateTime(e.at).slice(0, 19)} · ${e.message}`;
}

/** Markers closer than this many pixels are drawn as one (a month of events stays readable). */
const MERGE_PX = 8;
/** Most events a merged marker's tooltip lists. */
const MAX_LISTED = 8;
/** Which kind gives a merged marker its colour and is listed first: the caller's notes first. */
const PRIORITY: Record<NotableEvent['kind'], number> = {
  note: 0,
  alert: 1,
  circuit: 2,
  'first-error': 3,
  instance: 4,
};

/** Events that fall within {@link MERGE_PX} of each other, drawn as one marker. */
interface Cluster {
  events: NotableEvent[];
  fromPx: number;
  toPx: number;
}

/** Groups `events` (oldest first) by their x position `px(at)`. */
function cluster(events: readonly NotableEvent[], px: (at: number) => number): Cluster[] {
  const out: Cluster[] = [];
  for (const e of events) {
    const x = px(e.at);
    const last = out.at(-1);
    if (last !== undefined && x - last.fromPx < MERGE_PX) {
      last.events.push(e);
      last.toPx = x;
    } else {
      out.push({ events: [e], fromPx: x, toPx: x });
    }
  }
  return out;
}

/** A uPlot plugin that draws the events of `store` as markers over the plot area. */
export function notableMarkers(store: NotableStore): uPlot.Plugin {
  let layer: HTMLElement | null = null;
  let stop: (() => void) | undefined;
  // Nodes are kept per cluster, so a redraw moves them (keyboard focus on a marker survives).
  let nodes = new Map<string, HTMLElement>();
  const place = (u: uPlot) => {
    if (layer === null) return;
    const min = u.scales.x?.min;
    const max = u.scales.x?.max;
    const inRange =
      min == null || max == null ? [] : store.all.filter((e) => e.at >= min && e.at <= max);
    const next = new Map<string, HTMLElement>();
    const shown: HTMLElement[] = [];
    for (const c of cluster(inRange, (at) => u.valToPos(at, 'x'))) {
      const key = c.events.map((e) => e.id).join(' ');
      const node = nodes.get(key) ?? markerNode(c.events);
      node.style.left = `${((c.fromPx + c.toPx) / 2).toFixed(1)}px`;
      next.set(key, node);
      shown.push(node);
    }
    nodes = next;
    const current = [...layer.children];
    if (current.length !== shown.length || current.some((n, i) => n !== shown[i])) {
      layer.replaceChildren(...shown);
    }
    layer.dataset.count = String(inRange.length);
  };
  return {
    hooks: {
      ready: (u) => {
        layer = el('div', { class: 'notable-layer', 'data-testid': 'notable-layer' });
        u.over.append(layer);
        stop = store.onChange(() => place(u));
        place(u);
      },
      draw: (u) => place(u),
      destroy: () => {
        stop?.();
        layer = null;
        nodes.clear();
      },
    },
  };
}

/** One marker for `events` (one, or several close together). */
function markerNode(events: readonly NotableEvent[]): HTMLElement {
  const ranked = [...events].sort((a, b) => PRIORITY[a.kind] - PRIORITY[b.kind] || a.at - b.at);
  const top = ranked[0] as NotableEvent;
  const lines = ranked.slice(0, MAX_LISTED).map(markerText);
  if (ranked.length > MAX_LISTED) lines.push(`… and ${ranked.length - MAX_LISTED} more`);
  const text = lines.join('\n');
  return el('span', {
    class: 'notable-marker',
    role: 'img',
    tabindex: 0,
    title: text,
    'aria-label':
      events.length === 1
        ? `Notable event: ${text}`
        : `${events.length} notable events: ${lines.join('; ')}`,
    'data-kind': top.kind,
    'data-state': top.state,
    'data-at': top.at,
    'data-count': events.length,
  });
}
