import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { closeAfterTest } from '../helpers/after-test.js';
import { redisMonitor } from '../helpers/monitor.js';
import { waitUntil } from '../helpers/wait.js';
import { MAX_NOTABLE_STORED } from '../../src/core/notable.js';
import { MAX_NOTABLE_WAITING } from '../../src/persistence/notable-store.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('notable events in Redis', () => {
  it('shared by the fleet: the first error after a quiet period is seen once, by whichever instance wrote it', async () => {
    const prefix = 'cm_notable_fleet';
    const a = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix, instanceId: 'a' }));
    const b = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix, instanceId: 'b' }));
    await Promise.all([a.start(), b.start()]);
    a.recordEvent('glm', { kind: 'error', error: 'HTTP 500' });
    await a.flush();
    // b's error follows a's within the quiet period: not notable, fleet-wide.
    b.recordEvent('glm', { kind: 'timeout' });
    await b.flush();
    const seenByB = await b.getNotableEvents({ type: 'glm' });
    expect(seenByB.source).toBe('redis');
    const firstErrors = seenByB.events.filter((e) => e.kind === 'first-error');
    expect(firstErrors.map((e) => [e.instance, e.type])).toEqual([['a', 'glm']]);
    // Both instances' starts are there too.
    const starts = seenByB.events.filter((e) => e.kind === 'instance').map((e) => e.instance);
    expect(starts.sort()).toEqual(['a', 'b']);
  });

  it('a circuit that opened while Redis was down is saved when it is back, at the time it opened', async () => {
    const prefix = 'cm_notable_circuit';
    const m = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await m.start();
    await redis.kill();
    const openedAt = Date.now();
    await waitUntil(async () => {
      m.recordEvent('glm', { kind: 'request' });
      await m.flush().catch(() => undefined);
      return m.getStatus().persistence.circuit === 'open';
    }, 'circuit open');
    const whileDown = await m.getNotableEvents();
    expect(whileDown.source).toBe('memory');
    expect(whileDown.events.some((e) => e.kind === 'circuit' && e.state === 'open')).toBe(true);
    await redis.restart();
    await waitUntil(async () => {
      m.recordEvent('glm', { kind: 'request' });
      await m.flush().catch(() => undefined);
      const stored = await m.getNotableEvents();
      return stored.source === 'redis' && stored.events.some((e) => e.state === 'closed');
    }, 'closed again, read from Redis');
    const stored = await m.getNotableEvents();
    const open = stored.events.find((e) => e.kind === 'circuit' && e.state === 'open');
    expect(open?.at).toBeGreaterThanOrEqual(openedAt - 1_000);
    expect(open?.at).toBeLessThan(Date.now());
    expect(Number(await redis.cli('ZCARD', `${prefix}:notable`))).toBeGreaterThanOrEqual(2);
  });

  it(`keeps at most ${MAX_NOTABLE_STORED} in Redis and ${MAX_NOTABLE_WAITING} waiting for it`, async () => {
    const prefix = 'cm_notable_bound';
    const m = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await m.start();
    const t0 = Date.now() - 60_000;
    // In bursts below the waiting bound, each written by a flush before the next.
    for (let i = 0; i < MAX_NOTABLE_STORED + 200; i++) {
      m.recordNotable({ kind: 'note', message: `n${i}`, at: t0 + i });
      if (i % 500 === 499) await m.flush();
    }
    await m.flush();
    const kept = (await redis.cli('ZRANGE', `${prefix}:notable`, '0', '-1')).split('\n');
    expect(kept).toHaveLength(MAX_NOTABLE_STORED);
    // The oldest went first: the notes kept are the newest, next to this instance's start.
    const notes = kept.filter((x) => x.includes('"kind":"note"'));
    const others = kept.length - notes.length;
    expect(notes[0]).toContain(`"message":"n${200 + others}"`);
    expect(notes.at(-1)).toContain(`"message":"n${MAX_NOTABLE_STORED + 199}"`);
    // While Redis is down, they wait; past the bound the oldest waiting are dropped.
    await redis.kill();
    for (let i = 0; i < MAX_NOTABLE_WAITING + 30; i++) {
      m.recordNotable({ kind: 'note', message: `late${i}`, at: Date.now() });
    }
    await redis.restart();
    // Only notes: an event flushed before the client is back would fail, open the circuit, and
    // its circuit notes (newer, waiting too) would push late notes out of the waiting bound.
    await waitUntil(async () => {
      await m.flush().catch(() => undefined);
      return (await redis.cli('ZRANGE', `${prefix}:notable`, '-1', '-1')).includes(
        `late${MAX_NOTABLE_WAITING + 29}`,
      );
    }, 'the waiting notes written once Redis is back');
    const members = (await redis.cli('ZRANGE', `${prefix}:notable`, '0', '-1')).split('\n');
    const late = members.filter((x) => x.includes('"message":"late'));
    expect(late).toHaveLength(MAX_NOTABLE_WAITING);
    expect(late[0]).toContain('"message":"late30"');
  });
});
