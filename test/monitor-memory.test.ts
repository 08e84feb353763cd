import { describe, expect, it } from 'vitest';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
import { isMonitorError } from '../src/core/errors.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function memoryMonitor(now: { t: number }, bufferSize = 10_000): ConnectionMonitor {
  return new ConnectionMonitor({
    persistence: false,
    bufferSize,
    logger: silentLogger,
    clock: { now: () => now.t },
  });
}

describe('ConnectionMonitor in memory mode', () => {
  it('starts, records, reports status with persistence disabled, closes idempotently', async () => {
    const now = { t: T0 };
    const m = memoryMonitor(now);
    await m.start();
    m.recordEvent('glm', { kind: 'request' });
    const status = m.getStatus();
    expect(status.state).toBe('running');
    expect(status.types).toEqual(['glm']);
    expect(status.persistence).toMatchObject({ enabled: false, mode: 'memory', queueDepth: 0 });
    await m.flush();
    const a = m.close();
    const b = m.close();
    await Promise.all([a, b]);
    expect(m.getStatus().state).toBe('closed');
    expect(() => m.recordEvent('glm', { kind: 'request' })).toThrow(
      expect.objectContaining({ code: 'CM_ERR_CLOSED' }),
    );
    await expect(m.start()).rejects.toMatchObject({ code: 'CM_ERR_CLOSED' });
  });

  it('discovers types as events arrive and reports stats per type and for all', () => {
    const now = { t: T0 };
    const m = memoryMonitor(now);
    m.recordEvent('kimi', { kind: 'response', durationMs: 10 });
    m.recordEvent('glm', { kind: 'timeout', durationMs: 30 });
    m.recordEvent('glm', { kind: 'response', durationMs: 20, error: 'HTTP 500' });
    expect(m.getTypes()).toEqual(['glm', 'kimi']);
    const all = m.getStats();
    expect(Object.keys(all)).toEqual(['glm', 'kimi']);
    expect(all.glm).toMatchObject({
      events: 2,
      errors: 2,
      errorRate: 1,
      maxDurationMs: 30,
      avgDurationMs: 25,
    });
    expect(m.getStats('supabase')).toBeNull();
    expect(() => m.getStats('BAD')).toThrow();
    expect(m.getRecentEvents('supabase')).toEqual([]);
  });

  it('notifies subscribers and survives a throwing subscriber', () => {
    const now = { t: T0 };
    const m = memoryMonitor(now);
    const seen: string[] = [];
    m.subscribe(() => {
      throw new Error('bad subscriber');
    });
    const off = m.subscribe((e) => seen.push(e.kind));
    m.recordEvent('glm', { kind: 'a' });
    off();
    m.recordEvent('glm', { kind: 'b' });
    expect(seen).toEqual(['a']);
  });

  it('answers history from memory with an exact cursor, even for equal timestamps', async () => {
    const now = { t: T0 };
    const m = memoryMonitor(now);
    const recorded = [];
    for (let i = 0; i < 250; i++) {
      if (i % 10 === 0) now.t += 1; // ten events share each timestamp
      recorded.push(m.recordEvent('redis', { kind: i % 7 === 0 ? 'error' : 'response' }));
    }
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const page = await m.getHistoricalData({ type: 'redis', limit: 30, before });
      expect(page.source).toBe('memory');
      seen.push(...page.events.map((e) => e.id));
      before = page.nextBefore;
      pages++;
      // Writes continue between pages; they are newer and must not appear in older pages.
      m.recordEvent('redis', { kind: 'late' });
    } while (before !== null);
    expect(pages).toBe(9);
    expect(seen).toEqual(recorded.map((e) => e.id).reverse());
    const errors = await m.getHistoricalData({ type: 'redis', errorsOnly: true, limit: 1000 });
    expect(errors.events.every((e) => e.kind === 'error')).toBe(true);
    expect(errors.events).toHaveLength(36);
    const kind = await m.getHistoricalData({ type: 'redis', kind: 'late', limit: 1000 });
    expect(kind.events).toHaveLength(9);
  });

  it('rejects bad history and time-series parameters naming them', async () => {
    const m = memoryMonitor({ t: T0 });
    const cases: [Promise<unknown>, string][] = [
      [m.getHistoricalData({ type: 'Bad' }), 'type'],
      [m.getHistoricalData({ type: 'glm', limit: 0 }), 'limit'],
      [m.getHistoricalData({ type: 'glm', limit: 5000 }), 'limit'],
      [m.getHistoricalData({ type: 'glm', from: T0, to: T0 - 1 }), 'from'],
      [m.getHistoricalData({ type: 'glm', from: 'not a date' }), 'from'],
      [m.getHistoricalData({ type: 'glm', before: 'garbage' }), 'before'],
      [m.getTimeSeriesData({ bucketMs: 120_000 }), 'bucket'],
      [m.getTimeSeriesData({ type: 'x y' }), 'type'],
    ];
    for (const [p, field] of cases) {
      await expect(p).rejects.toSatisfy(
        (err: unknown) =>
          isMonitorError(err, 'CM_ERR_INVALID_QUERY') && (err as { field: string }).field === field,
      );
    }
  });

  it('clips ranges longer than retention and says so', async () => {
    const m = memoryMonitor({ t: T0 });
    const page = await m.getHistoricalData({ type: 'glm', from: 0 });
    expect(page.clipped).toBe(true);
    expect(page.from).toBe(T0 - 86_400_000);
    // Minute resolution: the events' retention.
    const ts = await m.getTimeSeriesData({
      from: new Date(T0 - 3 * 86_400_000).toISOString(),
      bucketMs: '15m',
    });
    expect(ts.clipped).toBe(true);
    expect(ts.from).toBe(T0 - 86_400_000);
    expect(ts.points).toHaveLength(24 * 4 + 1);
    // Hours are kept 30 days, days 365 (memory answers what it has: the last 24 h).
    const hours = await m.getTimeSeriesData({ from: T0 - 40 * 86_400_000, bucketMs: '1h' });
    expect([hours.clipped, hours.from, hours.source]).toEqual([
      true,
      T0 - 30 * 86_400_000,
      'memory',
    ]);
    const days = await m.getTimeSeriesData({ from: T0 - 400 * 86_400_000, bucketMs: '1d' });
    expect([days.clipped, days.from]).toEqual([true, T0 - 365 * 86_400_000]);
    expect(days.points.length).toBeGreaterThanOrEqual(365);
    expect(days.points.length).toBeLessThanOrEqual(366);
  });

  it('computes time series from memory with every bucket present and gaps as zero/null', async () => {
    const now = { t: T0 };
    const m = memoryMonitor(now, 5); // buffer far smaller than the stream: rollups still exact
    for (let i = 0; i < 30; i++) {
      m.recordEvent('glm', {
        kind: i % 3 === 0 ? 'error' : 'response',
        durationMs: 10 + i,
        timestamp: T0 - 10 * 60_000 + (i % 3) * 120_000,
      });
    }
    m.recordEvent('kimi', { kind: 'response', durationMs: 5, timestamp: T0 - 10 * 60_000 });
    const res = await m.getTimeSeriesData({ type: 'glm', from: T0 - 10 * 60_000, to: T0 - 1 });
    expect(res.source).toBe('memory');
    expect(res.points).toHaveLength(10);
    expect(res.points.map((p) => p.events)).toEqual([10, 0, 10, 0, 10, 0, 0, 0, 0, 0]);
    expect(res.points[0]).toMatchObject({ errors: 10, errorRate: 1, kinds: { error: 10 } });
    expect(res.points[1]).toMatchObject({
      events: 0,
      errors: 0,
      errorRate: null,
      avgDurationMs: null,
      p95DurationMs: null,
      maxDurationMs: null,
    });
    const merged = await m.getTimeSeriesData({
      from: T0 - 10 * 60_000,
      to: T0 - 1,
      bucketMs: '5m',
    });
    expect(merged.points.map((p) => p.events)).toEqual([31, 0]);
    for (const p of merged.points) expect(p.t % 300_000).toBe(0);
  });
});

describe('getLatencyHistogram', () => {
  it('returns dense bucket counts with sum and count', async () => {
    const { bucketIndex } = await import('../src/core/histogram.js');
    const m = memoryMonitor({ t: T0 });
    m.recordEvent('glm', { kind: 'response', durationMs: 5 });
    m.recordEvent('glm', { kind: 'response', durationMs: 500 });
    m.recordEvent('glm', { kind: 'connect' });
    const h = m.getLatencyHistogram('glm');
    expect(h?.count).toBe(2);
    expect(h?.sumMs).toBe(505);
    expect(h?.counts[bucketIndex(5)]).toBe(1);
    expect(h?.counts[bucketIndex(500)]).toBe(1);
    expect(h?.counts.reduce((a, b) => a + b, 0)).toBe(2);
    expect(m.getLatencyHistogram('kimi')).toBeNull();
  });
});
