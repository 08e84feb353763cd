/**
 * The compact view of many connection types: one table row per type instead of a card, worst
 * first (highest error rate, then highest p95 latency), filterable by name. Its height is bounded
 * (it scrolls), so the charts stay on the first screen however many types there are.
 */
import { el, setText } from './dom.js';
import { formatCount, formatMs, formatPercent, formatRate, formatTimeShort } from './format.js';
import { typeColor } from './theme.js';
import { compareWorstFirst } from './type-order.js';
import type { TypeStats } from './types.js';

const COLUMNS = [
  ['events', 'Events'],
  ['rate', 'Throughput'],
  ['errors', 'Errors'],
  ['errorRate', 'Error rate'],
  ['avg', 'Avg'],
  ['p95', 'p95'],
  ['last', 'Last event'],
] as const;
type Column = (typeof COLUMNS)[number][0];

interface Row {
  root: HTMLTableRowElement;
  cells: Record<Column, HTMLElement>;
}

/** The compact table of connection types. */
export class TypeTable {
  readonly root: HTMLElement;
  private readonly filterInput: HTMLInputElement;
  private readonly body: HTMLTableSectionElement;
  private readonly note: HTMLElement;
  private readonly rows = new Map<string, Row>();
  private stats: TypeStats[] = [];

  constructor() {
    this.filterInput = el('input', {
      type: 'search',
      id: 'type-filter',
      placeholder: 'Filter types by name',
      autocomplete: 'off',
      'aria-label': 'Filter connection types by name',
    });
    this.filterInput.addEventListener('input', () => this.render());
    this.note = el('span', { class: 'panel-note', 'aria-live': 'polite' });
    this.body = el('tbody', { 'data-testid': 'type-rows' });
    const head = el(
      'tr',
      {},
      el('th', { scope: 'col', text: 'Type' }),
      ...COLUMNS.map(([, label]) => el('th', { scope: 'col', class: 'col-num', text: label })),
    );
    this.root = el(
      'div',
      { class: 'type-table', 'data-testid': 'type-table', hidden: true },
      el('div', { class: 'type-table-bar' }, this.filterInput, this.note),
      el(
        'div',
        { class: 'type-table-wrap' },
        el(
          'table',
          { class: 'types' },
          el('caption', {
            class: 'visually-hidden',
            text: 'Connection types, worst first (error rate, then p95 latency)',
          }),
          el('thead', {}, head),
          this.body,
        ),
      ),
    );
  }

  /** Renders the stats of every type (those missing get no row). */
  update(stats: Record<string, TypeStats>): void {
    this.stats = Object.values(stats).sort(compareWorstFirst);
    this.render();
  }

  private row(type: string): Row {
    let row = this.rows.get(type);
    if (row !== undefined) return row;
    const cells = {} as Record<Column, HTMLElement>;
    const tds = COLUMNS.map(([key]) => {
      const td = el('td', { class: `col-num col-${key}`, text: '—' });
      cells[key] = td;
      return td;
    });
    const root = el(
      'tr',
      { 'data-type': type, 'data-testid': `type-row-${type}` },
      el(
        'th',
        { scope: 'row', class: 'col-type' },
        el('span', { class: 'dot', style: `background:${typeColor(type)}` }),
        type,
      ),
      ...tds,
    );
    row = { root, cells };
    this.rows.set(type, row);
    return row;
  }

  private render(): void {
    const wanted = this.filterInput.value.trim().toLowerCase();
    const now = Date.now();
    const shown: HTMLTableRowElement[] = [];
    for (const s of this.stats) {
      if (wanted !== '' && !s.type.toLowerCase().includes(wanted)) continue;
      const { root, cells } = this.row(s.type);
      setText(cells.events, formatCount(s.events));
      setText(cells.rate, formatRate(s.eventsPerSecond));
      setText(cells.errors, formatCount(s.errors));
      setText(cells.errorRate, formatPercent(s.errorRate));
      setText(cells.avg, formatMs(s.avgDurationMs));
      setText(cells.p95, formatMs(s.p95DurationMs));
      setText(cells.last, formatTimeShort(s.lastEventAt, now, false));
      cells.errorRate.dataset.tone = s.errorRate >= 0.1 ? 'bad' : s.errorRate >= 0.02 ? 'warn' : '';
      shown.push(root);
    }
    // Reorder only when the order changed (the stats arrive every second).
    const current = [...this.body.children];
    if (current.length !== shown.length || current.some((n, i) => n !== shown[i])) {
      this.body.replaceChildren(...shown);
    }
    setText(
      this.note,
      wanted === ''
        ? `${formatCount(this.stats.length)} types · worst first`
        : `${formatCount(shown.length)} of ${formatCount(this.stats.length)} types match`,
    );
  }
}
