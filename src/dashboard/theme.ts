/** Colours shared by charts and CSS, chosen to read well on both light and dark backgrounds. */

const KNOWN: Record<string, string> = {
  websocket: '#3b82f6',
  redis: '#ef4444',
  supabase: '#10b981',
  kimi: '#a855f7',
  glm: '#f59e0b',
};
const EXTRA = ['#06b6d4', '#ec4899', '#84cc16', '#6366f1', '#f97316', '#14b8a6', '#e11d48'];

/** A stable colour per connection type. */
export function typeColor(type: string): string {
  const known = KNOWN[type];
  if (known !== undefined) return known;
  let h = 0;
  for (let i = 0; i < type.length; i++) h = (h * 31 + type.charCodeAt(i)) >>> 0;
  return EXTRA[h % EXTRA.length] as string;
}

/** Percentile line colours. */
export const PERCENTILE_COLORS = { p50: '#10b981', p95: '#f59e0b', p99: '#ef4444' } as const;

/** Reads a CSS custom property of the root element. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The OS colour-scheme query; charts rebuild when it changes. */
export const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');

/** Adds alpha to a `#rrggbb` colour. */
export function withAlpha(hex: string, alpha: number): string {
  const a = Math.round(Math.max(0, Math.min(1, alpha)) * 255)
    .toString(16)
    .padStart(2, '0');
  return `${hex}${a}`;
}
