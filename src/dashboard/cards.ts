import { TimeChart } from './chart.js';
import { el, setText } from './dom.js';
import {
  formatCompact,
  formatCount,
  formatMs,
  formatPercent,
  formatRate,
  formatTimeShort,
} from './format.js';
import { perMinuteFactor } from './rates.js';
import { typeColor } from './theme.js';
import type { TimeSeries, TypeStats } from './types.js';

interface Card {
  root: HTMLElement;
  fields: Record<'events' | 'rate' | 'errors' | 'errorRate' | 'avg' | 'p95' | 'last', HTMLElement>;
  spark: TimeChart;
}

function metric(label: string, testId: string, big = false): [HTMLElement, HTMLElement] {
  const value = el('dd', { 'data-testid': testId, class: big ? 'metric-big' : '', text: '—' });
  return [el('div', { class: 'metric' }, el('dt', { text: label }), value), value];
}

/** One card per connection type: totals, error rate, latency, last event and a sparkline. */
export class TypeCards {
  private readonly cards = new Map<string, Card>();

  private readonly placeholder: HTMLElement;

  constructor(private readonly root: HTMLElement) {
    this.placeholder = el('p', {
      class: 'empty-state',
      text: 'No connection events recorded yet. Cards appear as soon as the first event of a type arrives.',
    });
    root.append(this.placeholder);
  }

  private card(type: string): Card {
    let card = this.cards.get(type);
    if (card !== undefined) return card;
    const [events, eventsV] = metric('Events', 'card-events', true);
    const [rate, rateV] = metric('Throughput', 'card-rate');
    const [errors, errorsV] = metric('Errors', 'card-errors');
    const [errorRate, errorRateV] = metric('Error rate', 'card-error-rate');
    const [avg, avgV] = metric('Avg latency', 'card-avg');
    const [p95, p95V] = metric('p95 latency', 'card-p95');
    const [last, lastV] = metric('Last event', 'card-last');
    const sparkBox = el('div', {
      class: 'spark',
      role: 'img',
      'aria-label': `${type} events per minute in the selected range`,
    });
    const root = el(
      'article',
      { class: 'card', 'data-type': type, 'data-testid': `card-${type}`, 'aria-label': type },
      el(
        'header',
        { class: 'card-head' },
        el('span', { class: 'dot', style: `background:${typeColor(type)}` }),
        el('h3', { text: type }),
      ),
      el('dl', { class: 'card-metrics' }, events, rate, errors, errorRate, avg, p95, last),
      sparkBox,
    );
    this.placeholder.remove();
    // Keep cards sorted by type name.
    const after = [...this.cards.keys()].sort().find((t) => t > type);
    const next = after === undefined ? null : (this.cards.get(after)?.root ?? null);
    this.root.insertBefore(root, next);
    const spark = new TimeChart(
      sparkBox,
      [{ label: type, color: typeColor(type), isFilled: true }],
      {
        format: formatCompact,
        heightPx: 44,
        isSparkline: true,
        yMin: 0,
      },
    );
    card = {
      root,
      spark,
      fields: {
        events: eventsV,
        rate: rateV,
        errors: errorsV,
        errorRate: errorRateV,
        avg: avgV,
        p95: p95V,
        last: lastV,
      },
    };
    this.cards.set(type, card);
    return card;
  }

  /** Ensures a card exists for each type (before any stats arrive). */
  ensure(types: Iterable<string>): void {
    for (const t of types) this.card(t);
  }

  /** Renders live stats; a card whose type is missing from `stats` shows dashes (not in scope). */
  updateStats(stats: Record<string, TypeStats>): void {
    const now = Date.now();
    for (const [type, card] of this.cards) {
      if (type in stats) continue;
      for (const field of Object.values(card.fields)) setText(field, '—');
      card.fields.errorRate.dataset.tone = '';
    }
    for (const s of Object.values(stats)) {
      const f = this.card(s.type).fields;
      setText(f.events, formatCount(s.events));
      setText(f.rate, formatRate(s.eventsPerSecond));
      setText(f.errors, formatCount(s.errors));
      setText(f.errorRate, formatPercent(s.errorRate));
      setText(f.avg, formatMs(s.avgDurationMs));
      setText(f.p95, formatMs(s.p95DurationMs));
      setText(f.last, formatTimeShort(s.lastEventAt, now));
      f.errorRate.dataset.tone = s.errorRate >= 0.1 ? 'bad' : s.errorRate >= 0.02 ? 'warn' : '';
    }
  }

  /** Renders the per-type series as sparklines (events per minute). */
  updateSeries(series: Map<string, TimeSeries>): void {
    for (const [type, ts] of series) {
      this.card(type).spark.setData([
        ts.points.map((p) => p.t),
        ts.points.map((p) => {
          const factor = perMinuteFactor(p.t, ts.bucketMs, ts.to);
          return factor === null ? null : p.events * factor;
        }),
      ]);
    }
  }
}
