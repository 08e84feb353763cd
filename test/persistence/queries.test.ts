import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { closeAfterTest } from '../helpers/after-test.js';
import { redisMonitor } from '../helpers/monitor.js';
import { BUCKET_SIZES_MS, bucketStart } from '../../src/core/time-series.js';
import { HISTOGRAM_RELATIVE_ERROR } from '../../src/core/histogram.js';
import { isErrorEvent } from '../../src/core/event.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const HOUR = 3_600_000;
const TYPES = ['websocket', 'redis', 'supabase', 'kimi', 'glm'];
const KINDS = ['connect', 'request', 'response', 'error', 'timeout', 'disconnect'];

interface Raw {
  type: string;
  kind: string;
  timestamp: number;
  durationMs: number | undefined;
  error: string | undefined;
}

function nearestRank(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1] as number;
}

describe('time series from rollups (property test against raw events)', () => {
  it('every bucket equals the raw counts at 1m/5m/15m/1h; percentiles within the documented bound', async () => {
    const now = Date.now();
    const from = now - 24 * HOUR;
    const eventArb = fc.record({
      type: fc.constantFrom(...TYPES),
      kind: fc.constantFrom(...KINDS),
      timestamp: fc.integer({ min: from, max: now }),
      durationMs: fc.option(fc.double({ min: 0, max: 30_000, noNaN: true }), { nil: undefined }),
      error: fc.option(fc.constant('boom'), { nil: undefined, freq: 8 }),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 1_500 }),
        async (raw: Raw[]) => {
          const m = redisMonitor(redis.url, {
            keyPrefix: `cm_prop_${run++}`,
            retentionMs: 25 * HOUR,
            batchSize: 250,
            maxQueueSize: 5_000,
          });
          try {
            await m.start();
            for (const e of raw) m.recordEvent(e.type, e);
            await m.flush();
            for (const bucketMs of BUCKET_SIZES_MS) {
              for (const type of [undefined, 'glm']) {
                const res = await m.getTimeSeriesData({ type, from, to: now, bucketMs });
                expect(res.source).toBe('redis');
                const first = bucketStart(from, bucketMs);
                expect(res.points).toHaveLength(
                  Math.floor((bucketStart(now, bucketMs) - first) / bucketMs) + 1,
                );
                const groups = new Map<number, Raw[]>();
                for (const e of raw) {
                  if (type !== undefined && e.type !== type) continue;
                  const t = bucketStart(e.timestamp, bucketMs);
                  groups.set(t, [...(groups.get(t) ?? []), e]);
                }
                for (const [i, p] of res.points.entries()) {
                  expect(p.t).toBe(first + i * bucketMs);
                  const g = groups.get(p.t) ?? [];
                  expect(p.events).toBe(g.length);
                  expect(p.errors).toBe(g.filter((e) => isErrorEvent(e.kind, e.error)).length);
                  const kinds: Record<string, number> = {};
                  for (const e of g) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
                  expect(p.kinds).toEqual(kinds);
                  const durations = g
                    .map((e) => e.durationMs)
                    .filter((d): d is number => d !== undefined)
                    .sort((a, b) => a - b);
                  if (durations.length === 0) {
                    expect(p.p50DurationMs).toBeNull();
                    expect(p.avgDurationMs).toBeNull();
                    continue;
                  }
                  const ps: [number, number | null][] = [
                    [0.5, p.p50DurationMs],
                    [0.95, p.p95DurationMs],
                    [0.99, p.p99DurationMs],
                  ];
                  for (const [q, est] of ps) {
                    const truth = nearestRank(durations, q);
                    expect(Math.abs((est as number) - truth)).toBeLessThanOrEqual(
                      Math.max(truth * HISTOGRAM_RELATIVE_ERROR * 1.0001, 0.01),
                    );
                  }
                  expect(p.maxDurationMs).toBeCloseTo(durations.at(-1) as number, 6);
                }
              }
            }
          } finally {
            await m.close();
          }
        },
      ),
      { numRuns: 10 },
    );
  });
});

describe('history paging', () => {
  /** A started monitor with room for bulk writes; closed when the test finishes. */
  async function bulkMonitor() {
    const m = closeAfterTest(redisMonitor(redis.url, { batchSize: 1_000, maxQueueSize: 30_000 }));
    await m.start();
    return m;
  }

  it('pages 25,000 events (equal timestamps included) with limit 100 while writes continue: each once, in order', async () => {
    const m = await bulkMonitor();
    const base = Date.now() - HOUR;
    const ids: string[] = [];
    for (let i = 0; i < 25_000; i++) {
      // Runs of 7 events share a timestamp.
      ids.push(m.recordEvent('glm', { kind: 'response', timestamp: base + Math.floor(i / 7) }).id);
    }
    await m.flush();
    const expected = [...ids].reverse();
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    let extra = 0;
    do {
      const page = await m.getHistoricalData({ type: 'glm', limit: 100, before });
      expect(page.source).toBe('redis');
      for (const e of page.events) seen.push(e.id);
      before = page.nextBefore;
      pages++;
      // Writes continue: newer events and events sharing the timestamp of the current cursor.
      const cursorTs = page.events.at(-1)?.timestamp ?? base;
      m.recordEvent('glm', { kind: 'late', timestamp: cursorTs });
      m.recordEvent('glm', { kind: 'late' });
      extra += 2;
      if (pages % 20 === 0) await m.flush();
    } while (before !== null);
    const existing = new Set(ids);
    expect(seen.filter((id) => existing.has(id))).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBeGreaterThanOrEqual(250);
    expect(extra).toBeGreaterThan(0);
  });

  it('filters by kind and errors only, with exact cursors across scan-capped pages', async () => {
    const m = await bulkMonitor();
    const base = Date.now() - HOUR;
    const errors: string[] = [];
    for (let i = 0; i < 5_000; i++) {
      const isErr = i % 97 === 0;
      const e = m.recordEvent('kimi', {
        kind: isErr ? 'timeout' : 'response',
        timestamp: base + Math.floor(i / 3),
        metadata: { kind: 'error' }, // a metadata key named like a field must not confuse filters
      });
      if (isErr) errors.push(e.id);
    }
    await m.flush();
    const seen: string[] = [];
    let before: string | null = null;
    do {
      const page = await m.getHistoricalData({
        type: 'kimi',
        errorsOnly: true,
        limit: 7,
        before,
      });
      seen.push(...page.events.map((e) => e.id));
      before = page.nextBefore;
    } while (before !== null);
    expect(seen).toEqual([...errors].reverse());
    const byKind = await m.getHistoricalData({ type: 'kimi', kind: 'timeout', limit: 1000 });
    expect(byKind.events.map((e) => e.id)).toEqual([...errors].reverse());
    expect(byKind.nextBefore).toBeNull();
    const ranged = await m.getHistoricalData({
      type: 'kimi',
      from: base,
      to: base + 99,
      limit: 1000,
    });
    expect(ranged.events).toHaveLength(300);
  });

  it('answers from memory with the same shapes when Redis is unavailable', async () => {
    const r = await startRedis();
    onTestFinished(() => r.stop());
    const m = closeAfterTest(redisMonitor(r.url, { breakerFailures: 1 }));
    await m.start();
    for (let i = 0; i < 30; i++) m.recordEvent('glm', { kind: 'response', durationMs: i });
    await m.flush();
    const fromRedis = await m.getHistoricalData({ type: 'glm', limit: 10 });
    const tsRedis = await m.getTimeSeriesData({ type: 'glm' });
    await r.kill();
    m.recordEvent('glm', { kind: 'response' });
    await expect(m.flush()).rejects.toThrow();
    const fromMemory = await m.getHistoricalData({ type: 'glm', limit: 10 });
    const tsMemory = await m.getTimeSeriesData({ type: 'glm' });
    expect(fromRedis.source).toBe('redis');
    expect(fromMemory.source).toBe('memory');
    expect(Object.keys(fromMemory).sort()).toEqual(Object.keys(fromRedis).sort());
    expect(fromMemory.events.slice(1)).toEqual(fromRedis.events.slice(0, 9));
    expect(tsMemory.source).toBe('memory');
    expect(tsMemory.points.reduce((n, p) => n + p.events, 0)).toBe(31);
    expect(tsRedis.points.reduce((n, p) => n + p.events, 0)).toBe(30);
  });

  it('after a restart, memory answers time series with the recovered rollups while Redis is down', async () => {
    const r = await startRedis();
    onTestFinished(() => r.stop());
    const prefix = 'cm_restart_series';
    const a = closeAfterTest(redisMonitor(r.url, { keyPrefix: prefix }));
    const b = closeAfterTest(redisMonitor(r.url, { keyPrefix: prefix, breakerFailures: 1 }));
    await a.start();
    for (let i = 0; i < 30; i++) a.recordEvent('kimi', { kind: 'response', durationMs: 5 + i });
    await a.close();
    await b.start();
    b.recordEvent('kimi', { kind: 'error', error: 'x' });
    await r.kill();
    const ts = await b.getTimeSeriesData({ type: 'kimi' });
    expect(ts.source).toBe('memory');
    expect(ts.points.reduce((n, p) => n + p.events, 0)).toBe(31);
    expect(ts.points.reduce((n, p) => n + p.errors, 0)).toBe(1);
    expect(b.getStats('kimi')?.events).toBe(1); // its own, since it started
  });
});
