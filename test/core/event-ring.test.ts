import { describe, expect, it } from 'vitest';
import { EventRing } from '../../src/core/event-ring.js';
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger } from '../../src/logger.js';

function ring(capacity: number): EventRing {
  return new EventRing(capacity, 'glm', 'i-1', (seq) => `i-1:b:${seq}`);
}

function push(r: EventRing, seq: number): void {
  r.push(seq, 'response', 1000 + seq, seq % 2 === 0 ? seq : undefined, undefined, { n: seq }, 100);
}

describe('EventRing', () => {
  it('reads newest first before and after wrap-around', () => {
    const b = ring(3);
    expect(b.newest()).toEqual([]);
    push(b, 1);
    push(b, 2);
    expect(b.newest().map((e) => e.id)).toEqual(['i-1:b:2', 'i-1:b:1']);
    push(b, 3);
    push(b, 4);
    push(b, 5);
    expect(b.size).toBe(3);
    expect(b.newest().map((e) => e.timestamp)).toEqual([1005, 1004, 1003]);
    expect(b.newest(2)).toHaveLength(2);
    expect(b.newest(10)).toHaveLength(3);
    expect([...b].map((e) => e.metadata?.n)).toEqual([5, 4, 3]);
    for (let i = 6; i < 1000; i++) push(b, i);
    expect(b.newest().map((e) => e.durationMs)).toEqual([undefined, 998, undefined]);
  });

  it('rebuilds every field of a local event', () => {
    const b = ring(2);
    b.push(7, 'error', 42, 1.5, 'boom', { a: 'x' }, 100);
    expect(b.newest()).toEqual([
      {
        id: 'i-1:b:7',
        type: 'glm',
        kind: 'error',
        timestamp: 42,
        durationMs: 1.5,
        error: 'boom',
        metadata: { a: 'x' },
        instance: 'i-1',
      },
    ]);
  });

  it('mixes foreign events with local ones and overwrites both', () => {
    const b = ring(2);
    const foreign = {
      id: 'other:z:1',
      type: 'glm',
      kind: 'connect',
      timestamp: 1,
      instance: 'other',
    };
    b.pushEvent(foreign, foreign.timestamp, 100);
    push(b, 2);
    expect(b.newest().map((e) => e.id)).toEqual(['i-1:b:2', 'other:z:1']);
    push(b, 3);
    expect(b.newest().map((e) => e.id)).toEqual(['i-1:b:3', 'i-1:b:2']);
    b.pushEvent(JSON.stringify({ ...foreign, id: 'other:z:2' }), 1, 100);
    expect(b.newest()[0]).toEqual({ ...foreign, id: 'other:z:2' });
    expect(b.newest()[0]).toBe(b.newest()[0]); // parsed once, then kept
    b.clear();
    expect(b.size).toBe(0);
  });

  it('rejects a bad capacity', () => {
    expect(() => ring(0)).toThrow(RangeError);
    expect(() => ring(1.5)).toThrow(RangeError);
  });

  it('capacity 1 keeps the newest', () => {
    const b = ring(1);
    push(b, 1);
    push(b, 2);
    expect(b.newest().map((e) => e.id)).toEqual(['i-1:b:2']);
  });
});

describe('stats after wrap-around', () => {
  it('keeps running totals beyond the buffer while memory holds only bufferSize events', () => {
    let now = 1_700_000_000_000;
    const m = new ConnectionMonitor({
      persistence: false,
      bufferSize: 10,
      logger: silentLogger,
      clock: { now: () => now },
    });
    for (let i = 0; i < 25; i++) {
      now += 100;
      m.recordEvent('redis', {
        kind: i % 5 === 0 ? 'error' : 'response',
        durationMs: i,
        error: i % 5 === 0 ? 'boom' : undefined,
      });
    }
    const recent = m.getRecentEvents('redis', 100);
    expect(recent).toHaveLength(10);
    expect(recent.map((e) => e.durationMs)).toEqual([24, 23, 22, 21, 20, 19, 18, 17, 16, 15]);
    const s = m.getStats('redis');
    expect(s).not.toBeNull();
    expect(s?.events).toBe(25);
    expect(s?.errors).toBe(5);
    expect(s?.errorRate).toBeCloseTo(0.2);
    expect(s?.kinds).toEqual({ error: 5, response: 20 });
    expect(s?.avgDurationMs).toBeCloseTo(12);
    expect(s?.maxDurationMs).toBe(24);
    expect(s?.firstEventAt).toBe(1_700_000_000_100);
    expect(s?.lastEventAt).toBe(1_700_000_002_500);
    // 25 events within the last 60 s → 25/60 per second.
    expect(s?.eventsPerSecond).toBeCloseTo(25 / 60);
    now += 61_000;
    expect(m.getStats('redis')?.eventsPerSecond).toBe(0);
  });
});
