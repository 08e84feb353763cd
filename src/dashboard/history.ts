import { api, ApiError } from './api.js';
import { byId, el, setText } from './dom.js';
import {
  EXPORT_CAP,
  download,
  exportFileName,
  fetchAll,
  toCsv,
  toJson,
  type ExportFilter,
} from './export.js';
import { eventRows, toggleRow } from './event-rows.js';
import { formatCount, fromLocalInputValue, toLocalInputValue } from './format.js';
import type { ConnectionEvent } from './types.js';

const RANGES_MS: Record<string, number> = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
};

/** A resolved query: the range is pinned when the query starts, so pages do not shift. */
interface Query extends ExportFilter {
  limit: number;
}

/**
 * The historical viewer: filters (type, kind, errors only, time range), paging both ways with a
 * stack of cursors, expandable rows with metadata, CSV/JSON export of the filtered range.
 */
export class HistoryViewer {
  private readonly typeSelect = byId<HTMLSelectElement>('h-type');
  private readonly kindInput = byId<HTMLInputElement>('h-kind');
  private readonly kindList = byId<HTMLDataListElement>('h-kinds');
  private readonly rangeSelect = byId<HTMLSelectElement>('h-range');
  private readonly fromInput = byId<HTMLInputElement>('h-from');
  private readonly toInput = byId<HTMLInputElement>('h-to');
  private readonly customBox = byId('h-custom');
  private readonly errorsOnly = byId<HTMLInputElement>('h-errors');
  private readonly limitSelect = byId<HTMLSelectElement>('h-limit');
  private readonly newerBtn = byId<HTMLButtonElement>('h-newer');
  private readonly olderBtn = byId<HTMLButtonElement>('h-older');
  private readonly refreshBtn = byId<HTMLButtonElement>('h-refresh');
  private readonly csvBtn = byId<HTMLButtonElement>('h-csv');
  private readonly jsonBtn = byId<HTMLButtonElement>('h-json');
  private readonly summary = byId('h-summary');
  private readonly exportStatus = byId('h-export-status');
  private readonly body = byId<HTMLTableSectionElement>('h-body');
  private readonly table = byId<HTMLTableElement>('h-table');

  private query: Query | null = null;
  /** `before` cursor of each page from the newest; the last one is the page shown. */
  private cursors: (string | null)[] = [null];
  private nextBefore: string | null = null;
  private requestSeq = 0;
  private readonly types = new Set<string>();
  private readonly kinds = new Set<string>();
  private isExporting = false;
  /** The instance in scope (its events only), or null for the whole fleet. */
  private instance: string | null = null;

  /** Called when the viewer saw an event's instance id. */
  onInstance: (id: string) => void = () => undefined;

  constructor() {
    const apply = () => void this.reload();
    this.typeSelect.addEventListener('change', apply);
    this.kindInput.addEventListener('change', apply);
    this.errorsOnly.addEventListener('change', apply);
    this.limitSelect.addEventListener('change', apply);
    this.fromInput.addEventListener('change', apply);
    this.toInput.addEventListener('change', apply);
    this.rangeSelect.addEventListener('change', () => {
      const custom = this.rangeSelect.value === 'custom';
      this.customBox.hidden = !custom;
      if (custom && this.fromInput.value === '') {
        const now = Date.now();
        this.fromInput.value = toLocalInputValue(now - 3_600_000);
        this.toInput.value = toLocalInputValue(now);
      }
      apply();
    });
    byId('h-filters').addEventListener('submit', (e) => {
      e.preventDefault();
      apply();
    });
    this.refreshBtn.addEventListener('click', apply);
    this.olderBtn.addEventListener('click', () => {
      if (this.nextBefore === null) return;
      this.cursors.push(this.nextBefore);
      void this.loadPage();
    });
    this.newerBtn.addEventListener('click', () => {
      if (this.cursors.length <= 1) return;
      this.cursors.pop();
      void this.loadPage();
    });
    this.csvBtn.addEventListener('click', () => void this.export('csv'));
    this.jsonBtn.addEventListener('click', () => void this.export('json'));
    this.body.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest('tr.event-row');
      if (row instanceof HTMLTableRowElement) toggleRow(row);
    });
  }

  /** Shows one instance's events (its id) or, with null, every instance's; reload to apply. */
  setInstance(id: string | null): void {
    this.instance = id;
  }

  /** Adds types and kinds to the filter choices (from live stats). */
  setChoices(types: Iterable<string>, kinds: Iterable<string>): void {
    let typesChanged = false;
    for (const t of types) {
      if (this.types.has(t)) continue;
      this.types.add(t);
      typesChanged = true;
    }
    if (typesChanged) {
      const current = this.typeSelect.value;
      this.typeSelect.replaceChildren(
        ...[...this.types].sort().map((t) => el('option', { value: t, text: t })),
      );
      if (current !== '' && this.types.has(current)) this.typeSelect.value = current;
    }
    let kindsChanged = false;
    for (const k of kinds) {
      if (this.kinds.has(k)) continue;
      this.kinds.add(k);
      kindsChanged = true;
    }
    if (kindsChanged) {
      this.kindList.replaceChildren(
        ...[...this.kinds].sort().map((k) => el('option', { value: k })),
      );
    }
  }

  /** Starts over from the newest page with the current filters. */
  async reload(): Promise<void> {
    const type = this.typeSelect.value;
    if (type === '') {
      this.renderEmpty('No connection types yet: waiting for the first event.');
      return;
    }
    const now = Date.now();
    let from: number | null;
    let to: number;
    if (this.rangeSelect.value === 'custom') {
      from = fromLocalInputValue(this.fromInput.value);
      to = fromLocalInputValue(this.toInput.value) ?? now;
    } else {
      const span = RANGES_MS[this.rangeSelect.value];
      from = span === undefined ? null : now - span;
      to = now;
    }
    if (from !== null && from > to) {
      this.query = null;
      this.nextBefore = null;
      this.cursors = [null];
      this.newerBtn.disabled = true;
      this.olderBtn.disabled = true;
      this.renderEmpty('The start of the range is after its end.');
      return;
    }
    const kind = this.kindInput.value.trim();
    this.query = {
      type,
      from,
      to,
      kind: kind === '' ? null : kind,
      errorsOnly: this.errorsOnly.checked,
      instance: this.instance,
      limit: Number(this.limitSelect.value) || 100,
    };
    this.cursors = [null];
    await this.loadPage();
  }

  private async loadPage(): Promise<void> {
    const q = this.query;
    if (q === null) return;
    const seq = ++this.requestSeq;
    const before = this.cursors[this.cursors.length - 1] ?? null;
    this.table.setAttribute('aria-busy', 'true');
    this.newerBtn.disabled = true;
    this.olderBtn.disabled = true;
    try {
      const page = await api.events({ ...q, before });
      if (seq !== this.requestSeq) return;
      this.nextBefore = page.nextBefore;
      this.render(page.events);
      const pageNo = this.cursors.length;
      const first = (pageNo - 1) * q.limit + 1;
      setText(
        this.summary,
        page.events.length === 0
          ? pageNo === 1
            ? 'No events match these filters.'
            : 'No older events.'
          : `Page ${pageNo} · events ${formatCount(first)}–${formatCount(first + page.events.length - 1)}, newest first · from ${page.source}${page.clipped ? ' · range clipped to retention' : ''}`,
      );
    } catch (err) {
      if (seq !== this.requestSeq) return;
      this.nextBefore = null;
      this.renderEmpty(err instanceof ApiError ? err.message : 'Could not load events.');
    } finally {
      if (seq === this.requestSeq) {
        this.table.removeAttribute('aria-busy');
        this.newerBtn.disabled = this.cursors.length <= 1;
        this.olderBtn.disabled = this.nextBefore === null;
        this.body.dataset.page = String(this.cursors.length);
      }
    }
  }

  private renderEmpty(message: string): void {
    this.body.replaceChildren();
    setText(this.summary, message);
  }

  private render(events: ConnectionEvent[]): void {
    for (const e of events) this.onInstance(e.instance);
    this.body.replaceChildren(...eventRows(events, `ev-${this.requestSeq}`));
  }

  private async export(format: 'csv' | 'json'): Promise<void> {
    if (this.query === null || this.isExporting) return;
    this.isExporting = true;
    this.csvBtn.disabled = true;
    this.jsonBtn.disabled = true;
    const filter: ExportFilter = {
      type: this.query.type,
      from: this.query.from,
      to: this.query.to,
      kind: this.query.kind,
      errorsOnly: this.query.errorsOnly,
      instance: this.query.instance,
    };
    try {
      setText(this.exportStatus, 'Exporting…');
      const { events, isCapped } = await fetchAll(filter, (n) =>
        setText(this.exportStatus, `Exporting… ${formatCount(n)} events`),
      );
      const name = exportFileName(filter.type, format, isCapped);
      if (format === 'csv') download(toCsv(events), name, 'text/csv;charset=utf-8');
      else download(toJson(events, filter, isCapped), name, 'application/json');
      setText(
        this.exportStatus,
        `Exported ${formatCount(events.length)} events${isCapped ? ` (capped at ${formatCount(EXPORT_CAP)})` : ''}.`,
      );
    } catch (err) {
      setText(this.exportStatus, `Export failed: ${err instanceof Error ? err.message : 'error'}`);
    } finally {
      this.isExporting = false;
      this.csvBtn.disabled = false;
      this.jsonBtn.disabled = false;
    }
  }
}
