import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { closeAfterTest } from '../helpers/after-test.js';
import { redisMonitor } from '../helpers/monitor.js';
import { bucketStart, DAY_MS, HOUR_MS } from '../../src/core/time-series.js';
import { HISTOGRAM_RELATIVE_ERROR } from '../../src/core/histogram.js';
import { KeySpace } from '../../src/persistence/keys.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const DAYS = 30;

/** What was recorded in one bucket. */
interface Truth {
  events: number;
  errors: number;
  kinds: Record<string, number>;
  durations: number[];
}

function nearestRank(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1] as number;
}

function add(map: Map<number, Truth>, t: number, kind: string, isError: boolean, d: number) {
  let g = map.get(t);
  if (g === undefined) {
    g = { events: 0, errors: 0, kinds: {}, durations: [] };
    map.set(t, g);
  }
  g.events++;
  if (isError) g.errors++;
  g.kinds[kind] = (g.kinds[kind] ?? 0) + 1;
  g.durations.push(d);
}

describe('long history', () => {
  it('30 days recorded on an injected clock: every day and every hour of the last 7 days exact with the real clock, p95 within 10 %, no raw event older than 24 h', async () => {
    const prefix = 'cm_long';
    const realNow = Date.now();
    const start = realNow - DAYS * DAY_MS + HOUR_MS;
    let clockNow = start;
    const clock = { now: () => clockNow };
    const m1 = closeAfterTest(
      redisMonitor(redis.url, {
        keyPrefix: prefix,
        clock,
        batchSize: 1_000,
        maxQueueSize: 10_000,
        quietPeriodMs: 6 * HOUR_MS,
      }),
    );
    await m1.start();
    const days = new Map<number, Truth>();
    const hours = new Map<number, Truth>();
    let total = 0;
    let seq = 0;
    const record = (at: number, kind: string, durationMs: number, error?: string) => {
      m1.recordEvent('kimi', { kind, timestamp: at, durationMs, error });
      const isError = kind === 'error' || kind === 'timeout' || error !== undefined;
      add(days, bucketStart(at, DAY_MS), kind, isError, durationMs);
      add(hours, bucketStart(at, HOUR_MS), kind, isError, durationMs);
      total++;
    };
    // Every hour: 20 events 3 minutes apart, a flush half-way (its last minute is still going on:
    // it waits in _pending) and one at the end; once a day a late event for an hour already folded.
    for (let h = 0; clockNow + HOUR_MS < realNow; h++) {
      const hourStart = start + h * HOUR_MS;
      for (let i = 0; i < 20; i++) {
        clockNow = hourStart + i * 3 * 60_000 + 1_000;
        const n = seq++;
        // Errors in bursts: none in days 10-12 (a quiet period), then again.
        const day = Math.floor(h / 24);
        const isQuiet = day >= 10 && day < 13;
        const kind = !isQuiet && n % 17 === 0 ? 'error' : n % 3 === 0 ? 'request' : 'response';
        record(clockNow, kind, 20 + ((n * 37) % 480) + (h % 24) * 5);
        if (i === 9) await m1.flush();
      }
      if (h % 24 === 23) record(clockNow - 2 * HOUR_MS, 'late', 999);
      await m1.flush();
    }
    expect(m1.getStatus().persistence).toMatchObject({ rejected: 0, dropped: 0, problems: [] });
    await m1.close();

    // A new process on the real clock; its first write trims what the retention no longer keeps.
    const m2 = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await m2.start();
    const last = m2.recordEvent('kimi', { kind: 'response', durationMs: 100 });
    add(days, bucketStart(last.timestamp, DAY_MS), 'response', false, 100);
    add(hours, bucketStart(last.timestamp, HOUR_MS), 'response', false, 100);
    total++;
    await m2.flush();
    const daily = await m2.getTimeSeriesData({
      type: 'kimi',
      from: realNow - DAYS * DAY_MS,
      bucketMs: '1d',
    });
    expect([daily.source, daily.resolution]).toEqual(['redis', 'day']);
    expect(daily.points.reduce((n, p) => n + p.events, 0)).toBe(total);
    for (const p of daily.points) {
      const truth = days.get(p.t) ?? { events: 0, errors: 0, kinds: {}, durations: [] };
      expect([p.t, p.events, p.errors]).toEqual([p.t, truth.events, truth.errors]);
      expect(p.kinds).toEqual(truth.kinds);
      if (truth.durations.length === 0) continue;
      const sorted = truth.durations.sort((a, b) => a - b);
      const exact = nearestRank(sorted, 0.95);
      expect(Math.abs((p.p95DurationMs as number) - exact) / exact).toBeLessThanOrEqual(0.1);
      expect(Math.abs((p.p95DurationMs as number) - exact) / exact).toBeLessThanOrEqual(
        HISTOGRAM_RELATIVE_ERROR * 1.0001,
      );
      expect(p.maxDurationMs).toBe(sorted.at(-1));
      expect(p.minDurationMs).toBe(sorted[0]);
    }
    const hourly = await m2.getTimeSeriesData({
      type: 'kimi',
      from: realNow - 7 * DAY_MS,
      bucketMs: '1h',
    });
    expect(hourly.resolution).toBe('hour');
    expect(hourly.points.length).toBeGreaterThanOrEqual(7 * 24);
    for (const p of hourly.points) {
      const truth = hours.get(p.t) ?? { events: 0, errors: 0, kinds: {}, durations: [] };
      expect([p.t, p.events, p.errors, p.kinds]).toEqual([
        p.t,
        truth.events,
        truth.errors,
        truth.kinds,
      ]);
    }
    // The same hours through 6 h buckets and one instance's own series (it keeps no days: 1d
    // buckets are built from its hours).
    const own = await m2.getTimeSeriesData({
      type: 'kimi',
      from: realNow - 7 * DAY_MS,
      bucketMs: '1d',
      instance: m1.options.instanceId,
    });
    expect(own.resolution).toBe('hour');
    for (const p of own.points) expect(p.events).toBe(days.get(p.t)?.events ?? 0);
    const sixHours = await m2.getTimeSeriesData({ type: 'kimi', from: start, bucketMs: '6h' });
    expect(sixHours.clipped).toBe(false);
    expect(sixHours.points.reduce((n, p) => n + p.events, 0)).toBe(total);

    // Raw events: the last 24 h only; minute rollups likewise.
    const k = new KeySpace(prefix, false).forType('kimi');
    expect(await redis.cli('ZRANGEBYSCORE', k.events, '-inf', String(realNow - DAY_MS))).toBe('');
    const page = await m2.getHistoricalData({ type: 'kimi', from: 0, limit: 1_000 });
    expect(page.clipped).toBe(true);
    expect(page.events.every((e) => e.timestamp >= realNow - DAY_MS - 60_000)).toBe(true);
    const fields = (await redis.cli('HKEYS', k.series)).split('\n');
    const minutes = fields.filter((f) => f.startsWith('m:')).map((f) => Number(f.slice(2)));
    expect(Math.min(...minutes)).toBeGreaterThanOrEqual(bucketStart(realNow - DAY_MS, 60_000));
    expect(fields.filter((f) => f.startsWith('h:')).length).toBeLessThanOrEqual(DAYS * 24 + 1);
    expect(fields.filter((f) => f.startsWith('d:')).length).toBeLessThanOrEqual(DAYS + 1);
    // Every aggregate: the fleet's totals hold all 30 days.
    const fleet = await m2.getFleetStats('kimi');
    const all = [...days.values()];
    expect(fleet.stats.kimi?.events).toBe(total);
    expect(fleet.stats.kimi?.errors).toBe(all.reduce((n, d) => n + d.errors, 0));
    // The first error after the quiet days is a notable event, at its own time.
    const notable = await m2.getNotableEvents({ type: 'kimi', from: start });
    const firstErrors = notable.events.filter((e) => e.kind === 'first-error');
    const quietEnd = start + 13 * DAY_MS;
    expect(firstErrors.some((e) => e.at >= quietEnd && e.at < quietEnd + DAY_MS)).toBe(true);
  }, 120_000);
});
