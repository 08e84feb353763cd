/**
 * Benchmark helpers: a private redis-server on a free port (same helper the tests use), and a
 * private Redis Cluster made the way an operator makes one (`redis-server --cluster-enabled yes`
 * per master, then `redis-cli --cluster create`).
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeNodePorts, startRedis, type TestRedis } from '../test/helpers/redis-server.js';

export { startRedis, type TestRedis };

/** A running benchmark cluster. */
export interface BenchCluster {
  /** The masters. */
  readonly nodes: readonly TestRedis[];
  /** Every node as `{ host, port }` (the monitor's `clusterNodes`). */
  readonly startupNodes: { host: string; port: number }[];
  /** Stops every node. */
  stop(): Promise<void>;
}

/** Starts `masters` cluster-enabled servers, joins them with `redis-cli --cluster create`. */
export async function startCluster(masters: number): Promise<BenchCluster> {
  const ports = await freeNodePorts(masters);
  const nodes = await Promise.all(
    ports.map((port) =>
      startRedis({
        port,
        args: ['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1'],
      }),
    ),
  );
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  const created = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (created.status !== 0) {
    await stop();
    throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
  }
  const until = Date.now() + 20_000;
  for (;;) {
    const infos = await Promise.all(nodes.map((n) => n.cli('cluster', 'info')));
    if (infos.every((i) => i.includes('cluster_state:ok'))) break;
    if (Date.now() > until) {
      await stop();
      throw new Error('the cluster did not reach cluster_state:ok in 20 s');
    }
    await sleep(50);
  }
  return {
    nodes,
    startupNodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    stop,
  };
}
