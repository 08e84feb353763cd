/**
 * The connection types section: one card per type up to {@link CARDS_UP_TO} types, past that the
 * compact table (worst first, filterable), so many types never push the charts off the first
 * screen.
 */
import { TypeCards } from './cards.js';
import { MAX_DRAWN_TYPES } from './type-order.js';
import { TypeTable } from './type-table.js';
import type { TimeSeries, TypeStats } from './types.js';

/**
 * Most types shown as cards; one more and the section switches to the compact table. The same
 * number as the lines the charts draw, so with cards every type has its line.
 */
export const CARDS_UP_TO = MAX_DRAWN_TYPES;

/** Cards or the compact table, whichever fits the number of types. */
export class TypeOverview {
  private readonly cards: TypeCards;
  private readonly table = new TypeTable();
  private readonly types = new Set<string>();
  private compact = false;

  constructor(private readonly cardsRoot: HTMLElement) {
    this.cards = new TypeCards(cardsRoot);
    cardsRoot.after(this.table.root);
  }

  /** True when the compact table is shown. */
  get isCompact(): boolean {
    return this.compact;
  }

  /** Adds types (known before their stats arrive); switches to the table past the limit. */
  ensure(types: Iterable<string>): void {
    for (const t of types) this.types.add(t);
    if (!this.compact && this.types.size > CARDS_UP_TO) {
      this.compact = true;
      this.cardsRoot.hidden = true;
      this.table.root.hidden = false;
    }
    if (!this.compact) this.cards.ensure(this.types);
  }

  /** Renders the stats of the scope shown (types missing from it show as not in scope). */
  updateStats(stats: Record<string, TypeStats>): void {
    this.ensure(Object.keys(stats));
    if (this.compact) this.table.update(stats);
    else this.cards.updateStats(stats);
  }

  /** Renders per-type series (the cards' sparklines; the table has none). */
  updateSeries(series: Map<string, TimeSeries>): void {
    if (!this.compact) this.cards.updateSeries(series);
  }
}
