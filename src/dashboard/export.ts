import { api } from './api.js';
import type { ConnectionEvent } from './types.js';

/**
 * Most events one export downloads (100 pages of 1,000). A longer range is cut at the newest
 * 100,000 events and the file name says `partial`.
 */
export const EXPORT_CAP = 100_000;
const PAGE = 1000;

/** The filter of an export; `to` is fixed when the export starts so paging is stable. */
export interface ExportFilter {
  type: string;
  from: number | null;
  to: number;
  kind: string | null;
  errorsOnly: boolean;
  /** One instance's events only (its id); every instance's when null or absent. */
  instance?: string | null;
}

/** Fetches every page of the filter (newest first), up to {@link EXPORT_CAP}. */
export async function fetchAll(
  filter: ExportFilter,
  onProgress: (count: number) => void,
): Promise<{ events: ConnectionEvent[]; isCapped: boolean }> {
  const events: ConnectionEvent[] = [];
  let before: string | null = null;
  for (;;) {
    const page = await api.events({ ...filter, limit: PAGE, before });
    for (const e of page.events) {
      if (events.length >= EXPORT_CAP) return { events, isCapped: true };
      events.push(e);
    }
    onProgress(events.length);
    if (page.nextBefore === null || page.events.length === 0) return { events, isCapped: false };
    before = page.nextBefore;
  }
}

const CSV_COLUMNS = [
  'id',
  'type',
  'kind',
  'timestamp',
  'time',
  'durationMs',
  'error',
  'instance',
  'metadata',
] as const;

function csvCell(value: string): string {
  // A cell starting with = + - @ is a formula in spreadsheets; a leading apostrophe keeps it text.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** RFC 4180 CSV with a header row; `time` is ISO-8601 UTC, `metadata` is JSON. */
export function toCsv(events: readonly ConnectionEvent[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of events) {
    const row = [
      e.id,
      e.type,
      e.kind,
      String(e.timestamp),
      Number.isFinite(e.timestamp) ? new Date(e.timestamp).toISOString() : '',
      e.durationMs === undefined ? '' : String(e.durationMs),
      e.error ?? '',
      e.instance,
      e.metadata === undefined ? '' : JSON.stringify(e.metadata),
    ];
    lines.push(row.map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Pretty JSON: `{ exportedAt, filter, count, capped, events }`. */
export function toJson(
  events: readonly ConnectionEvent[],
  filter: ExportFilter,
  isCapped: boolean,
): string {
  return JSON.stringify(
    {
      exportedAt: new Date().toISOString(),
      filter,
      count: events.length,
      capped: isCapped,
      events,
    },
    null,
    2,
  );
}

/** Saves `text` as a file through a temporary blob link. */
export function download(text: string, fileName: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** `connection-events-redis-20261126-140307.csv` */
export function exportFileName(type: string, ext: string, isCapped: boolean): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  return `connection-events-${type}-${stamp}${isCapped ? '-partial' : ''}.${ext}`;
}
