/**
 * A real Redis Cluster for tests: three `redis-server --cluster-enabled yes` processes, the slots
 * split in three, met and waited on until every node says `cluster_state:ok`.
 */
import { startRedis, waitFor, type TestRedis } from './redis-server.js';

/** A running test cluster. */
export interface TestCluster {
  readonly nodes: TestRedis[];
  /** Seed nodes for `clusterNodes`. */
  readonly clusterNodes: { host: string; port: number }[];
  /** The node serving `slot`. */
  nodeOfSlot(slot: number): TestRedis;
  /** Stops every node. */
  stop(): Promise<void>;
}

const RANGES = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
] as const;

/**
 * Starts a three-master cluster. `args` go to every node (e.g. a short `cluster-node-timeout` and
 * `cluster-require-full-coverage no`, so the other masters keep serving when one dies).
 */
export async function startCluster(args: string[] = []): Promise<TestCluster> {
  const nodes = await Promise.all(
    RANGES.map(() =>
      startRedis({
        args: ['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', ...args],
      }),
    ),
  );
  await Promise.all(
    nodes.map((n, i) => n.cli('cluster', 'addslotsrange', ...RANGES[i]!.map(String))),
  );
  for (const n of nodes.slice(1))
    await nodes[0]?.cli('cluster', 'meet', '127.0.0.1', String(n.port));
  await waitFor(
    async () => {
      const infos = await Promise.all(nodes.map((n) => n.cli('cluster', 'info')));
      return infos.every(
        (i) => i.includes('cluster_state:ok') && i.includes('cluster_known_nodes:3'),
      );
    },
    20_000,
    50,
    'cluster_state:ok on all three nodes',
  );
  return {
    nodes,
    clusterNodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    nodeOfSlot(slot) {
      const i = RANGES.findIndex(([lo, hi]) => slot >= lo && slot <= hi);
      return nodes[i] as TestRedis;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
