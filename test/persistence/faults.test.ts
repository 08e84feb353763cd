import { WRITE_FLAGS, writeBatchArgs } from '../../src/persistence/write-script.js';
import { WRITE_SETTINGS } from '../helpers/write-settings.js';
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';
import { closeAfterTest } from '../helpers/after-test.js';
import { redisMonitor } from '../helpers/monitor.js';
import { encodeBatch } from '../../src/persistence/codec.js';
import { createRedisClient } from '../../src/persistence/client.js';
import { KeySpace } from '../../src/persistence/keys.js';
import { resolveOptions } from '../../src/options.js';
import { silentLogger } from '../../src/logger.js';
import type { ConnectionEvent } from '../../src/core/event.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
// The file's Redis, as the next test needs it: running and not paused. This runs before the
// test's monitors close (onTestFinished comes after afterEach), so they close against a live Redis.
afterEach(async () => {
  if (redis.isRunning) redis.resume();
  else await redis.restart();
});

async function snapshot(prefix: string, type: string): Promise<string> {
  const keys = new KeySpace(prefix, false).forType(type);
  return JSON.stringify([
    await redis.cli('ZRANGE', keys.events, '0', '-1', 'WITHSCORES'),
    await redis.cli('HGETALL', keys.stats),
    await redis.cli('HGETALL', keys.series),
    await redis.cli('HGETALL', keys.instanceSeries('inst')),
  ]);
}

describe('persistence faults', () => {
  it('a hung Redis (SIGSTOP): flushes time out, the circuit opens, memory stays bounded; SIGCONT recovers', async () => {
    const m = closeAfterTest(
      redisMonitor(redis.url, {
        socketTimeoutMs: 200,
        breakerFailures: 2,
        breakerResetMs: 300,
        flushIntervalMs: 50,
        maxQueueSize: 500,
        batchSize: 50,
      }),
    );
    await m.start();
    m.recordEvent('supabase', { kind: 'request' });
    await m.flush();
    redis.pause();
    const started = process.hrtime.bigint();
    for (let i = 0; i < 2_000; i++) m.recordEvent('supabase', { kind: 'response', durationMs: 3 });
    const recordNs = Number(process.hrtime.bigint() - started) / 2_000;
    await waitUntil(() => m.getStatus().persistence.circuit === 'open', 'circuit open');
    for (let i = 0; i < 2_000; i++) m.recordEvent('supabase', { kind: 'response', durationMs: 3 });
    const p = m.getStatus().persistence;
    expect(p.queueDepth).toBeLessThanOrEqual(500);
    expect(p.dropped).toBeGreaterThan(0);
    expect(p.lastError).toMatch(/timed out/i);
    // recordEvent never waits on Redis: 2,000 calls while Redis hangs take microseconds each.
    expect(recordNs).toBeLessThan(200_000);
    redis.resume();
    await waitUntil(() => m.getStatus().persistence.circuit === 'closed', 'circuit closed');
    await m.flush();
    const after = m.getStatus().persistence;
    expect(after.queueDepth).toBe(0);
    const inRedis = Number(await redis.cli('ZCARD', `${m.options.keyPrefix}:supabase:events`));
    expect(inRedis).toBe(after.persisted);
    expect(inRedis + after.dropped).toBe(4_001);
  });

  it('replaying a batch with the same id (a lost reply) changes nothing', async () => {
    const options = resolveOptions({
      redisUrl: redis.url,
      keyPrefix: 'cm_replay',
      logger: silentLogger,
    });
    const client = createRedisClient(options);
    onTestFinished(() => client.disconnect());
    await client.connect();
    const keys = new KeySpace('cm_replay', false).forType('glm');
    const now = Date.now();
    const events: ConnectionEvent[] = Array.from({ length: 40 }, (_, i) => ({
      id: `inst:boot:${1_000_000_000_000 + i}`,
      type: 'glm',
      kind: i % 4 === 0 ? 'error' : 'response',
      timestamp: now - 120_000 + i * 3_000,
      durationMs: i * 2.5,
      error: i % 4 === 0 ? 'HTTP 500' : undefined,
      instance: 'inst',
    }));
    const b = encodeBatch('glm', 'inst:boot:1', events);
    const args = writeBatchArgs(keys, 'inst', b, now, WRITE_SETTINGS);
    // Applied to keys the script created (the type is new here), and its first error is the
    // type's first ever (a notable event).
    expect(await client.cmWriteBatch(...args)).toBe(
      WRITE_FLAGS.applied | WRITE_FLAGS.newKeys | WRITE_FLAGS.firstError,
    );
    const first = await snapshot('cm_replay', 'glm');
    expect(await client.cmWriteBatch(...args)).toBe(0);
    expect(await client.cmWriteBatch(...args)).toBe(0);
    expect(await snapshot('cm_replay', 'glm')).toBe(first);
    expect(Number(await redis.cli('HGET', keys.stats, 'events'))).toBe(40);
    // A different batch id with new events does apply.
    const b2 = encodeBatch('glm', 'inst:boot:2', [
      { ...events[0], id: 'inst:boot:2000000000000' } as ConnectionEvent,
    ]);
    expect(
      await client.cmWriteBatch(...writeBatchArgs(keys, 'inst', b2, now, WRITE_SETTINGS)),
    ).toBe(1);
    expect(Number(await redis.cli('HGET', keys.stats, 'events'))).toBe(41);
  });

  it('retention: events older than the window are trimmed, every key has a TTL', async () => {
    const retentionMs = 60 * 60_000;
    const hourlyRetentionMs = 2 * retentionMs;
    const dailyRetentionMs = 3 * retentionMs;
    // Events are only accepted within the retention of the monitor's clock: record the old ones
    // while its clock says then, the new ones once it says now.
    const now = Date.now();
    let clockNow = now - retentionMs - 5 * 60_000;
    const clock = { now: () => clockNow };
    const m = closeAfterTest(
      redisMonitor(redis.url, {
        retentionMs,
        hourlyRetentionMs,
        dailyRetentionMs,
        keyPrefix: 'cm_ret',
        clock,
      }),
    );
    await m.start();
    for (let i = 0; i < 10; i++) m.recordEvent('redis', { kind: 'old', timestamp: clockNow - i });
    await m.flush();
    clockNow = now;
    for (let i = 0; i < 10; i++) m.recordEvent('redis', { kind: 'new', timestamp: now - i * 1000 });
    await m.flush();
    const k = new KeySpace('cm_ret', false).forType('redis');
    expect(Number(await redis.cli('ZCARD', k.events))).toBe(10);
    expect(await redis.cli('ZRANGEBYSCORE', k.events, '-inf', String(now - retentionMs))).toBe('');
    // Minute rollups older than the retention are gone, fleet's and instance's alike.
    for (const key of [k.series, k.instanceSeries(m.options.instanceId)]) {
      const fields = (await redis.cli('HKEYS', key)).split('\n');
      const minutes = fields.filter((f) => f.startsWith('m:')).map((f) => Number(f.slice(2)));
      expect(minutes.length, key).toBeGreaterThan(0);
      expect(
        minutes.every((t) => t >= now - retentionMs - 60_000),
        key,
      ).toBe(true);
    }
    const keys = (await redis.cli('KEYS', 'cm_ret:*')).split('\n').sort();
    const instances = new KeySpace('cm_ret', false).instances;
    expect(keys).toEqual(
      [
        k.batches,
        k.events,
        k.series,
        k.instanceSeries(m.options.instanceId),
        k.stats,
        'cm_ret:types',
        instances.index,
        instances.record(m.options.instanceId),
        'cm_ret:notable',
      ].sort(),
    );
    // Each key lives as long as the longest resolution it holds: the fleet's series its days,
    // an instance's its hours, notable events as long as hours; the rest the retention.
    const keep = new Map([
      [k.series, dailyRetentionMs],
      [k.stats, dailyRetentionMs],
      ['cm_ret:types', dailyRetentionMs],
      [k.instanceSeries(m.options.instanceId), hourlyRetentionMs],
      ['cm_ret:notable', hourlyRetentionMs],
    ]);
    for (const key of keys) {
      const ttl = Number(await redis.cli('PTTL', key));
      const expected = keep.get(key) ?? retentionMs;
      expect(ttl, key).toBeGreaterThan(expected - 60_000);
      expect(ttl, key).toBeLessThanOrEqual(expected);
    }
  });

  it('crash: a SIGKILLed recorder loses at most the events not yet flushed (bound measured)', async () => {
    const prefix = 'cm_crash';
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/crash-child.ts', redis.url, prefix, '100', '200'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    onTestFinished(() => void child.kill('SIGKILL')); // a no-op once the test has killed it
    let recorded = 0;
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('recorded ')) recorded = Number(l.slice(9));
    });
    await waitUntil(() => recorded >= 3_000, 'child recording', { timeoutMs: 20_000 });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const inRedis = Number(await redis.cli('ZCARD', `${prefix}:glm:events`));
    const missing = recorded - inRedis;
    // Child: 100 events per 20 ms tick (5,000/s), flushIntervalMs 200, batchSize 100, queue 1,000.
    // Unflushed at any moment ≤ one in-flight batch + what arrived since the last flush, and never
    // more than the queue bound.
    expect(missing).toBeGreaterThanOrEqual(0);
    expect(missing).toBeLessThanOrEqual(1_000);
    console.log(`crash test: recorded ${recorded}, in Redis ${inRedis}, missing ${missing}`);
  });

  it('start() is bounded when Redis accepts connections but never answers, and recovers once it does', async () => {
    const r = await startRedis();
    onTestFinished(() => r.stop());
    const seed = closeAfterTest(redisMonitor(r.url, { keyPrefix: 'cm_stuck' }));
    await seed.start();
    for (let i = 0; i < 7; i++) seed.recordEvent('glm', { kind: 'response' });
    await seed.close();
    r.pause();
    const m = closeAfterTest(
      redisMonitor(r.url, {
        keyPrefix: 'cm_stuck',
        connectTimeoutMs: 300,
        socketTimeoutMs: 300,
        breakerResetMs: 200,
      }),
    );
    onTestFinished(() => r.resume()); // registered last, runs first: m must not close on a hung Redis
    const started = Date.now();
    await m.start();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(m.getStatus().persistence).toMatchObject({ circuit: 'open', recovered: false });
    m.recordEvent('glm', { kind: 'request' });
    r.resume();
    await waitUntil(() => m.getStatus().persistence.recovered, 'late recovery', {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    await m.flush();
    // Recovered exactly once: 7 from Redis + 1 recorded here (its own stats: just that 1).
    expect(m.getStats('glm')?.events).toBe(1);
    expect((await m.getFleetStats('glm')).stats.glm?.events).toBe(8);
    expect(m.getRecentEvents('glm', 100)).toHaveLength(8);
  });
});
