/**
 * Formatting for display. Every function returns a dash for missing or non-finite input, so the
 * page can never show "NaN", "undefined" or "Invalid Date".
 */

/** Shown for a missing value. */
export const DASH = '—';

const pad2 = (n: number): string => String(n).padStart(2, '0');
const pad3 = (n: number): string => String(n).padStart(3, '0');

function toDate(ms: number | null | undefined): Date | null {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Local date and time with milliseconds: `2026-11-26 14:03:07.042`. */
export function formatDateTime(ms: number | null | undefined): string {
  const d = toDate(ms);
  if (d === null) return DASH;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${formatClock(d)}`;
}

/**
 * Local time with milliseconds (or without, `isPrecise` false), with the date only when it is not
 * today: `14:03:07.042`.
 */
export function formatTimeShort(
  ms: number | null | undefined,
  nowMs = Date.now(),
  isPrecise = true,
): string {
  const d = toDate(ms);
  if (d === null) return DASH;
  const now = new Date(nowMs);
  const sameDay =
    d.getFullYear() === now.getFullYear() &&
    d.getMonth() === now.getMonth() &&
    d.getDate() === now.getDate();
  const text = sameDay ? formatClock(d) : formatDateTime(ms);
  return isPrecise ? text : text.slice(0, -4);
}

function formatClock(d: Date): string {
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad3(d.getMilliseconds())}`;
}

/** Value for an `<input type="datetime-local" step="1">` in local time. */
export function toLocalInputValue(ms: number): string {
  const d = toDate(ms);
  if (d === null) return '';
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Parses an `<input type="datetime-local">` value (local time) to epoch ms, or null. */
export function fromLocalInputValue(value: string): number | null {
  if (value === '') return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** Integer with thousands separators: `1,234,567`. */
export function formatCount(n: number | null | undefined): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return DASH;
  return Math.round(n).toLocaleString('en-US');
}

/** Short count: `987`, `12.3k`, `4.56M`. */
export function formatCompact(n: number | null | undefined): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return DASH;
  const a = Math.abs(n);
  if (a < 10) return String(Math.round(n * 100) / 100);
  if (a < 1000) return String(Math.round(n * 10) / 10);
  if (a < 1e6) return `${(n / 1e3).toFixed(a < 1e4 ? 2 : 1)}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(a < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

/** Duration: `0.42 ms`, `12.3 ms`, `1.25 s`. */
export function formatMs(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return DASH;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Duration for an axis tick: no trailing zeros (`0.1 ms`, `10 ms`, `1 s`, `2.5 s`). */
export function formatMsTick(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return DASH;
  const trim = (v: number) => String(Number(v.toPrecision(3)));
  return ms < 1000 ? `${trim(ms)} ms` : `${trim(ms / 1000)} s`;
}

/** Ratio as a percentage: `0.0423` → `4.23 %`. */
export function formatPercent(ratio: number | null | undefined): string {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) return DASH;
  const p = ratio * 100;
  if (p === 0) return '0 %';
  return `${p < 10 ? p.toFixed(2) : p.toFixed(1)} %`;
}

/** Events per second: `12.4/s`. */
export function formatRate(perSecond: number | null | undefined): string {
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond)) return DASH;
  return `${perSecond < 10 ? perSecond.toFixed(2) : perSecond.toFixed(1)}/s`;
}

/** Elapsed time: `42 s`, `3 min`, `2 h 05 min`, `3 d 4 h`. */
export function formatUptime(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return DASH;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${pad2(m % 60)} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** How long ago `ms` was, seen from `nowMs`: `now`, `12 s ago`, `3 min ago`, `2 h ago`, `4 d ago`. */
export function formatAgo(ms: number | null | undefined, nowMs = Date.now()): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return DASH;
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (s < 2) return 'now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** Signed duration for a clock skew: `+3.20 s`, `−12 ms`, `0 ms`. */
export function formatSkew(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return DASH;
  if (ms === 0) return '0 ms';
  return `${ms > 0 ? '+' : '−'}${formatMs(Math.abs(ms))}`;
}

/** Bytes: `512 B`, `12.3 KiB`, `4.56 MiB`, `1.20 GiB`. */
export function formatBytes(n: number | null | undefined): string {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return DASH;
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ${units[i] as string}`;
}
