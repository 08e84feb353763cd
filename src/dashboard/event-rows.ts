import { isErrorEvent } from '../core/event.js';
import { el } from './dom.js';
import { formatDateTime, formatMs } from './format.js';
import { typeColor } from './theme.js';
import type { ConnectionEvent } from './types.js';

/**
 * Table rows for events: a summary row whose time is a disclosure button, followed by a hidden
 * detail row with every field and the metadata as plain text (never parsed as HTML).
 */
export function eventRows(
  events: readonly ConnectionEvent[],
  idPrefix: string,
): HTMLTableRowElement[] {
  const rows: HTMLTableRowElement[] = [];
  for (const [i, e] of events.entries()) {
    const isError = isErrorEvent(e.kind, e.error);
    const detailId = `${idPrefix}-${i}`;
    const time = formatDateTime(e.timestamp);
    const toggle = el('button', {
      type: 'button',
      class: 'row-toggle',
      'aria-expanded': 'false',
      'aria-controls': detailId,
      'aria-label': `Show details of ${e.kind} event at ${time}`,
      text: time,
    });
    const row = el(
      'tr',
      { class: isError ? 'event-row is-error' : 'event-row', 'data-id': e.id },
      el('td', { class: 'col-time' }, toggle),
      el(
        'td',
        { class: 'col-type' },
        el('span', { class: 'dot', style: `background:${typeColor(e.type)}` }),
        e.type,
      ),
      el('td', { class: 'col-kind', text: e.kind }),
      el('td', { class: 'col-num', text: formatMs(e.durationMs) }),
      el('td', { class: 'col-error', text: e.error ?? '' }),
      el('td', { class: 'col-instance', text: e.instance }),
    );
    const detail = el(
      'tr',
      { class: 'event-detail', id: detailId, hidden: true },
      el(
        'td',
        { colspan: 6 },
        el('pre', { class: 'metadata', 'data-testid': 'metadata', text: describeEvent(e) }),
      ),
    );
    rows.push(row, detail);
  }
  return rows;
}

/** Opens or closes the detail row after `row`. */
export function toggleRow(row: HTMLTableRowElement): void {
  const detail = row.nextElementSibling;
  const button = row.querySelector('button.row-toggle');
  if (!(detail instanceof HTMLTableRowElement) || button === null) return;
  const isOpen = detail.hidden;
  detail.hidden = !isOpen;
  button.setAttribute('aria-expanded', String(isOpen));
  row.classList.toggle('is-open', isOpen);
}

/** The expanded view of an event: every field, metadata last, as plain JSON text. */
export function describeEvent(e: ConnectionEvent): string {
  const lines = [
    `id        ${e.id}`,
    `time      ${formatDateTime(e.timestamp)} (epoch ${e.timestamp} ms)`,
    `type      ${e.type}`,
    `kind      ${e.kind}`,
    `duration  ${formatMs(e.durationMs)}`,
    `instance  ${e.instance}`,
  ];
  if (e.error !== undefined) lines.push(`error     ${e.error}`);
  lines.push(
    `metadata  ${e.metadata === undefined ? '(none)' : JSON.stringify(e.metadata, null, 2)}`,
  );
  return lines.join('\n');
}
