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

/** The text of a marker: when and what. */
export function markerText(e: NotableEvent): string {
  return `${formatDateTime(e.at).slice(0, 19)} · ${e.message}`;
}

/** A uPlot plugin that draws the events of `store` as markers over the plot area. */
export function notableMarkers(store: NotableStore): uPlot.Plugin {
  let layer: HTMLElement | null = null;
  let stop: (() => void) | undefined;
  // Nodes are kept per event id, so a redraw moves them (keyboard focus on a marker survives).
  const nodes = new Map<string, HTMLElement>();
  const place = (u: uPlot) => {
    if (layer === null) return;
    const min = u.scales.x?.min;
    const max = u.scales.x?.max;
    const shown: HTMLElement[] = [];
    const seen = new Set<string>();
    if (min != null && max != null) {
      for (const e of store.all) {
        if (e.at < min || e.at > max) continue;
        const node = nodes.get(e.id) ?? markerNode(e);
        nodes.set(e.id, node);
        seen.add(e.id);
        node.style.left = `${u.valToPos(e.at, 'x').toFixed(1)}px`;
        shown.push(node);
      }
    }
    for (const id of [...nodes.keys()]) if (!seen.has(id)) nodes.delete(id);
    const current = [...layer.children];
    if (current.length !== shown.length || current.some((n, i) => n !== shown[i])) {
      layer.replaceChildren(...shown);
    }
    layer.dataset.count = String(shown.length);
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

function markerNode(e: NotableEvent): HTMLElement {
  const text = markerText(e);
  return el('span', {
    class: 'notable-marker',
    role: 'img',
    tabindex: 0,
    title: text,
    'aria-label': `Notable event: ${text}`,
    'data-kind': e.kind,
    'data-state': e.state,
    'data-at': e.at,
  });
}
