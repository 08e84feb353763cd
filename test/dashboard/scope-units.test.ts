/**
 * Pure parts of the fleet, scale and long-history dashboard: the worst-first order, which types the
 * charts draw, one instance's numbers from its heartbeat, scopes, the ranges against the service's
 * buckets, rate units and the new formats. Runs in Node.
 */
import { describe, expect, it } from 'vitest';
import { BUCKET_NAMES } from '../../src/core/time-series.js';
import type { InstanceInfo } from '../../src/core/fleet.js';
import type { TypeStats } from '../../src/core/live-stats.js';
import { formatAgo, formatBytes, formatSkew } from '../../src/dashboard/format.js';
import { RANGES, rangeSpec } from '../../src/dashboard/ranges.js';
import { rateFactor } from '../../src/dashboard/rates.js';
import { instanceParam, sameScope } from '../../src/dashboard/scope.js';
import { liveScopeOf, statsFromHeartbeat } from '../../src/dashboard/scope-stats.js';
import { compareWorstFirst, drawnTypes, MAX_DRAWN_TYPES } from '../../src/dashboard/type-order.js';

function stats(type: string, errorRate: number, p95: number | null): TypeStats {
  return {
    type,
    events: 100,
    errors: Math.round(errorRate * 100),
    errorRate,
    kinds: {},
    avgDurationMs: p95,
    p50DurationMs: p95,
    p95DurationMs: p95,
    p99DurationMs: p95,
    maxDurationMs: p95,
    firstEventAt: 1,
    lastEventAt: 2,
    eventsPerSecond: 1,
  };
}

describe('worst first', () => {
  it('orders by error rate, then p95 (unknown last), then name', () => {
    const list = [
      stats('a', 0.01, 500),
      stats('b', 0.2, 10),
      stats('c', 0.2, 30),
      stats('d', 0.01, null),
      stats('e', 0.01, 500),
    ];
    expect(list.sort(compareWorstFirst).map((s) => s.type)).toEqual(['c', 'b', 'a', 'e', 'd']);
  });

  it('draws every type up to the limit, past it the worst (then those without stats)', () => {
    const few = new Set(['x', 'a', 'm']);
    expect(drawnTypes(few, {})).toEqual(['a', 'm', 'x']);
    const names = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const map = Object.fromEntries(
      names.slice(0, 10).map((t, i) => [t, stats(t, i / 100, 10)] as const),
    );
    const drawn = drawnTypes(new Set(names), map);
    expect(drawn).toHaveLength(MAX_DRAWN_TYPES);
    // t09…t02 have the highest error rates; t10 and t11 (no stats) do not make it.
    expect(drawn).toEqual(['t02', 't03', 't04', 't05', 't06', 't07', 't08', 't09']);
  });
});

describe('scopes', () => {
  const info: InstanceInfo = {
    id: 'p2',
    host: 'h',
    pid: 1,
    version: '0.1.0',
    startedAt: 0,
    queueDepth: 0,
    dropped: 0,
    circuit: 'closed',
    types: { api: { events: 50, errors: 5, eventsPerSecond: 2.5 } },
    state: 'alive',
    lastSeenAt: 10,
    clockSkewMs: 0,
    redisRttMs: 1,
  };

  it("builds one instance's stats from its heartbeat: counts and rate, no latencies", () => {
    expect(statsFromHeartbeat(info)).toEqual({
      api: expect.objectContaining({
        type: 'api',
        events: 50,
        errors: 5,
        errorRate: 0.1,
        eventsPerSecond: 2.5,
        p95DurationMs: null,
        lastEventAt: null,
      }),
    });
    expect(statsFromHeartbeat(undefined)).toEqual({});
  });

  it('reads the fleet without an instance, one instance with its id', () => {
    expect(instanceParam({ kind: 'fleet' })).toBeUndefined();
    expect(instanceParam({ kind: 'instance', id: 'p2' })).toBe('p2');
    expect(sameScope({ kind: 'fleet' }, { kind: 'fleet' })).toBe(true);
    expect(sameScope({ kind: 'instance', id: 'a' }, { kind: 'instance', id: 'b' })).toBe(false);
    expect(sameScope({ kind: 'instance', id: 'a' }, { kind: 'fleet' })).toBe(false);
  });

  it("streams this service's own scope, the fleet's for the fleet and any other instance", () => {
    expect(liveScopeOf({ kind: 'instance', id: 'svc' }, 'svc')).toBe('instance');
    expect(liveScopeOf({ kind: 'instance', id: 'p2' }, 'svc')).toBe('fleet');
    expect(liveScopeOf({ kind: 'fleet' }, 'svc')).toBe('fleet');
  });
});

describe('ranges', () => {
  it('use buckets the service accepts, within its 2,000 points', () => {
    for (const [key, r] of Object.entries(RANGES)) {
      const bucketMs = BUCKET_NAMES[r.bucket];
      expect(bucketMs, key).toBeDefined();
      expect(r.spanMs / (bucketMs as number) + 1, key).toBeLessThanOrEqual(2_000);
    }
    expect([rangeSpec('7d').bucket, rangeSpec('30d').bucket, rangeSpec('90d').bucket]).toEqual([
      '1h',
      '6h',
      '1d',
    ]);
    expect(rangeSpec('nope')).toBe(RANGES['1h']);
  });

  it('turn counts into rates per unit, extrapolating the bucket still filling', () => {
    // 6 events in a whole hour bucket: 6 per hour, 0.1 per minute.
    expect(rateFactor(0, 3_600_000, 7_200_000, 3_600_000)).toBe(1);
    expect(rateFactor(0, 3_600_000, 7_200_000, 60_000)).toBeCloseTo(1 / 60);
    // A 6-hour bucket 3 hours in: its count is spread over the 3 hours elapsed, not 6.
    expect(rateFactor(0, 21_600_000, 10_800_000, 3_600_000)).toBeCloseTo(1 / 3);
    expect(rateFactor(0, 21_600_000, 10_000, 3_600_000)).toBeNull();
  });
});

describe('fleet formats', () => {
  it('says how long ago, a signed skew and bytes', () => {
    expect(formatAgo(1_000, 1_500)).toBe('now');
    expect(formatAgo(0, 42_000)).toBe('42 s ago');
    expect(formatAgo(0, 3 * 60_000)).toBe('3 min ago');
    expect(formatAgo(0, 5 * 3_600_000)).toBe('5 h ago');
    expect(formatAgo(0, 3 * 86_400_000)).toBe('3 d ago');
    expect(formatAgo(Number.NaN)).toBe('—');
    expect(formatSkew(3_200)).toBe('+3.20 s');
    expect(formatSkew(-12)).toBe('−12.0 ms');
    expect(formatSkew(0)).toBe('0 ms');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(12_595)).toBe('12.3 KiB');
    expect(formatBytes(4.56 * 1024 * 1024)).toBe('4.56 MiB');
    expect(formatBytes(-1)).toBe('—');
  });
});
