/**
 * Chaos against a real three-master Redis Cluster (issue 11, item 8): generated events recorded at
 * a paced rate while one master — the one holding the types set — is killed and restarted empty
 * (`cluster-require-full-coverage no`, a short `cluster-node-timeout`). Types on the other masters
 * never wait for it; its own types are held and written when it returns; what it held when it died
 * is the only loss; a new process still finds every type.
 */
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySpace } from '../../src/persistence/keys.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import type { TestRedis } from '../helpers/redis-server.js';
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
  watchUnhandledRejections,
} from './harness.js';
import { checkInvariants } from './invariants.js';

let cluster: TestRedisCluster;
const unhandled = watchUnhandledRejections();

beforeAll(async () => {
  cluster = await startRedisCluster(3, [
    '--cluster-node-timeout',
    '1000',
    '--cluster-require-full-coverage',
    'no',
  ]);
});
afterAll(async () => {
  unhandled.stop();
  await cluster?.stop();
});

const TYPES = [
  'websocket',
  'redis',
  'supabase',
  'kimi',
  'glm',
  'constructor',
  'openai',
  'many-kinds',
];

describe('chaos: Redis Cluster', () => {
  it('a dead master (holding the types set) stops only its own types; they are written when it returns, nothing twice', async () => {
    const salt = 20;
    const keys = new KeySpace(`cm_chaos_cluster_${salt}`, true);
    const nodeOf = (key: string): TestRedis => cluster.nodeOfSlot(calculateSlot(key));
    const dead = nodeOf(keys.types);
    const onDead = TYPES.filter((t) => nodeOf(keys.forType(t).events) === dead);
    const elsewhere = TYPES.filter((t) => !onDead.includes(t));
    expect(onDead.length, 'types on the master that dies').toBeGreaterThan(0);
    expect(elsewhere.length, 'types on the masters that live').toBeGreaterThan(0);
    const clients = new Map<number, ReturnType<typeof checker>>();
    const clientOf = (port: number) =>
      clients.get(port) ?? clients.set(port, checker(port)).get(port)!;
    // Each type's keys, read on the master serving their slot.
    const read = (t: string) =>
      readType(clientOf(nodeOf(keys.forType(t).events).port), keys.forType(t));

    const clusterOptions = {
      clusterNodes: cluster.startupNodes,
      keyPrefix: keys.prefix,
      breakerFailures: 2,
      breakerResetMs: 500,
    };
    const run = await startRun({
      redisUrl: `redis://127.0.0.1:${cluster.nodes[0]?.port}`,
      salt,
      count: 10_000,
      types: TYPES,
      monitor: clusterOptions,
    });
    const m = run.monitor;
    await recordMore(run.recorder, 3_000);
    await waitUntil(() => m.getStatus().persistence.persisted > 1_000, 'writes before the kill');

    // Recording goes on through the kill.
    const duringOutage = recordMore(run.recorder, 1_500);
    const lost = await freezeAndRead(checker(dead.port), onDead, (t) => keys.forType(t));
    await dead.kill();
    const deadShard = `127.0.0.1:${dead.port}`;
    const shard = () => m.getStatus().persistence.shards.find((s) => s.shard === deadShard);
    await waitUntil(() => shard()?.circuit === 'open', 'the dead master’s circuit open', {
      timeoutMs: 10_000,
    });
    await duringOutage;
    const livingBefore = await Promise.all(
      elsewhere.map(async (t) => (await read(t)).members.length),
    );
    await recordMore(run.recorder, 2_000);
    // The other masters never wait: their types are written while it is down.
    const livingAfter = await Promise.all(
      elsewhere.map(async (t) => (await read(t)).members.length),
    );
    livingAfter.forEach((n, i) =>
      expect(n, `${elsewhere[i]} written while a master is down`).toBeGreaterThan(
        livingBefore[i] as number,
      ),
    );
    const p = m.getStatus().persistence;
    expect(p.shards.filter((s) => s.shard !== deadShard).every((s) => s.circuit === 'closed')).toBe(
      true,
    );
    expect(shard()?.queueDepth, 'its types held').toBeGreaterThan(0);
    expect(p.problems).toEqual([]);

    await dead.restart();
    await waitUntil(() => shard()?.circuit === 'closed', 'the master back', { timeoutMs: 20_000 });
    await settle(run, 30_000);

    const summary = await checkInvariants({
      monitor: m,
      ledger: run.recorder.ledger,
      read,
      ghostTypes: GHOST_TYPES,
      lost,
    });
    expect(summary.lost, 'the dead master took acknowledged events').toBeGreaterThan(0);
    await expectRecoveredOnRestart(
      m,
      read,
      () => clientOf(dead.port).smembers(keys.types),
      clusterOptions,
    );
    const heap = expectHeapBounded(run);
    expect(unhandled.list).toEqual([]);
    console.log('chaos cluster:', JSON.stringify({ ...summary, heapMb: heap.toFixed(1) }));
  });
});
