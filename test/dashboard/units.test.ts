/** Pure parts of the dashboard: formatting, backoff, the degraded rule, CSV. Runs in Node. */
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/dashboard/backoff.js';
import { toCsv } from '../../src/dashboard/export.js';
import {
  formatCount,
  formatDateTime,
  formatMs,
  formatMsTick,
  formatPercent,
  formatRate,
  formatTimeShort,
  fromLocalInputValue,
  toLocalInputValue,
} from '../../src/dashboard/format.js';
import { perMinuteFactor } from '../../src/dashboard/rates.js';
import { degradedReason } from '../../src/dashboard/status-bar.js';
import { serviceStatus } from '../helpers/status.js';

describe('format', () => {
  it('shows local time with milliseconds and never Invalid Date', () => {
    const t = new Date(2026, 10, 26, 14, 3, 7, 42).getTime();
    expect(formatDateTime(t)).toBe('2026-11-26 14:03:07.042');
    expect(formatTimeShort(t, t + 1000)).toBe('14:03:07.042');
    expect(formatTimeShort(t, t + 1000, false)).toBe('14:03:07');
    expect(formatTimeShort(null, t, false)).toBe('—');
    expect(formatTimeShort(t, t + 3 * 86_400_000)).toBe('2026-11-26 14:03:07.042');
    for (const bad of [NaN, Infinity, null, undefined, 9e15]) {
      expect(formatDateTime(bad as number)).toBe('—');
    }
    expect(fromLocalInputValue(toLocalInputValue(t))).toBe(t - 42);
    expect(fromLocalInputValue('')).toBeNull();
  });

  it('never prints NaN or undefined', () => {
    for (const f of [formatCount, formatMs, formatMsTick, formatPercent, formatRate]) {
      expect(f(NaN)).toBe('—');
      expect(f(null)).toBe('—');
      expect(f(undefined)).toBe('—');
    }
    expect(formatMs(0.42)).toBe('0.42 ms');
    expect(formatMs(1250)).toBe('1.25 s');
    expect(formatMsTick(100)).toBe('100 ms');
    expect(formatMsTick(10_000)).toBe('10 s');
    expect(formatPercent(0.0423)).toBe('4.23 %');
    expect(formatCount(1234567)).toBe('1,234,567');
  });
});

describe('Backoff', () => {
  it('grows exponentially with jitter in [d/2, d] and is capped', () => {
    const lo = new Backoff({ initialMs: 500, maxMs: 15_000, random: () => 0 });
    expect([1, 2, 3, 4, 5, 6, 7].map(() => lo.next())).toEqual([
      250, 500, 1000, 2000, 4000, 7500, 7500,
    ]);
    const hi = new Backoff({ initialMs: 500, maxMs: 15_000, random: () => 0.999999 });
    const delays = [1, 2, 3, 4, 5, 6, 7].map(() => hi.next());
    expect(delays.at(-1)).toBe(15_000);
    hi.reset();
    expect(hi.next()).toBe(500);
  });
});

describe('degradedReason', () => {
  const status = serviceStatus;
  it('is null when healthy or deliberately memory-only', () => {
    expect(degradedReason(status({}))).toBeNull();
    expect(degradedReason(status({ enabled: false, mode: 'memory', recovered: false }))).toBeNull();
  });
  it('names open and half-open circuits, memory fallback and missing recovery', () => {
    expect(degradedReason(status({ circuit: 'open' }))).toMatch(/open/);
    expect(degradedReason(status({ circuit: 'half_open' }))).toMatch(/half-open/);
    expect(degradedReason(status({ mode: 'memory' }))).toMatch(/memory/);
    expect(degradedReason(status({ recovered: false }))).toMatch(/recovered/);
  });
});

describe('toCsv', () => {
  it('quotes, escapes and defuses spreadsheet formulas', () => {
    const csv = toCsv([
      {
        id: 'i1',
        type: 'kimi',
        kind: 'error',
        timestamp: 0,
        error: '=HYPERLINK("x"), "quoted"',
        metadata: { a: 'line\nbreak' },
        instance: 'n',
      },
    ]);
    const [header, row] = csv.split('\r\n');
    expect(header).toBe('id,type,kind,timestamp,time,durationMs,error,instance,metadata');
    expect(row).toContain(`"'=HYPERLINK(""x""), ""quoted"""`);
    expect(row).toContain('1970-01-01T00:00:00.000Z');
    expect(csv).toContain('"{""a"":""line\\nbreak""}"');
  });
});

describe('perMinuteFactor', () => {
  it('scales full buckets by their length and the filling one by its elapsed time', () => {
    expect(perMinuteFactor(0, 300_000, 600_000)).toBe(0.2);
    expect(perMinuteFactor(0, 60_000, 30_000)).toBe(2);
    expect(perMinuteFactor(0, 60_000, 15_000)).toBeNull();
  });
});
