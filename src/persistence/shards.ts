/**
 * Which shard serves a key: the whole server in standalone mode, the master serving the key's
 * slot in cluster mode (ioredis's public slot map), and the connection that reaches it.
 */
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import type { MonitorRedis } from './client.js';

/** The shard of a standalone server, and of a cluster whose slot map is not known yet. */
export const DEFAULT_SHARD = 'redis';

/** `redis`, or the `host:port` of the master serving `key`'s slot. */
export function shardOfKey(client: MonitorRedis, key: string): string {
  if (!(client instanceof Cluster)) return DEFAULT_SHARD;
  return client.slots[calculateSlot(key)]?.[0] ?? DEFAULT_SHARD;
}

/** The client that reaches `shard`: the master's own connection in cluster mode. */
export function clientOfShard(client: MonitorRedis, shard: string): { ping(): Promise<string> } {
  if (!(client instanceof Cluster)) return client;
  const node = client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === shard);
  return node ?? client;
}
