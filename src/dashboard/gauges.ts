import { el, setText } from './dom.js';
import { formatRate } from './format.js';
import { typeColor } from './theme.js';

const SVG = 'http://www.w3.org/2000/svg';
const R = 40;
const ARC_LEN = Math.PI * R;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string>,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

interface Gauge {
  arc: SVGPathElement;
  value: HTMLElement;
  peak: HTMLElement;
  root: HTMLElement;
  peakPerS: number;
}

/**
 * Half-circle throughput gauges: current events/s of each type (the service's 60-s rate) against
 * the highest rate seen — in the loaded history (per-bucket average) or live this session.
 */
export class ThroughputGauges {
  private readonly gauges = new Map<string, Gauge>();

  constructor(private readonly root: HTMLElement) {}

  private gauge(type: string): Gauge {
    let g = this.gauges.get(type);
    if (g !== undefined) return g;
    const d = `M ${50 - R} 50 A ${R} ${R} 0 0 1 ${50 + R} 50`;
    const arc = svg('path', {
      d,
      class: 'gauge-value',
      stroke: typeColor(type),
      'stroke-dasharray': `0 ${ARC_LEN}`,
    });
    const figure = svg('svg', { viewBox: '0 0 100 56', class: 'gauge-svg', 'aria-hidden': 'true' });
    figure.append(svg('path', { d, class: 'gauge-track' }), arc);
    const value = el('div', { class: 'gauge-number', 'data-testid': 'gauge-value', text: '—' });
    const peak = el('div', { class: 'gauge-peak', text: 'peak —' });
    const root = el(
      'figure',
      { class: 'gauge', 'data-type': type, role: 'meter', 'aria-label': `${type} throughput` },
      el('div', { class: 'gauge-dial' }, figure, value),
      el('figcaption', {}, el('strong', { text: type }), peak),
    );
    root.setAttribute('aria-valuemin', '0');
    const after = [...this.gauges.keys()].sort().find((t) => t > type);
    this.root.insertBefore(
      root,
      after === undefined ? null : (this.gauges.get(after)?.root ?? null),
    );
    g = { arc, value, peak, root, peakPerS: 0 };
    this.gauges.set(type, g);
    return g;
  }

  /** Raises the peak of `type` to `perSecond` if higher (from history). */
  notePeak(type: string, perSecond: number): void {
    const g = this.gauge(type);
    if (Number.isFinite(perSecond) && perSecond > g.peakPerS) g.peakPerS = perSecond;
  }

  /** Removes every gauge (the scope changed: peaks seen in another scope do not apply). */
  clear(): void {
    for (const g of this.gauges.values()) g.root.remove();
    this.gauges.clear();
  }

  /** Renders the current rate of each type of `rates`; gauges of other types are removed. */
  update(rates: Record<string, number>): void {
    for (const [type, g] of this.gauges) {
      if (type in rates) continue;
      g.root.remove();
      this.gauges.delete(type);
    }
    for (const [type, rate] of Object.entries(rates)) {
      const g = this.gauge(type);
      const current = Number.isFinite(rate) ? rate : 0;
      if (current > g.peakPerS) g.peakPerS = current;
      const fraction = g.peakPerS > 0 ? Math.min(1, current / g.peakPerS) : 0;
      g.arc.setAttribute('stroke-dasharray', `${(fraction * ARC_LEN).toFixed(2)} ${ARC_LEN}`);
      setText(g.value, formatRate(current));
      setText(g.peak, `peak ${formatRate(g.peakPerS)}`);
      g.root.setAttribute('aria-valuenow', current.toFixed(2));
      g.root.setAttribute('aria-valuemax', Math.max(g.peakPerS, 0.01).toFixed(2));
      g.root.setAttribute(
        'aria-valuetext',
        `${formatRate(current)}, peak ${formatRate(g.peakPerS)}`,
      );
    }
  }
}
