/**
 * Failure stays where it starts (issue "Failure isolation", items 1–2): a bad batch is never
 * half-applied, a corrupt or foreign key quarantines only its own type, recovery is per type.
 * Against a real redis-server; the corrupt data is planted with redis-cli.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { isMonitorError } from '../../src/core/errors.js';
import { createRedisClient } from '../../src/persistence/client.js';
import { encodeBatch } from '../../src/persistence/codec.js';
import { writeBatchArgs } from '../../src/persistence/write-script.js';
import { WRITE_SETTINGS } from '../helpers/write-settings.js';
import { KeySpace } from '../../src/persistence/keys.js';
import { resolveOptions } from '../../src/options.js';
import { silentLogger } from '../../src/logger.js';
import type { ConnectionMonitor } from '../../src/monitor.js';
import { capturingLogger, redisMonitor } from '../helpers/monitor.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

function monitor(prefix: string, overrides = {}): ConnectionMonitor {
  const m = redisMonitor(redis.url, { keyPrefix: prefix, ...overrides });
  onTestFinished(() => m.close());
  return m;
}

async function zcard(key: string): Promise<number> {
  return Number(await redis.cli('ZCARD', key));
}

describe('the write script applies a batch whole or not at all', () => {
  it('refuses a batch whose hour, day, pending list or trimming mark is corrupt, and writes nothing of it', async () => {
    const options = resolveOptions({ redisUrl: redis.url, logger: silentLogger });
    const client = createRedisClient(options);
    await client.connect();
    onTestFinished(() => client.disconnect());
    const k = new KeySpace('cm_coarse', false).forType('glm');
    const now = Date.now();
    // Events of a minute already over: the write folds it into its hour and day at once.
    const at = now - (now % 60_000) - 120_000;
    const hour = at - (at % 3_600_000);
    const day = at - (at % 86_400_000);
    const cases: [string, string, string][] = [
      [k.series, `h:${hour}`, '{"e":"many"}'],
      [k.series, `d:${day}`, '{not json'],
      [k.series, '_pending', '"soon"'],
      [k.series, '_oldest:h', 'yesterday'],
      [k.instanceSeries('i'), `h:${hour}`, '[1,2'],
    ];
    for (const [i, [key, field, value]] of cases.entries()) {
      await redis.cli('DEL', k.series, k.instanceSeries('i'));
      await redis.cli('HSET', key, field, value);
      const events = [
        {
          id: `i:b:${1_000_000_000_000 + i}`,
          type: 'glm',
          kind: 'response',
          timestamp: at,
          durationMs: 3,
          instance: 'i',
        },
      ];
      const b = encodeBatch('glm', `coarse-${i}`, events);
      const write = client.cmWriteBatch(...writeBatchArgs(k, 'i', b, now, WRITE_SETTINGS));
      await expect(write).rejects.toThrow(`CM_CORRUPT ${key} field ${field}`);
      expect(await zcard(k.events)).toBe(0);
      expect(await redis.cli('HGETALL', k.stats)).toBe('');
      expect(await redis.cli('HKEYS', key)).toBe(field);
    }
  });

  it('refuses a batch that would add to a corrupt field, and writes nothing of it', async () => {
    const options = resolveOptions({ redisUrl: redis.url, logger: silentLogger });
    const client = createRedisClient(options);
    await client.connect();
    onTestFinished(() => client.disconnect());
    const k = new KeySpace('cm_whole', false).forType('glm');
    const now = Date.now();
    const minute = now - (now % 60_000);
    // Plant a rollup the batch must add to that is not JSON, and one that is not a rollup.
    for (const corrupt of ['{not json', '{"e":"many"}']) {
      await redis.cli('HSET', k.series, `m:${minute}`, corrupt);
      const events = Array.from({ length: 50 }, (_, i) => ({
        id: `i:b:${1_000_000_000_000 + i}`,
        type: 'glm',
        kind: 'response',
        timestamp: now - i,
        durationMs: i,
        instance: 'i',
      }));
      const b = encodeBatch('glm', `batch-${corrupt.length}`, events);
      const write = client.cmWriteBatch(...writeBatchArgs(k, 'i', b, now, WRITE_SETTINGS));
      await expect(write).rejects.toThrow(new RegExp(`CM_CORRUPT ${k.series} field m:${minute}`));
      // Nothing of the batch: no member, no total, no batch id.
      expect(await zcard(k.events)).toBe(0);
      expect(await redis.cli('HGETALL', k.stats)).toBe('');
      expect(await zcard(k.batches)).toBe(0);
    }
    // Bad input is refused the same way before anything is written.
    const write = client.cmWriteBatch(
      ...writeBatchArgs(
        k,
        'i',
        {
          type: 'glm',
          batchId: 'batch-x',
          count: 1,
          pairs: [now, '{"id":"a"}'],
          statsJson: '{"e":1,"x":0,"k":{"r":1},"ds":null,"dc":0,"h":{}}',
          rollupsJson: '[]',
        },
        now,
        WRITE_SETTINGS,
      ),
    );
    await expect(write).rejects.toThrow(/CM_INVALID stats delta/);
    expect(await zcard(k.events)).toBe(0);
  });

  it('refuses a duration whose sum would overflow, naming the field; other types are written', async () => {
    const m = monitor('cm_huge', { maxQueueSize: 5_000 });
    await m.start();
    for (const durationMs of [1e308, Number.MAX_VALUE, 365 * 86_400_000 + 1]) {
      try {
        m.recordEvent('glm', { kind: 'response', durationMs });
        throw new Error('expected CM_ERR_INVALID_EVENT');
      } catch (err) {
        expect(isMonitorError(err, 'CM_ERR_INVALID_EVENT')).toBe(true);
        expect((err as { field?: string }).field).toBe('durationMs');
      }
    }
    m.recordEvent('glm', { kind: 'response', durationMs: 365 * 86_400_000 });
    for (let i = 0; i < 2_000; i++) m.recordEvent('kimi', { kind: 'response', durationMs: i });
    await m.flush();
    expect(await zcard('cm_huge:kimi:events')).toBe(2_000);
    expect(await zcard('cm_huge:glm:events')).toBe(1);
    expect(await redis.cli('HGET', 'cm_huge:glm:stats', 'events')).toBe('1');
    expect(m.getStatus().persistence).toMatchObject({ circuit: 'closed', rejected: 0 });
  });
});

describe('a corrupt or foreign key quarantines its own type only', () => {
  const cases: [string, (p: string) => string[][]][] = [
    ['a key of the wrong type (events)', (p) => [['SET', `${p}:glm:events`, 'x']]],
    ['a wrong-type stats key', (p) => [['SADD', `${p}:glm:stats`, 'x']]],
    ['a corrupt hist field', (p) => [['HSET', `${p}:glm:stats`, 'events', '3', 'hist', '{bad']]],
    ['a non-numeric total', (p) => [['HSET', `${p}:glm:stats`, 'events', 'lots']]],
  ];

  it.each(cases)('%s: glm is quarantined and reported, kimi is written', async (_name, plant) => {
    const prefix = `cm_q${Math.random().toString(36).slice(2, 7)}`;
    for (const cmd of plant(prefix)) await redis.cli(...cmd);
    const logger = capturingLogger();
    const m = monitor(prefix, { logger });
    await m.start();
    expect(logger.lines.join('\n')).not.toMatch(/unavailable at start/);
    expect(m.getStatus().persistence.circuit).toBe('closed');
    for (let i = 0; i < 150; i++) {
      m.recordEvent('glm', { kind: 'response', durationMs: 1 });
      m.recordEvent('kimi', { kind: 'response', durationMs: 1 });
    }
    await expect(m.flush()).rejects.toThrow(/quarantined.*glm/);
    const p = m.getStatus().persistence;
    expect(p.circuit).toBe('closed');
    expect(p.rejected).toBe(150);
    expect(p.persisted).toBe(150);
    expect(p.queueDepth).toBe(0);
    const problem = p.problems.find((x) => x.type === 'glm');
    expect(problem).toMatchObject({ type: 'glm', count: 150 });
    expect(problem?.key).toMatch(new RegExp(`^${prefix}:glm:`));
    expect(problem?.reason.length).toBeGreaterThan(5);
    expect(problem?.since).toBeGreaterThan(0);
    expect(await zcard(`${prefix}:kimi:events`)).toBe(150);
    expect(await redis.cli('HGET', `${prefix}:kimi:stats`, 'events')).toBe('150');
    // The problem is logged once, not per batch.
    expect(
      logger.lines.filter((l) => l.includes('problem isolated') && l.includes('"glm"')),
    ).toHaveLength(1);
    // Memory still has everything.
    expect(m.getStats('glm')?.events).toBe(150);
  });

  it('an invalid name in the types set is skipped and reported; the rest recover', async () => {
    const prefix = 'cm_names';
    const first = monitor(prefix);
    await first.start();
    for (let i = 0; i < 7; i++) first.recordEvent('kimi', { kind: 'response' });
    await first.flush();
    await first.close();
    await redis.cli('SADD', `${prefix}:types`, 'Not A Type!', '{glm}');
    const m = monitor(prefix);
    await m.start();
    const p = m.getStatus().persistence;
    expect(p.recovered).toBe(true);
    expect((await m.getFleetStats('kimi')).stats.kimi?.events).toBe(7);
    const names = p.problems.filter((x) => x.type === '*').map((x) => x.reason);
    expect(names.join('\n')).toContain('"Not A Type!"');
    expect(names.join('\n')).toContain('"{glm}"');
  });

  it('recovery is per type: a corrupt key starts its type empty with a problem, others recover', async () => {
    const prefix = 'cm_rec';
    const first = monitor(prefix);
    await first.start();
    for (let i = 0; i < 9; i++) first.recordEvent('kimi', { kind: 'response', durationMs: i });
    for (let i = 0; i < 4; i++) first.recordEvent('glm', { kind: 'response' });
    await first.flush();
    await first.close();
    await redis.cli('DEL', `${prefix}:glm:events`);
    await redis.cli('SET', `${prefix}:glm:events`, 'foreign');
    await redis.cli('ZADD', `${prefix}:kimi:events`, String(Date.now()), 'not an event');
    const logger = capturingLogger();
    const m = monitor(prefix, { logger });
    await m.start();
    expect(logger.lines.join('\n')).not.toMatch(/unavailable at start/);
    expect((await m.getFleetStats('kimi')).stats.kimi?.events).toBe(9);
    expect(m.getRecentEvents('kimi', 100)).toHaveLength(9);
    expect(m.getRecentEvents('glm', 100)).toHaveLength(0);
    const problems = m.getStatus().persistence.problems;
    expect(problems.map((x) => x.key).sort()).toEqual(
      [`${prefix}:glm:events`, `${prefix}:kimi:events`].sort(),
    );
    expect(problems.find((x) => x.key === `${prefix}:kimi:events`)?.count).toBe(1);
  });

  it('a problem clears once the type writes again (the key was repaired)', async () => {
    const prefix = 'cm_heal';
    await redis.cli('SET', `${prefix}:glm:events`, 'x');
    const m = monitor(prefix);
    await m.start();
    m.recordEvent('glm', { kind: 'response' });
    await expect(m.flush()).rejects.toThrow(/quarantined/);
    expect(m.getStatus().persistence.problems).toHaveLength(1);
    await redis.cli('DEL', `${prefix}:glm:events`);
    m.recordEvent('glm', { kind: 'response' });
    await m.flush();
    expect(m.getStatus().persistence.problems).toEqual([]);
    expect(await zcard(`${prefix}:glm:events`)).toBe(1);
  });
});
