/**
 * The frame of a chaos scenario: a Redis-backed monitor fed by the paced recorder, waits on
 * conditions with deadlines, the Redis-side reads and the "freeze, read, kill" step that makes a
 * killed Redis's loss exact, the heap bound and the unhandled-rejection watch.
 */
import { Redis } from 'ioredis';
import { expect, onTestFailed, onTestFinished } from 'vitest';
import type { ConnectionMonitor } from '../../src/monitor.js';
import type { MonitorOptions } from '../../src/options.js';
import { memberId } from '../../src/persistence/codec.js';
import type { TypeKeys } from '../../src/persistence/keys.js';
import { closeAfterTest } from '../helpers/after-test.js';
import { heapMb } from '../helpers/heap.js';
import { redisMonitor } from '../helpers/monitor.js';
import { waitUntil } from '../helpers/wait.js';
import { generatedEvents, sampleEvents, SEED } from './generators.js';
import type { Loss, StoredType } from './invariants.js';
import { PacedRecorder } from './recorder.js';

/** Events per second the recorder paces at (all types together). */
export const EVENTS_PER_SECOND = 2_500;
/**
 * Heap growth allowed over a scenario, MiB (measured: 20–40): the monitor's rings and queue for
 * ~10,000 events, the generated inputs and the test's own ledger (every accepted event, kept to
 * compare with Redis). A leak of the queue or of retried batches under a fault would pass it.
 */
export const HEAP_GROWTH_BOUND_MB = 64;

/** The types of the standalone scenarios; `constructor` is a valid name JavaScript objects know. */
export const TYPES = ['websocket', 'redis', 'supabase', 'kimi', 'glm', 'constructor', 'many-kinds'];
/** Types only invalid events use. */
export const GHOST_TYPES = ['ghost-a', 'ghost-b'];

/** A running scenario. */
export interface Run {
  readonly monitor: ConnectionMonitor;
  readonly recorder: PacedRecorder;
  readonly heapBeforeMb: number;
}

/**
 * Starts a monitor on `redisUrl` (closed after the test) and the paced recorder over `count`
 * generated events of `types` (a stream per `salt`). Prints the seed when the test fails.
 */
export async function startRun(options: {
  redisUrl: string;
  salt: number;
  count: number;
  types?: readonly string[];
  monitor?: MonitorOptions;
}): Promise<Run> {
  onTestFailed(() => {
    console.error(`chaos: seed ${SEED} (salt ${options.salt}); rerun with CHAOS_SEED=${SEED}`);
  });
  const heapBeforeMb = heapMb();
  const monitor = closeAfterTest(
    redisMonitor(options.redisUrl, {
      instanceId: `chaos-${options.salt}`,
      maxQueueSize: 50_000,
      batchSize: 100,
      flushIntervalMs: 50,
      ...options.monitor,
    }),
  );
  await monitor.start();
  const types = options.types ?? TYPES;
  const events = sampleEvents(
    generatedEvents({
      types,
      manyKindsType: types.includes('many-kinds') ? 'many-kinds' : undefined,
      ghostTypes: GHOST_TYPES,
      window: monitor.options,
    }),
    options.count,
    options.salt,
  );
  const recorder = new PacedRecorder(monitor, events, { eventsPerSecond: EVENTS_PER_SECOND });
  onTestFinished(() => recorder.stop());
  recorder.start();
  return { monitor, recorder, heapBeforeMb };
}

/**
 * Allows `n` more events and waits until the recorder replayed them (paced: the deadline follows
 * from the rate). Start it before a fault and await it after, to record through the fault.
 */
export async function recordMore(recorder: PacedRecorder, n: number): Promise<void> {
  const before = recorder.allowedCount;
  recorder.allow(n);
  const target = recorder.allowedCount;
  await waitUntil(() => recorder.replayed >= target, `${target - before} more events`, {
    timeoutMs: ((target - before) / EVENTS_PER_SECOND) * 4_000 + 5_000,
  });
}

/** Records every event left, then waits until a `flush()` resolves (everything settled). */
export async function settle(run: Run, timeoutMs = 20_000): Promise<void> {
  await recordMore(run.recorder, Number.POSITIVE_INFINITY);
  await waitUntil(
    () =>
      run.monitor.flush().then(
        () => true,
        () => false,
      ),
    'a flush that settles everything',
    { timeoutMs, intervalMs: 50 },
  );
}

/**
 * A monitor started now on the same prefix finds every type in the types set and recovers each
 * one's totals as Redis holds them: history survives the fault for the next process too.
 */
export async function expectRecoveredOnRestart(
  monitor: ConnectionMonitor,
  read: (type: string) => Promise<StoredType>,
  typesSet: () => Promise<string[]>,
  options: MonitorOptions = {},
): Promise<void> {
  // The set is written apart from the batches, best effort: within a deadline.
  const types = monitor.getTypes();
  await waitUntil(async () => {
    const listed = new Set(await typesSet());
    return types.every((t) => listed.has(t));
  }, 'every type in the types set');
  const first = monitor.options;
  const next = closeAfterTest(
    redisMonitor(first.redisUrl, {
      keyPrefix: first.keyPrefix,
      instanceId: 'chaos-next',
      ...options,
    }),
  );
  await next.start();
  expect(next.getStatus().persistence.recovered).toBe(true);
  const fleet = await next.getFleetStats();
  expect(fleet.source).toBe('redis');
  for (const type of types) {
    const stored = await read(type);
    // The fleet's totals, and the newest events (up to the buffer) recovered into memory.
    expect(fleet.stats[type]?.events ?? 0, `${type} totals read by a new process`).toBe(
      Number(stored.stats.events ?? 0),
    );
    expect(
      next.getRecentEvents(type, next.options.bufferSize).length,
      `${type} recovered by a new process`,
    ).toBe(Math.min(stored.members.length, next.options.bufferSize));
  }
  await next.close();
}

/** Checks the heap bound (after a full GC) against the run's start. */
export function expectHeapBounded(run: Run): number {
  const growth = heapMb() - run.heapBeforeMb;
  expect(growth, `heap grew ${growth.toFixed(1)} MiB`).toBeLessThan(HEAP_GROWTH_BOUND_MB);
  return growth;
}

/** A plain ioredis connection for the test's own reads and faults (closed after the test). */
export function checker(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  onTestFinished(() => client.disconnect());
  return client;
}

/** One type's events and stats hash. */
export async function readType(client: Redis, keys: TypeKeys): Promise<StoredType> {
  const [members, stats] = await Promise.all([
    client.zrange(keys.events, 0, '-1'),
    client.hgetall(keys.stats),
  ]);
  return { members, stats };
}

/**
 * Freezes writes (CLIENT PAUSE WRITE blocks every script call until the server dies) and reads
 * the events of `types`: exactly what a kill now takes with it (the test servers keep nothing on
 * disk). The writes it blocks fail with the kill and are retried on the restarted server.
 */
export async function freezeAndRead(
  client: Redis,
  types: readonly string[],
  keysOf: (type: string) => TypeKeys,
): Promise<Map<string, Loss>> {
  await client.call('CLIENT', 'PAUSE', '60000', 'WRITE');
  const lost = new Map<string, Loss>();
  for (const type of types) {
    const members = await client.zrange(keysOf(type).events, 0, '-1');
    lost.set(type, {
      ids: new Set(members.map((m) => memberId(m) as string)),
      isCountedInStats: false,
    });
  }
  return lost;
}

/** Collects unhandled rejections while a file runs; returns the list to assert on. */
export function watchUnhandledRejections(): { list: unknown[]; stop(): void } {
  const list: unknown[] = [];
  const listener = (reason: unknown) => list.push(reason);
  process.on('unhandledRejection', listener);
  return { list, stop: () => process.off('unhandledRejection', listener) };
}
