/**
 * Nothing grows without bound (issue "Failure isolation", items 3–5): timestamps outside the
 * accepted window, kinds past `maxKindsPerType` and events past `maxMemoryBytes`. A memory-only
 * monitor with an injected clock: no sleeps.
 */
import { describe, expect, it } from 'vitest';
import { isMonitorError, type MonitorError } from '../../src/core/errors.js';
import {
  MAX_ERROR_LENGTH,
  MAX_METADATA_TOTAL_LENGTH,
  MAX_METADATA_VALUE_LENGTH,
} from '../../src/core/event.js';
import { silentLogger } from '../../src/logger.js';
import { ConnectionMonitor } from '../../src/monitor.js';
import type { MonitorOptions } from '../../src/options.js';
import { heapMb } from '../helpers/heap.js';

const HOUR = 3_600_000;

function monitor(overrides: MonitorOptions = {}) {
  const clock = { t: Date.UTC(2026, 10, 26, 12), now: () => clock.t };
  const m = new ConnectionMonitor({
    persistence: false,
    logger: silentLogger,
    clock,
    ...overrides,
  });
  return { m, clock };
}

function rejection(fn: () => unknown): MonitorError {
  try {
    fn();
  } catch (err) {
    expect(isMonitorError(err, 'CM_ERR_INVALID_EVENT')).toBe(true);
    return err as MonitorError;
  }
  throw new Error('expected CM_ERR_INVALID_EVENT');
}

describe('accepted time window', () => {
  it('refuses timestamps older than the retention or further ahead than the clock skew', () => {
    const { m, clock } = monitor({ retentionMs: 24 * HOUR, maxClockSkewMs: 5 * 60_000 });
    for (const t of [
      clock.t - 24 * HOUR - 1,
      clock.t - 48 * HOUR,
      0,
      8.64e15,
      clock.t + 5 * 60_000 + 1,
    ]) {
      const err = rejection(() => m.recordEvent('glm', { kind: 'response', timestamp: t }));
      expect(err.field).toBe('timestamp');
      expect(err.message).toMatch(/window 2026-11-25T12:00:00\.000Z … 2026-11-26T12:05:00\.000Z/);
    }
    // The edges are in.
    m.recordEvent('glm', { kind: 'response', timestamp: clock.t - 24 * HOUR });
    m.recordEvent('glm', { kind: 'response', timestamp: clock.t + 5 * 60_000 });
    expect(m.getStats('glm')?.events).toBe(2);
  });

  it('old timestamps cannot grow memory: 100,000 of them (distinct minutes) leave no trace', () => {
    const { m, clock } = monitor();
    m.recordEvent('glm', { kind: 'response' });
    let rejected = 0;
    for (let i = 0; i < 100_000; i++) {
      try {
        m.recordEvent('glm', { kind: 'response', timestamp: clock.t - 3 * 24 * HOUR - i * 60_000 });
      } catch {
        rejected++;
      }
    }
    expect(rejected).toBe(100_000);
    expect(m.getStats('glm')?.events).toBe(1);
    expect(m.getStatus().memory.events).toBe(1);
  });

  it('a far-future timestamp neither wipes the time series nor moves lastEventAt', async () => {
    const { m, clock } = monitor();
    for (let i = 0; i < 50; i++)
      m.recordEvent('glm', { kind: 'response', timestamp: clock.t - i * 1000 });
    rejection(() => m.recordEvent('glm', { kind: 'response', timestamp: 8.64e15 }));
    const series = await m.getTimeSeriesData({ type: 'glm' });
    expect(series.points.reduce((n, p) => n + p.events, 0)).toBe(50);
    expect(m.getStats('glm')?.lastEventAt).toBe(clock.t);
  });

  it('memory is trimmed by the clock: a quiet type loses what is older than the retention', async () => {
    const { m, clock } = monitor({ retentionMs: HOUR });
    for (let i = 0; i < 30; i++) m.recordEvent('glm', { kind: 'response' });
    clock.t += HOUR + 2 * 60_000;
    m.recordEvent('kimi', { kind: 'response' }); // any event runs the sweep, at most once a minute
    expect(m.getRecentEvents('glm', 100)).toHaveLength(0);
    const series = await m.getTimeSeriesData({ type: 'glm', from: clock.t - HOUR });
    expect(series.points.every((p) => p.events === 0)).toBe(true);
    expect(m.getStats('glm')?.events).toBe(30); // stats are totals: never trimmed
    expect(m.getStatus().memory).toMatchObject({ events: 1, evicted: 30 });
  });
});

describe('kinds per type', () => {
  it('keeps at most maxKindsPerType distinct kinds per type, naming kind and the limit', () => {
    const { m } = monitor();
    for (let i = 0; i < 64; i++) m.recordEvent('glm', { kind: `k${i}` });
    const err = rejection(() => m.recordEvent('glm', { kind: 'k64' }));
    expect(err.field).toBe('kind');
    expect(err.message).toMatch(/at most 64/);
    m.recordEvent('glm', { kind: 'k3' }); // a known kind is still fine
    m.recordEvent('kimi', { kind: 'k64' }); // the bound is per type
    expect(Object.keys(m.getStats('glm')?.kinds ?? {})).toHaveLength(64);
    expect(m.getStats('glm')?.events).toBe(65);
  });

  it('counts a kind named constructor (inherited by every plain object) like any other', () => {
    const { m } = monitor({ maxKindsPerType: 2 });
    for (let i = 0; i < 3; i++) m.recordEvent('glm', { kind: 'constructor' });
    m.recordEvent('glm', { kind: 'response' });
    expect(rejection(() => m.recordEvent('glm', { kind: 'request' })).field).toBe('kind');
    expect(m.getStats('glm')?.kinds).toEqual({ constructor: 3, response: 1 });
  });

  it('60,000 attempted kinds leave stats small', () => {
    const { m } = monitor({ maxKindsPerType: 10 });
    let rejected = 0;
    for (let i = 0; i < 60_000; i++) {
      try {
        m.recordEvent('glm', { kind: `kind-${i}` });
      } catch {
        rejected++;
      }
    }
    expect(rejected).toBe(60_000 - 10);
    expect(JSON.stringify(m.getStats()).length).toBeLessThan(2_000);
  });
});

describe('memory bound', () => {
  const bigMetadata = (i: number) => {
    const metadata: Record<string, string> = {};
    const keys = Math.floor(MAX_METADATA_TOTAL_LENGTH / (MAX_METADATA_VALUE_LENGTH + 8));
    for (let k = 0; k < keys; k++)
      metadata[`k${k}`] = `${i}`.padEnd(MAX_METADATA_VALUE_LENGTH, 'x');
    return metadata;
  };

  it('maximum-size events stay within maxMemoryBytes, oldest evicted across types, stats exact', () => {
    const maxMemoryBytes = 4 * 1_048_576;
    const { m, clock } = monitor({ maxMemoryBytes });
    const error = 'e'.repeat(MAX_ERROR_LENGTH);
    for (let i = 0; i < 1_000; i++) {
      clock.t += 10;
      m.recordEvent('glm', { kind: 'error', error, metadata: bigMetadata(i) });
    }
    for (let i = 0; i < 1_000; i++) {
      clock.t += 10;
      m.recordEvent('kimi', { kind: 'error', error, metadata: bigMetadata(i) });
    }
    const mem = m.getStatus().memory;
    expect(mem.usedBytes).toBeLessThanOrEqual(maxMemoryBytes);
    expect(mem.maxBytes).toBe(maxMemoryBytes);
    expect(mem.evicted).toBeGreaterThan(1_000);
    expect(mem.events).toBe(2_000 - mem.evicted);
    // The oldest went first: glm (recorded first) is gone before kimi loses any.
    expect(m.getRecentEvents('glm', 2_000)).toHaveLength(0);
    expect(m.getRecentEvents('kimi', 1)[0]?.metadata?.k0).toMatch(/^999x/);
    expect(m.getStats('glm')?.events).toBe(1_000);
    expect(m.getStats('kimi')?.events).toBe(1_000);
  });

  it('keeps a 64 MiB heap: 30,000 maximum-size events with the default bound', () => {
    const { m, clock } = monitor();
    const error = 'e'.repeat(MAX_ERROR_LENGTH);
    const before = heapMb();
    for (let i = 0; i < 30_000; i++) {
      clock.t += 1;
      m.recordEvent(`t${i % 5}`, { kind: 'error', error, metadata: bigMetadata(i) });
    }
    const grownMb = heapMb() - before;
    expect(m.getStatus().memory.usedBytes).toBeLessThanOrEqual(64 * 1_048_576);
    // The estimate errs high (shared strings count once per event), so the heap holds less.
    expect(grownMb).toBeLessThan(64);
    expect(m.getStats()['t0']?.events).toBe(6_000);
  });
});
