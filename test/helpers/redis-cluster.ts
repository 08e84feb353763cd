/** A real Redis Cluster for a test file: fresh redis-server processes, all slots served. */
import { freeNodePorts, startRedis, type TestRedis } from './redis-server.js';
import { waitUntil } from './wait.js';

/** Hash slots in a Redis Cluster. */
const SLOTS = 16_384;

/** Node i of `masters` serves the slots up to this one, as `redis-cli --cluster create` splits them. */
function lastSlot(i: number, masters: number): number {
  return i === masters - 1 ? SLOTS - 1 : Math.round(((i + 1) * SLOTS) / masters - 1);
}

/** A running test cluster. */
export interface TestRedisCluster {
  /** The masters, in slot order. */
  readonly nodes: readonly TestRedis[];
  /** Every node as `{ host, port }`, as ioredis's `Cluster` and the monitor's `clusterNodes` take them. */
  readonly startupNodes: { host: string; port: number }[];
  /** The master serving `slot`. */
  nodeOfSlot(slot: number): TestRedis;
  /** Stops every node. */
  stop(): Promise<void>;
}

/**
 * Starts `masters` cluster-enabled servers, splits the slots between them as `redis-cli --cluster
 * create` does, joins them and waits until every node reports `cluster_state:ok`. `args` go to
 * every node (e.g. a short `cluster-node-timeout` and `cluster-require-full-coverage no`, so the
 * other masters keep serving when one dies).
 */
export async function startRedisCluster(
  masters: number,
  args: readonly string[] = [],
): Promise<TestRedisCluster> {
  const ports = await freeNodePorts(masters);
  const started = await Promise.allSettled(
    ports.map((port) =>
      startRedis({
        port,
        args: ['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', ...args],
      }),
    ),
  );
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;

    await Promise.all(
      nodes.map((n, i) => {
        const first = i === 0 ? 0 : lastSlot(i - 1, masters) + 1;
        return n.cli('cluster', 'addslotsrange', String(first), String(lastSlot(i, masters)));
      }),
    );
    const [seed, ...others] = nodes;
    for (const n of others) await seed?.cli('cluster', 'meet', '127.0.0.1', String(n.port));
    await waitUntil(
      async () => {
        const infos = await Promise.all(nodes.map((n) => n.cli('cluster', 'info')));
        return infos.every(
          (i) => i.includes('cluster_state:ok') && i.includes(`cluster_known_nodes:${masters}`),
        );
      },
      `cluster_state:ok on all ${masters} nodes`,
      { timeoutMs: 20_000, intervalMs: 50 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes,
    startupNodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    nodeOfSlot: (slot) => nodes.find((_, i) => slot <= lastSlot(i, masters)) as TestRedis,
    stop,
  };
}
