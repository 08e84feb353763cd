/**
 * Chaos against one real redis-server (issue 11, item 8): generated events, valid and invalid,
 * recorded at a paced rate while Redis is killed and restarted, has a key of the wrong type planted
 * for one type, or runs out of memory. After the fault is healed and a flush settles, the
 * invariants of `invariants.ts` hold, with exact accounting per type.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isMonitorError } from '../../src/core/errors.js';
import { memberId } from '../../src/persistence/codec.js';
import { KeySpace } from '../../src/persistence/keys.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';
import {
  checker,
  expectHeapBounded,
  expectRecoveredOnRestart,
  freezeAndRead,
  GHOST_TYPES,
  readType,
  recordMore,
  settle,
  startRun,
  TYPES,
  watchUnhandledRejections,
} from './harness.js';
import { checkInvariants, type Loss } from './invariants.js';

let redis: TestRedis;
const unhandled = watchUnhandledRejections();

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  unhandled.stop();
  await redis.stop();
});
// The next scenario gets a running, writable server with memory to spare.
afterEach(async () => {
  if (!redis.isRunning) await redis.restart();
  redis.resume();
  await redis.cli('CLIENT', 'UNPAUSE');
  await redis.cli('CONFIG', 'SET', 'maxmemory', '0');
});

/** 10,000 events at 2,500/s: 4 s of recording, in phases (before, during, after the fault). */
const EVENTS = 10_000;

function scenarioKeys(salt: number) {
  const keys = new KeySpace(`cm_chaos_${salt}`, false);
  return { keys, monitor: { keyPrefix: keys.prefix } };
}

describe('chaos: one redis-server', () => {
  it('kill -9 and restart: what the dead server held is lost, nothing else; no event twice', async () => {
    const salt = 1;
    const { keys, monitor } = scenarioKeys(salt);
    const run = await startRun({ redisUrl: redis.url, salt, count: EVENTS, monitor });
    const m = run.monitor;
    await recordMore(run.recorder, 3_000);
    await waitUntil(() => m.getStatus().persistence.persisted > 1_000, 'writes before the kill');

    // Recording goes on through the kill.
    const duringOutage = recordMore(run.recorder, 3_000);
    const lost = await freezeAndRead(checker(redis.port), TYPES, (t) => keys.forType(t));
    await redis.kill();
    await waitUntil(() => m.getStatus().persistence.circuit === 'open', 'circuit open');
    await duringOutage;
    expect(m.getStatus().persistence.queueDepth, 'held while Redis is down').toBeGreaterThan(1_500);

    await redis.restart();
    await waitUntil(() => m.getStatus().persistence.circuit === 'closed', 'circuit closed', {
      timeoutMs: 10_000,
    });
    await settle(run);

    const client = checker(redis.port);
    const summary = await checkInvariants({
      monitor: m,
      ledger: run.recorder.ledger,
      read: (t) => readType(client, keys.forType(t)),
      ghostTypes: GHOST_TYPES,
      lost,
    });
    expect(summary.lost, 'the kill took acknowledged events').toBeGreaterThan(0);
    expect(summary.refusedKinds, 'kinds beyond the bound were refused').toBeGreaterThan(0);
    await expectRecoveredOnRestart(
      m,
      (t) => readType(client, keys.forType(t)),
      () => client.smembers(keys.types),
    );
    const heap = expectHeapBounded(run);
    expect(unhandled.list).toEqual([]);
    console.log('chaos kill/restart:', JSON.stringify({ ...summary, heapMb: heap.toFixed(1) }));
  });

  it('a WRONGTYPE key planted for one type mid-run: it alone is quarantined, counted with its reason; no healthy type loses anything', async () => {
    const salt = 2;
    const poisoned = 'kimi';
    const { keys, monitor } = scenarioKeys(salt);
    const run = await startRun({ redisUrl: redis.url, salt, count: EVENTS, monitor });
    const m = run.monitor;
    const client = checker(redis.port);
    const k = keys.forType(poisoned);
    await recordMore(run.recorder, 3_000);
    await waitUntil(async () => (await client.zcard(k.events)) > 0, `${poisoned} written`);

    // Atomically: what the type had (deleted with the key, its stats hash keeps counting it),
    // then a string where its sorted set was. Recording goes on meanwhile.
    const duringPoison = recordMore(run.recorder, 3_000);
    const planted = await client
      .multi()
      .zrange(k.events, 0, '-1')
      .del(k.events)
      .set(k.events, 'x')
      .exec();
    const destroyed = (planted?.[0]?.[1] ?? []) as string[];
    const lost = new Map<string, Loss>([
      [
        poisoned,
        { ids: new Set(destroyed.map((x) => memberId(x) as string)), isCountedInStats: true },
      ],
    ]);
    await waitUntil(
      () => run.recorder.ledger.quarantinedOf(poisoned) >= 100,
      `${poisoned} batches quarantined`,
      { timeoutMs: 10_000 },
    );
    await duringPoison;
    const during = m.getStatus().persistence;
    expect(during.circuit, 'a batch of its own fault never opens the circuit').toBe('closed');
    const problem = during.problems.find((x) => x.type === poisoned);
    expect(problem).toMatchObject({ key: k.events, reason: expect.stringMatching(/WRONGTYPE/) });
    expect(problem?.count, 'the problem counts every quarantined event').toBe(
      run.recorder.ledger.quarantinedOf(poisoned),
    );
    expect(during.problems.map((x) => x.type)).toEqual([poisoned]);
    for (const q of run.recorder.ledger.quarantines) {
      expect(q).toMatchObject({
        type: poisoned,
        key: k.events,
        reason: expect.stringMatching(/WRONGTYPE/),
      });
    }
    const flushed = await m.flush().then(
      () => null,
      (err: unknown) => err,
    );
    expect(isMonitorError(flushed, 'CM_ERR_PERSISTENCE'), String(flushed)).toBe(true);
    expect(String(flushed)).toContain(poisoned);

    // Repaired: the type writes again (its problem clears: checked with the invariants).
    await client.del(k.events);
    await settle(run);

    const summary = await checkInvariants({
      monitor: m,
      ledger: run.recorder.ledger,
      read: (t) => readType(client, keys.forType(t)),
      ghostTypes: GHOST_TYPES,
      lost,
      poisoned: [poisoned],
    });
    expect(summary.rejected).toBe(run.recorder.ledger.quarantinedOf(poisoned));
    await expectRecoveredOnRestart(
      m,
      (t) => readType(client, keys.forType(t)),
      () => client.smembers(keys.types),
    );
    const heap = expectHeapBounded(run);
    expect(unhandled.list).toEqual([]);
    console.log('chaos WRONGTYPE:', JSON.stringify({ ...summary, heapMb: heap.toFixed(1) }));
  });

  it('maxmemory OOM (noeviction) then raised: writes are held, the full queue drops and counts, nothing is half-written', async () => {
    const salt = 3;
    const { keys, monitor } = scenarioKeys(salt);
    const client = checker(redis.port);
    await client.flushall();
    const run = await startRun({
      redisUrl: redis.url,
      salt,
      count: EVENTS,
      monitor: { ...monitor, maxQueueSize: 2_000 },
    });
    const m = run.monitor;
    await recordMore(run.recorder, 3_000);

    // A little room left: the recording fills it, then every write is refused.
    const filling = recordMore(run.recorder, 1_500);
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
    await client.config('SET', 'maxmemory', String(used + 256 * 1024));
    await waitUntil(
      () =>
        /OOM/.test(m.getStatus().persistence.lastError ?? '') &&
        m.getStatus().persistence.circuit === 'open',
      'writes refused for lack of memory',
      { timeoutMs: 10_000 },
    );
    await filling;
    await recordMore(run.recorder, 3_000);
    expect(
      m.getStatus().persistence.dropped,
      'the queue filled while Redis refused',
    ).toBeGreaterThan(0);

    await client.config('SET', 'maxmemory', '0');
    await waitUntil(() => m.getStatus().persistence.circuit === 'closed', 'circuit closed', {
      timeoutMs: 10_000,
    });
    await settle(run);

    const summary = await checkInvariants({
      monitor: m,
      ledger: run.recorder.ledger,
      read: (t) => readType(client, keys.forType(t)),
      ghostTypes: GHOST_TYPES,
      mayDrop: true,
    });
    expect(summary.rejected, 'OOM is the server’s, never a batch’s: nothing quarantined').toBe(0);
    await expectRecoveredOnRestart(
      m,
      (t) => readType(client, keys.forType(t)),
      () => client.smembers(keys.types),
    );
    const heap = expectHeapBounded(run);
    expect(unhandled.list).toEqual([]);
    console.log('chaos OOM:', JSON.stringify({ ...summary, heapMb: heap.toFixed(1) }));
  });
});
