/**
 * Chaos through the service (issue 11, item 8): generated `POST /api/events` requests against a
 * real server (`createMonitoringServer`) around a Redis-backed monitor, posted at a paced rate
 * above the per-client ingestion limit, while Redis hangs (SIGSTOP) long enough for the queue to
 * fill, then resumes. Every answer is one of the documented ones (202/400/413/429) and the one its
 * request must get; accepted counts add up in memory and in Redis, each event stored once.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, onTestFinished } from 'vitest';
import { KeySpace } from '../../src/persistence/keys.js';
import { closeAfterTest } from '../helpers/after-test.js';
import { heapMb } from '../helpers/heap.js';
import { redisMonitor } from '../helpers/monitor.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';
import { startServer } from '../server/helpers.js';
import { SEED } from './generators.js';
import {
  checker,
  expectRecoveredOnRestart,
  HEAP_GROWTH_BOUND_MB,
  readType,
  watchUnhandledRejections,
} from './harness.js';
import { generatedRequests } from './http-bodies.js';
import { PacedSender } from './http-sender.js';
import { expectStatsOf } from './invariants.js';

let redis: TestRedis;
const unhandled = watchUnhandledRejections();

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  unhandled.stop();
  await redis.stop();
});

const TYPES = ['kimi', 'glm', 'supabase', 'constructor'];
/** 800 requests, ~15 events each: about 4 s at 3,000 events/s. */
const REQUESTS = 800;
const LIMITS = {
  batchEvents: 200,
  bodyBytes: 262_144,
  // A third of the posting rate: the per-client limit answers 429 to part of the traffic.
  ingestEventsPerSecond: 1_000,
  ingestBurst: 1_000,
};

describe('chaos: HTTP ingestion', () => {
  it('generated bodies while Redis hangs (SIGSTOP) and resumes: documented answers only, accepted counts add up, each event stored once', async () => {
    onTestFailed(() =>
      console.error(`chaos: seed ${SEED} (salt 10); rerun with CHAOS_SEED=${SEED}`),
    );
    const heapBefore = heapMb();
    const keys = new KeySpace('cm_chaos_http', false);
    const m = closeAfterTest(
      redisMonitor(redis.url, {
        keyPrefix: keys.prefix,
        instanceId: 'chaos-http',
        maxQueueSize: 500,
        batchSize: 100,
        flushIntervalMs: 50,
        socketTimeoutMs: 300,
      }),
    );
    await m.start();
    const service = await startServer({ limits: LIMITS }, {}, { monitor: m });
    onTestFinished(() => service.close());
    const requests = fc.sample(generatedRequests({ types: TYPES, window: m.options, ...LIMITS }), {
      seed: SEED + 10,
      numRuns: REQUESTS,
    });
    const sender = new PacedSender(service.url, requests, {
      eventsPerSecond: 3_000,
      maxInFlight: 8,
    });
    onTestFinished(() => sender.stop());
    sender.start();
    const answered = async (n: number, what: string) => {
      sender.allow(n);
      const target = sender.allowedCount;
      await waitUntil(() => sender.answered >= target, what, { timeoutMs: 30_000 });
    };

    await answered(REQUESTS / 4, 'requests before the fault');
    expect(m.getStatus().persistence.persisted).toBeGreaterThan(0);
    // Posting goes on while Redis hangs.
    const duringHang = answered(REQUESTS * 0.3, 'requests while Redis hangs');
    redis.pause();
    await waitUntil(
      () => m.getStatus().persistence.circuit === 'open' && m.getStatus().persistence.dropped > 0,
      'circuit open and the queue full while Redis hangs',
      { timeoutMs: 10_000 },
    );
    await duringHang;
    redis.resume();
    await waitUntil(() => m.getStatus().persistence.circuit === 'closed', 'circuit closed', {
      timeoutMs: 10_000,
    });
    await answered(Number.POSITIVE_INFINITY, 'every request answered');
    // And a burst over the bucket at once, whatever the pace achieved: part of it gets 429.
    const full = Array.from({ length: LIMITS.batchEvents }, () => ({
      fields: { type: 'kimi', kind: 'request' },
      isValid: true,
    }));
    const before429 = sender.statuses.get(429) ?? 0;
    await Promise.all(
      Array.from({ length: 8 }, () => sender.post({ kind: 'events', events: full, isArray: true })),
    );
    expect(sender.statuses.get(429) ?? 0, 'a burst over the bucket').toBeGreaterThan(before429);
    await waitUntil(
      () =>
        m.flush().then(
          () => true,
          () => false,
        ),
      'a flush that settles everything',
      { timeoutMs: 20_000, intervalMs: 50 },
    );

    // Every answer was the documented one its request had to get.
    expect(sender.mismatches).toEqual([]);
    expect([...sender.statuses.keys()].sort()).toEqual([202, 400, 413, 429]);
    const health = await fetch(`${service.url}/healthz`);
    expect(health.status).toBe(200);

    // Accepted counts add up: in memory, in Redis (once each), and in the status.
    const p = m.getStatus().persistence;
    expect(p).toMatchObject({ queueDepth: 0, circuit: 'closed', rejected: 0, problems: [] });
    expect(p.dropped, 'the queue filled while Redis hung').toBeGreaterThan(0);
    const client = checker(redis.port);
    let inRedis = 0;
    let missing = 0;
    for (const type of TYPES) {
      const accepted = sender.acceptedByType.get(type) ?? 0;
      expect(m.getStats(type)?.events ?? 0, `${type} in memory`).toBe(accepted);
      const stored = await readType(client, keys.forType(type));
      const events = stored.members.map(
        (x) => JSON.parse(x) as { id: string; type: string; kind: string; instance: string },
      );
      expect(new Set(events.map((e) => e.id)).size, `${type}: ids unique`).toBe(events.length);
      expect(events.every((e) => e.type === type && e.instance === 'chaos-http')).toBe(true);
      expectStatsOf(type, stored.stats, events);
      expect(events.length, `${type}: at most what was accepted`).toBeLessThanOrEqual(accepted);
      inRedis += events.length;
      missing += accepted - events.length;
    }
    expect(m.getTypes().sort()).toEqual([...TYPES].sort());
    expect(missing, 'what is not in Redis was dropped').toBe(p.dropped);
    expect(p.persisted).toBe(inRedis);
    expect(sender.acceptedTotal).toBe(p.persisted + p.dropped);
    await expectRecoveredOnRestart(
      m,
      (t) => readType(client, keys.forType(t)),
      () => client.smembers(keys.types),
    );

    const growth = heapMb() - heapBefore;
    expect(growth, `heap grew ${growth.toFixed(1)} MiB`).toBeLessThan(HEAP_GROWTH_BOUND_MB);
    expect(unhandled.list).toEqual([]);
    console.log(
      'chaos HTTP:',
      JSON.stringify({
        statuses: Object.fromEntries(sender.statuses),
        accepted: sender.acceptedTotal,
        inRedis,
        dropped: p.dropped,
        heapMb: growth.toFixed(1),
      }),
    );
  });
});
