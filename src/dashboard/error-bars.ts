import { el, setText } from './dom.js';
import { formatCount, formatPercent } from './format.js';
import { typeColor } from './theme.js';

/** Scale maxima for the bars, so the scale is a round number users can read. */
const SCALES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

interface Bar {
  root: HTMLElement;
  fill: HTMLElement;
  label: HTMLElement;
}

/** Horizontal error-rate bars per type, for the selected range, on a shared round scale. */
export class ErrorBars {
  private readonly bars = new Map<string, Bar>();
  private readonly list: HTMLElement;
  private readonly scaleNote: HTMLElement;

  constructor(root: HTMLElement) {
    this.list = el('div', { class: 'bars' });
    this.scaleNote = el('p', { class: 'scale-note', text: '' });
    root.append(this.list, this.scaleNote);
  }

  private bar(type: string): Bar {
    let bar = this.bars.get(type);
    if (bar !== undefined) return bar;
    const fill = el('div', { class: 'bar-fill', style: `background:${typeColor(type)}` });
    const label = el('span', { class: 'bar-value', 'data-testid': 'error-rate', text: '—' });
    const root = el(
      'div',
      { class: 'bar-row', 'data-type': type },
      el('span', { class: 'bar-name', text: type }),
      el('div', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
      label,
    );
    const after = [...this.bars.keys()].sort().find((t) => t > type);
    this.list.insertBefore(root, after === undefined ? null : (this.bars.get(after)?.root ?? null));
    bar = { root, fill, label };
    this.bars.set(type, bar);
    return bar;
  }

  /** Renders `{ type: { errors, events } }` totals of the range; bars of other types are removed. */
  update(totals: Map<string, { errors: number; events: number }>): void {
    for (const [type, bar] of this.bars) {
      if (totals.has(type)) continue;
      bar.root.remove();
      this.bars.delete(type);
    }
    const rates = new Map<string, number | null>();
    let max = 0;
    for (const [type, t] of totals) {
      const rate = t.events > 0 ? t.errors / t.events : null;
      rates.set(type, rate);
      if (rate !== null && rate > max) max = rate;
    }
    const scale = SCALES.find((s) => s >= max) ?? 1;
    for (const [type, rate] of rates) {
      const bar = this.bar(type);
      const t = totals.get(type);
      bar.fill.style.width = `${rate === null ? 0 : (rate / scale) * 100}%`;
      setText(
        bar.label,
        rate === null ? 'no events' : `${formatPercent(rate)} (${formatCount(t?.errors)})`,
      );
      bar.root.setAttribute(
        'aria-label',
        `${type}: ${rate === null ? 'no events' : `${formatPercent(rate)} errors`}`,
      );
    }
    setText(this.scaleNote, `Scale 0 – ${formatPercent(scale)}`);
  }
}
