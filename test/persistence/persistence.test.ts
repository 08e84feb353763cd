import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';
import { closeAfterTest } from '../helpers/after-test.js';
import { capturingLogger, redisMonitor, SEED_TYPES } from '../helpers/monitor.js';
import type { CircuitState } from '../../src/core/circuit.js';

let redis: TestRedis;
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

beforeAll(async () => {
  redis = await startRedis();
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await redis.stop();
});
beforeEach(() => {
  // Registered before anything the test opens, so it runs last: once the test's monitors have
  // closed, the file's Redis runs again for the next test and nothing was left unhandled.
  onTestFinished(async () => {
    if (!redis.isRunning) await redis.restart();
    expect(unhandled).toEqual([]);
  });
});

describe('Redis persistence', () => {
  it('writes every event (ZCARD per type), recovers them after a restart; the fleet stats equal what was recorded', async () => {
    const prefix = 'cm_seed';
    const m1 = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await m1.start();
    expect(m1.getStatus().persistence).toMatchObject({
      enabled: true,
      circuit: 'closed',
      recovered: true,
    });
    const counts: Record<string, number> = {};
    SEED_TYPES.forEach((t, i) => (counts[t] = 100 + i * 37));
    for (const t of SEED_TYPES) {
      for (let i = 0; i < (counts[t] as number); i++) {
        m1.recordEvent(t, {
          kind: i % 9 === 0 ? 'error' : 'response',
          durationMs: (i % 50) * 1.5,
          error: i % 9 === 0 ? 'boom' : undefined,
          metadata: { i },
        });
      }
    }
    await m1.flush();
    for (const t of SEED_TYPES) {
      expect(Number(await redis.cli('ZCARD', `${prefix}:${t}:events`))).toBe(counts[t]);
    }
    const statsBefore = m1.getStats();
    const recentBefore = m1.getRecentEvents('glm', 50);
    await m1.close();

    const m2 = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await m2.start();
    expect(m2.getTypes()).toEqual([...SEED_TYPES].sort());
    const fleet = await m2.getFleetStats();
    expect(fleet.source).toBe('redis');
    for (const t of SEED_TYPES) {
      const before = statsBefore[t];
      // getStats() is this process's own since it started: nothing recorded yet.
      expect(m2.getStats(t)).toBeNull();
      const after = fleet.stats[t];
      expect(after).toMatchObject({
        events: before?.events,
        errors: before?.errors,
        kinds: before?.kinds,
        maxDurationMs: before?.maxDurationMs,
        p50DurationMs: before?.p50DurationMs,
        p95DurationMs: before?.p95DurationMs,
        firstEventAt: before?.firstEventAt,
        lastEventAt: before?.lastEventAt,
      });
      expect(after?.avgDurationMs).toBeCloseTo(before?.avgDurationMs ?? 0, 9);
      expect(m2.getRecentEvents(t, 1000)).toHaveLength(counts[t] as number);
    }
    expect(m2.getRecentEvents('glm', 50)).toEqual(recentBefore);
  });

  it('writes and recovers a kind named constructor (inherited by every plain object) like any other', async () => {
    // Found by the chaos suite: the batch's stats delta counted it as "function Object()…1" and
    // the write script refused the whole batch, quarantining every event in it.
    const prefix = 'cm_ctor';
    const m1 = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await m1.start();
    for (let i = 0; i < 5; i++) m1.recordEvent('constructor', { kind: 'constructor' });
    m1.recordEvent('constructor', { kind: 'response', durationMs: 1 });
    await m1.flush();
    expect(m1.getStatus().persistence).toMatchObject({ rejected: 0, problems: [] });
    expect(await redis.cli('HGET', `${prefix}:constructor:stats`, 'k:constructor')).toBe('5');
    expect(Number(await redis.cli('ZCARD', `${prefix}:constructor:events`))).toBe(6);
    await m1.close();
    const m2 = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await m2.start();
    const fleet = await m2.getFleetStats('constructor');
    expect(new Map(Object.entries(fleet.stats)).get('constructor')?.kinds).toEqual({
      constructor: 5,
      response: 1,
    });
    expect(m2.getRecentEvents('constructor')).toHaveLength(6);
    const series = await m2.getTimeSeriesData({ type: 'constructor' });
    expect(series.points.reduce((n, p) => n + p.events, 0)).toBe(6);
  });

  it('Redis restarted without its data: the types set is written again, so a new process recovers what Redis holds', async () => {
    // Found by the chaos suite: the set was rewritten only a quarter of the retention later, so
    // until then a restarted process saw no types and recovered nothing.
    const prefix = 'cm_relist';
    const m1 = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await m1.start();
    m1.recordEvent('glm', { kind: 'response' });
    m1.recordEvent('kimi', { kind: 'response' });
    await m1.flush();
    await redis.restart(); // --save '': it comes back empty
    await waitUntil(
      async () => {
        m1.recordEvent('glm', { kind: 'request' });
        return m1.flush().then(
          () => true,
          () => false,
        );
      },
      'glm written after the restart',
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const written = Number(await redis.cli('ZCARD', `${prefix}:glm:events`));
    expect(written).toBeGreaterThan(0);
    // Every type this process wrote is listed again at once, kimi (not written since) included:
    // in a cluster its keys may live on a master that kept them.
    await waitUntil(
      async () =>
        (await redis.cli('SMEMBERS', `${prefix}:types`)).split('\n').sort().join() === 'glm,kimi',
      'both types in the types set again',
    );
    const m2 = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await m2.start();
    // It finds glm through the types set and recovers its events.
    expect(m2.getRecentEvents('glm', 1_000)).toHaveLength(written);
    expect((await m2.getFleetStats('glm')).stats.glm?.events).toBe(written);
  });

  it('keeps recording when Redis dies; opens after exactly breakerFailures failed flushes; closes when it returns and writes the queue', async () => {
    const m = closeAfterTest(
      redisMonitor(redis.url, { breakerFailures: 3, breakerResetMs: 400, flushIntervalMs: 50 }),
    );
    const states: CircuitState[] = [];
    const failures: number[] = [];
    m.on('circuit', (s) => states.push(s));
    m.on('flushFailed', (f) => failures.push(f.consecutiveFailures));
    await m.start();
    m.recordEvent('redis', { kind: 'connect' });
    await m.flush();
    await redis.kill();
    for (let i = 0; i < 50; i++) m.recordEvent('redis', { kind: 'request', durationMs: i });
    await waitUntil(() => m.getStatus().persistence.circuit === 'open', 'circuit open');
    expect(failures).toEqual([1, 2, 3]);
    expect(states[0]).toBe('open');
    for (let i = 0; i < 50; i++) m.recordEvent('redis', { kind: 'response', durationMs: i });
    expect(m.getStats('redis')?.events).toBe(101);
    await expect(m.flush()).rejects.toMatchObject({ code: 'CM_ERR_CIRCUIT_OPEN' });

    await redis.restart();
    const restartedAt = Date.now();
    await waitUntil(() => m.getStatus().persistence.circuit === 'closed', 'circuit closed');
    // breakerResetMs + flushIntervalMs, plus scheduling slack.
    expect(Date.now() - restartedAt).toBeLessThan(400 + 50 + 500);
    await m.flush();
    expect(Number(await redis.cli('ZCARD', `${m.options.keyPrefix}:redis:events`))).toBe(100);
    expect(m.getStatus().persistence.queueDepth).toBe(0);
  });

  it('starts in memory mode with the circuit open when Redis is down, recovers when it returns', async () => {
    const prefix = 'cm_late';
    const seed = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await seed.start();
    for (let i = 0; i < 20; i++) seed.recordEvent('kimi', { kind: 'response', durationMs: 10 });
    await seed.close();
    await redis.kill();
    const m = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix, breakerResetMs: 300 }));
    await m.start(); // must not throw
    expect(m.getStatus().persistence).toMatchObject({ circuit: 'open', recovered: false });
    for (let i = 0; i < 5; i++) m.recordEvent('kimi', { kind: 'error', error: 'down' });
    expect((await m.getHistoricalData({ type: 'kimi' })).source).toBe('memory');
    await redis.restart();
    await redis.cli('FLUSHALL'); // a restarted Redis kept nothing: write it again
    const seed2 = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix }));
    await seed2.start();
    for (let i = 0; i < 20; i++) seed2.recordEvent('kimi', { kind: 'response', durationMs: 10 });
    await seed2.close();
    await waitUntil(() => m.getStatus().persistence.recovered, 'late recovery');
    await m.flush();
    // Its own stats are its own 5; the fleet's hold the 20 recovered late plus those 5.
    expect(m.getStats('kimi')).toMatchObject({ events: 5, errors: 5 });
    expect((await m.getFleetStats('kimi')).stats.kimi).toMatchObject({ events: 25, errors: 5 });
    expect(m.getRecentEvents('kimi', 100)).toHaveLength(25);
    expect(Number(await redis.cli('ZCARD', `${prefix}:kimi:events`))).toBe(25);
    const page = await m.getHistoricalData({ type: 'kimi', limit: 100 });
    expect(page.source).toBe('redis');
    expect(page.events).toHaveLength(25);
  });

  it('drops exactly what does not fit: dropped == recorded − persisted', async () => {
    await redis.kill();
    const logger = capturingLogger();
    const m = closeAfterTest(
      redisMonitor(redis.url, { maxQueueSize: 20, batchSize: 5, breakerResetMs: 200, logger }),
    );
    const dropped: number[] = [];
    m.on('dropped', (d) => dropped.push(d.total));
    await m.start();
    const recorded = 137;
    for (let i = 0; i < recorded; i++) m.recordEvent('glm', { kind: 'request' });
    expect(m.getStatus().persistence.queueDepth).toBe(20);
    await redis.restart();
    await waitUntil(() => m.getStatus().persistence.circuit === 'closed', 'circuit closed');
    await m.flush();
    const p = m.getStatus().persistence;
    const inRedis = Number(await redis.cli('ZCARD', `${m.options.keyPrefix}:glm:events`));
    expect(p.persisted).toBe(inRedis);
    expect(p.dropped).toBe(recorded - p.persisted);
    expect(p.dropped).toBe(117);
    expect(dropped.at(-1)).toBe(117);
    // One warning line for the burst, not one per dropped event.
    expect(logger.lines.filter((l) => l.includes('events dropped'))).toHaveLength(1);
    expect(m.getStats('glm')?.events).toBe(recorded);
  });

  it('flushes as soon as batchSize events wait, without waiting for the timer', async () => {
    const m = closeAfterTest(redisMonitor(redis.url, { batchSize: 10, flushIntervalMs: 60_000 }));
    await m.start();
    const flushed: number[] = [];
    m.on('flushed', (f) => flushed.push(f.count));
    for (let i = 0; i < 25; i++) m.recordEvent('glm', { kind: 'request' });
    await waitUntil(() => m.getStatus().persistence.persisted >= 20, 'size-triggered flush', {
      timeoutMs: 3_000,
      intervalMs: 5,
    });
    // Both full batches go out in one flush (two script calls of 10), the remainder waits.
    expect(flushed.reduce((a, b) => a + b, 0)).toBe(20);
    expect(m.getStatus().persistence.queueDepth).toBe(5);
    await m.flush();
    expect(m.getStatus().persistence.persisted).toBe(25);
  });

  it('never prints the Redis password in status, errors or logs', async () => {
    const secure = await startRedis({
      args: ['--requirepass', 'hunter2-secret'],
      password: 'hunter2-secret',
    });
    onTestFinished(() => secure.stop());
    const logger = capturingLogger();
    const url = `redis://:hunter2-secret@127.0.0.1:${secure.port}`;
    const m = closeAfterTest(redisMonitor(url, { logger }));
    await m.start();
    m.recordEvent('glm', { kind: 'request' });
    await m.flush();
    expect(Number(await secure.cli('ZCARD', `${m.options.keyPrefix}:glm:events`))).toBe(1);
    await secure.kill();
    m.recordEvent('glm', { kind: 'request' });
    await expect(m.flush()).rejects.toThrow();
    const wrong = closeAfterTest(
      redisMonitor(`redis://:wrong-password-x@127.0.0.1:${secure.port}`, { logger }),
    );
    await wrong.start();
    const everything = JSON.stringify([m.getStatus(), wrong.getStatus(), logger.lines]);
    expect(everything).not.toContain('hunter2');
    expect(everything).not.toContain('wrong-password-x');
    expect(m.getStatus().persistence.redisUrl).toContain('***');
  });

  it('close() drains what is queued without a prior flush, and keeps its deadline when Redis is down', async () => {
    const m = redisMonitor(redis.url, {
      flushIntervalMs: 60_000,
      batchSize: 500,
      maxQueueSize: 1_000,
    });
    await m.start();
    for (let i = 0; i < 300; i++) m.recordEvent('glm', { kind: 'request' });
    expect(m.getStatus().persistence.queueDepth).toBe(300);
    await m.close();
    expect(Number(await redis.cli('ZCARD', `${m.options.keyPrefix}:glm:events`))).toBe(300);
    await m.close(); // idempotent

    const hung = await startRedis();
    onTestFinished(() => hung.stop()); // stop() resumes a paused server before it kills it
    const h = redisMonitor(hung.url, { socketTimeoutMs: 5_000, closeTimeoutMs: 300 });
    await h.start();
    h.recordEvent('glm', { kind: 'request' });
    hung.pause();
    const started = Date.now();
    await h.close();
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(h.getStatus().state).toBe('closed');
  });
});
