import { describe, expect, it } from 'vitest';
import { ConnectionMonitor } from '../../src/monitor.js';
import {
  MAX_ERROR_LENGTH,
  MAX_METADATA_KEYS,
  MAX_METADATA_TOTAL_LENGTH,
  MAX_METADATA_VALUE_LENGTH,
} from '../../src/core/event.js';
import type { MonitorError } from '../../src/core/errors.js';
import { thrownMonitorError } from '../helpers/monitor-error.js';
import { silentLogger } from '../../src/logger.js';

function monitor(): ConnectionMonitor {
  return new ConnectionMonitor({ persistence: false, logger: silentLogger });
}

function catchError(fn: () => unknown): MonitorError {
  return thrownMonitorError(fn, 'CM_ERR_INVALID_EVENT');
}

describe('event validation', () => {
  const badTypes: unknown[] = [
    'glm:events',
    '{glm}',
    'GLM',
    '',
    'a'.repeat(65),
    'has space',
    ' glm',
    '1glm',
    'glm\n',
    undefined,
    42,
  ];
  it.each(badTypes.map((t) => [t]))('rejects type %j naming the field and value', (type) => {
    const m = monitor();
    const err = catchError(() => m.recordEvent(type as string, { kind: 'connect' }));
    expect(err.field).toBe('type');
    expect(err.message).toContain('type');
    expect(err.message).toContain('^[a-z][a-z0-9_-]{0,63}$');
    if (typeof type === 'string' && type.length > 0 && type.length < 60) {
      expect(err.message).toContain(JSON.stringify(type));
    }
    expect(m.getTypes()).toEqual([]);
  });

  it('a refused event of a new type leaves no trace: no type listed, no place of maxTypes taken', () => {
    // Found by the chaos suite: the type was added before the event was checked.
    const m = new ConnectionMonitor({ persistence: false, logger: silentLogger, maxTypes: 1 });
    const refused: unknown[] = [
      { kind: 'Bad' },
      { kind: 'x', durationMs: -1 },
      { kind: 'x', timestamp: Number.NaN },
      { kind: 'x', metadata: { nested: {} } },
      null,
    ];
    for (const input of refused) catchError(() => m.recordEvent('ghost', input as never));
    expect(m.getTypes()).toEqual([]);
    expect(m.getStats('ghost')).toBeNull();
    expect(m.recordEvent('glm', { kind: 'x' }).type).toBe('glm');
    expect(catchError(() => m.recordEvent('kimi', { kind: 'x' })).field).toBe('type');
  });

  it('accepts 64-character types and the five seed types', () => {
    const m = monitor();
    for (const t of ['websocket', 'redis', 'supabase', 'kimi', 'glm', 'a'.repeat(64), 'x_1-y']) {
      expect(m.recordEvent(t, { kind: 'connect' }).type).toBe(t);
    }
  });

  it.each([['Connect'], [''], ['a b'], ['x'.repeat(65)], [7]])('rejects kind %j', (kind) => {
    const err = catchError(() => monitor().recordEvent('glm', { kind: kind as string }));
    expect(err.field).toBe('kind');
  });

  it('accepts custom kinds of the same shape', () => {
    expect(monitor().recordEvent('glm', { kind: 'rate_limited' }).kind).toBe('rate_limited');
  });

  it.each([
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [Number.NEGATIVE_INFINITY],
    [-1],
    [-0.001],
    ['5'],
  ])('rejects durationMs %j', (d) => {
    const err = catchError(() =>
      monitor().recordEvent('glm', { kind: 'response', durationMs: d as number }),
    );
    expect(err.field).toBe('durationMs');
    expect(err.message).toContain('finite number ≥ 0');
  });

  it('accepts zero and fractional durations', () => {
    const m = monitor();
    expect(m.recordEvent('glm', { kind: 'response', durationMs: 0 }).durationMs).toBe(0);
    expect(m.recordEvent('glm', { kind: 'response', durationMs: 0.25 }).durationMs).toBe(0.25);
  });

  it.each([[Number.NaN], [-5], ['yesterday'], [Number.POSITIVE_INFINITY]])(
    'rejects timestamp %j',
    (t) => {
      const err = catchError(() =>
        monitor().recordEvent('glm', { kind: 'x', timestamp: t as number }),
      );
      expect(err.field).toBe('timestamp');
    },
  );

  it('takes Date timestamps and floors fractional milliseconds', () => {
    const m = new ConnectionMonitor({
      persistence: false,
      logger: silentLogger,
      clock: { now: () => 1_700_000_000_500 },
    });
    expect(
      m.recordEvent('glm', { kind: 'x', timestamp: new Date(1_700_000_000_123) }).timestamp,
    ).toBe(1_700_000_000_123);
    expect(m.recordEvent('glm', { kind: 'x', timestamp: 1_700_000_000_123.9 }).timestamp).toBe(
      1_700_000_000_123,
    );
  });

  it('truncates oversized error text to the documented bound', () => {
    const e = monitor().recordEvent('glm', {
      kind: 'error',
      error: 'x'.repeat(MAX_ERROR_LENGTH * 3),
    });
    expect(e.error).toHaveLength(MAX_ERROR_LENGTH);
    expect(e.error?.endsWith('…')).toBe(true);
    const short = monitor().recordEvent('glm', { kind: 'error', error: new Error('boom') });
    expect(short.error).toBe('boom');
  });

  it('rejects a non-string error', () => {
    const err = catchError(() =>
      monitor().recordEvent('glm', { kind: 'error', error: 5 as unknown as string }),
    );
    expect(err.field).toBe('error');
  });

  it('rejects non-flat metadata naming the key', () => {
    for (const value of [{ a: 1 }, [1, 2], () => 1, undefined, Symbol('s'), 10n]) {
      const err = catchError(() =>
        monitor().recordEvent('glm', { kind: 'x', metadata: { nested: value } as never }),
      );
      expect(err.field).toBe('metadata.nested');
      expect(err.message).toContain('flat');
    }
    for (const md of [[1], 'str', 5, new Map()]) {
      const err = catchError(() =>
        monitor().recordEvent('glm', { kind: 'x', metadata: md as never }),
      );
      expect(err.field).toBe('metadata');
    }
  });

  it('rejects non-finite metadata numbers', () => {
    const err = catchError(() =>
      monitor().recordEvent('glm', { kind: 'x', metadata: { n: Number.NaN } }),
    );
    expect(err.field).toBe('metadata.n');
  });

  it('rejects oversized metadata: too many keys, long values, long keys, too large in total', () => {
    const many = Object.fromEntries(
      Array.from({ length: MAX_METADATA_KEYS + 1 }, (_, i) => [`k${i}`, i]),
    );
    expect(
      catchError(() => monitor().recordEvent('glm', { kind: 'x', metadata: many })).message,
    ).toContain(`at most ${MAX_METADATA_KEYS} keys`);
    const long = { v: 'x'.repeat(MAX_METADATA_VALUE_LENGTH + 1) };
    expect(
      catchError(() => monitor().recordEvent('glm', { kind: 'x', metadata: long })).field,
    ).toBe('metadata.v');
    const longKey = { ['k'.repeat(65)]: 1 };
    expect(
      catchError(() => monitor().recordEvent('glm', { kind: 'x', metadata: longKey })).field,
    ).toBe('metadata key');
    const big = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`k${i}`, 'y'.repeat(MAX_METADATA_VALUE_LENGTH)]),
    );
    expect(
      catchError(() => monitor().recordEvent('glm', { kind: 'x', metadata: big })).message,
    ).toContain(`${MAX_METADATA_TOTAL_LENGTH}`);
  });

  it('copies metadata so later mutation by the caller does not change the event', () => {
    const md: Record<string, string> = { a: '1' };
    const e = monitor().recordEvent('glm', { kind: 'x', metadata: md });
    md.a = '2';
    expect(e.metadata).toEqual({ a: '1' });
  });

  it('rejects a non-object input', () => {
    expect(catchError(() => monitor().recordEvent('glm', null as never)).field).toBe('event');
  });

  it('never stores a rejected event', () => {
    const m = monitor();
    m.recordEvent('glm', { kind: 'ok' });
    catchError(() => m.recordEvent('glm', { kind: 'x', durationMs: -1 }));
    expect(m.getRecentEvents('glm')).toHaveLength(1);
    expect(m.getStats('glm')?.events).toBe(1);
  });

  it('gives every event a unique id that sorts in recording order', () => {
    const m = monitor();
    const ids = Array.from({ length: 2000 }, () => m.recordEvent('glm', { kind: 'x' }).id);
    expect(new Set(ids).size).toBe(2000);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]?.startsWith(`${m.options.instanceId}:`)).toBe(true);
    const other = monitor();
    expect(other.recordEvent('glm', { kind: 'x' }).id).not.toBe(ids[0]);
  });
});
