import { describe, expect, it } from 'vitest';
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger } from '../../src/logger.js';
import { MAX_NOTABLE_IN_MEMORY, type NotableEvent } from '../../src/core/notable.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const HOUR = 3_600_000;

function memoryMonitor(now: { t: number }, quietPeriodMs = HOUR): ConnectionMonitor {
  return new ConnectionMonitor({
    persistence: false,
    quietPeriodMs,
    logger: silentLogger,
    clock: { now: () => now.t },
  });
}

describe('notable events in memory mode', () => {
  it('the first error of a type after the quiet period, instance start and stop, notes of your own', async () => {
    const now = { t: T0 };
    const m = memoryMonitor(now);
    const seen: NotableEvent[] = [];
    m.on('notable', (e) => seen.push(e));
    await m.start();
    m.recordEvent('glm', { kind: 'error', error: 'HTTP 500' }); // the first ever
    now.t += 10 * 60_000;
    m.recordEvent('glm', { kind: 'timeout' }); // 10 min later: not quiet
    m.recordEvent('kimi', { kind: 'response', error: 'bad gateway' }); // kimi's first
    now.t += 2 * HOUR;
    m.recordEvent('glm', { kind: 'response' }); // not an error
    m.recordEvent('glm', { kind: 'error' }); // 2 h after the last: notable
    m.recordNotable({ kind: 'note', message: 'deploy v1.4.2' });
    const firstErrors = seen.filter((e) => e.kind === 'first-error');
    expect(firstErrors.map((e) => [e.type, e.at])).toEqual([
      ['glm', T0],
      ['kimi', T0 + 10 * 60_000],
      ['glm', T0 + 10 * 60_000 + 2 * HOUR],
    ]);
    expect(firstErrors[2]?.message).toBe('glm: first error in 2 h');
    expect(seen[0]).toMatchObject({ kind: 'instance', state: 'started', at: T0 });
    const all = await m.getNotableEvents({ from: T0 - 1 });
    expect(all.source).toBe('memory');
    // Newest first; the type filter keeps events of no type (the instance starting).
    expect(all.events.map((e) => e.kind)).toEqual([
      'note',
      'first-error',
      'first-error',
      'first-error',
      'instance',
    ]);
    const kimi = await m.getNotableEvents({ type: 'kimi', from: T0 - 1 });
    expect(kimi.events.map((e) => [e.kind, e.type])).toEqual([
      ['note', undefined],
      ['first-error', 'kimi'],
      ['instance', undefined],
    ]);
    expect(new Set(all.events.map((e) => e.id)).size).toBe(all.events.length);
    await m.close();
    expect(seen.at(-1)).toMatchObject({ kind: 'instance', state: 'stopped' });
  });

  it('refuses bad notable input and queries naming the field', async () => {
    const m = memoryMonitor({ t: T0 });
    expect(() => m.recordNotable({ kind: 'party' as 'note', message: 'x' })).toThrow(
      expect.objectContaining({ code: 'CM_ERR_INVALID_EVENT', field: 'kind' }),
    );
    expect(() => m.recordNotable({ kind: 'note', message: '' })).toThrow(
      expect.objectContaining({ field: 'message' }),
    );
    expect(() => m.recordNotable({ kind: 'note', message: 'x', type: 'bad type' })).toThrow(
      expect.objectContaining({ field: 'type' }),
    );
    await expect(m.getNotableEvents({ limit: 0 })).rejects.toMatchObject({
      code: 'CM_ERR_INVALID_QUERY',
      field: 'limit',
    });
    await expect(m.getNotableEvents({ from: 'yesterday' })).rejects.toMatchObject({
      field: 'from',
    });
    // A long message is cut, not refused.
    expect(m.recordNotable({ kind: 'note', message: 'x'.repeat(1_000) }).message).toHaveLength(300);
  });

  it(`keeps the newest ${MAX_NOTABLE_IN_MEMORY} in memory`, async () => {
    const now = { t: T0 };
    const m = memoryMonitor(now);
    for (let i = 0; i < MAX_NOTABLE_IN_MEMORY + 50; i++) {
      now.t = T0 + i;
      m.recordNotable({ kind: 'note', message: `n${i}` });
    }
    const got = await m.getNotableEvents({ from: T0, limit: 1_000 });
    expect(got.events).toHaveLength(MAX_NOTABLE_IN_MEMORY);
    expect(got.events[0]?.message).toBe(`n${MAX_NOTABLE_IN_MEMORY + 49}`);
    expect(got.events.at(-1)?.message).toBe('n50');
  });
});
