/**
 * What a window of work cost one Redis (a server or a cluster master), from its own counters:
 * CPU (`INFO cpu`, user + sys, less its idle CPU) and command time (`INFO commandstats`).
 */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

/**
 * Commands the monitor sends itself while it writes and beats; every other command it sends only
 * inside a script or a MULTI, and Redis counts those inside the script's or EXEC's own time too.
 */
const TOP_LEVEL = new Set(['evalsha', 'eval', 'multi', 'exec', 'time', 'exists', 'publish']);

/** CPU seconds and top-level command time of one Redis, now. */
export interface Sample {
  cpuS: number;
  commandUsec: number;
  /** Per command (`INFO commandstats` name): calls and µs. */
  calls: Record<string, { calls: number; usec: number }>;
  /** Epoch ms of the sample. */
  at: number;
}

/** A shard: its name and a direct connection (INFO, CONFIG RESETSTAT). */
export interface Shard {
  name: string;
  port: number;
  client: Redis;
  /** CPU seconds per second with no monitor connected (see {@link measureIdle}). */
  idleCpu: number;
}

/** Reads one Redis's CPU and command counters. */
export async function sample(client: Redis): Promise<Sample> {
  const text = await client.info('cpu', 'commandstats');
  const num = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1]);
  const calls: Sample['calls'] = {};
  let commandUsec = 0;
  for (const m of text.matchAll(/^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/gm)) {
    const name = m[1] as string;
    calls[name] = { calls: Number(m[2]), usec: Number(m[3]) };
    if (TOP_LEVEL.has(name)) commandUsec += Number(m[3]);
  }
  return { cpuS: num('used_cpu_user') + num('used_cpu_sys'), commandUsec, calls, at: Date.now() };
}

/** Measures each shard's idle CPU over `ms` (nothing of ours connected but this client). */
export async function measureIdle(shards: Shard[], ms: number): Promise<void> {
  const before = await Promise.all(shards.map((s) => sample(s.client)));
  await sleep(ms);
  const after = await Promise.all(shards.map((s) => sample(s.client)));
  shards.forEach((s, i) => {
    const b = before[i] as Sample;
    const a = after[i] as Sample;
    s.idleCpu = Math.max(0, (a.cpuS - b.cpuS) / ((a.at - b.at) / 1000));
  });
}

/** Cost of a window on one shard: CPU ms (idle removed) and top-level command ms. */
export function cost(
  shard: Shard,
  before: Sample,
  after: Sample,
): { cpuMs: number; commandMs: number } {
  const seconds = (after.at - before.at) / 1000;
  return {
    cpuMs: Math.max(0, (after.cpuS - before.cpuS - shard.idleCpu * seconds) * 1000),
    commandMs: (after.commandUsec - before.commandUsec) / 1000,
  };
}

/** The machine's load averages (1, 5, 15 min), for the output: the machine is shared. */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}
