/**
 * Fleet benchmark: N producer processes (N = 1, 2, 4, 8; `_fleet-producer.ts`, each a
 * ConnectionMonitor on default settings: batch 100, flush 5 s, queue 1,000, heartbeat 5 s) each
 * record 1,000 realistic events/s (6 types, timer-paced) for 6 s into one private redis-server,
 * then into a private 3-master Redis Cluster (`redis-cli --cluster create`; the 6 types hash two
 * per master). Per run: events/s persisted, drops, and per shard the Redis CPU (`INFO cpu`, less
 * the shard's idle CPU measured first) and command time (`INFO commandstats`, top-level commands
 * only: EVALSHA, MULTI/EXEC, TIME, EXISTS — a script's or a transaction's inner commands are
 * counted inside it), per 1,000 events. Ratio: cost per 1,000 events against N = 1 in the same
 * run. N = 8 runs again with a 10,000-event queue (stalls of a busy machine vs what Redis cannot
 * take). Projection, from the last run that persisted what it was offered (same N): events/s
 * and instances at 1,000 (and 100) events/s one shard carries at 50 % of a core. The heartbeat's
 * own cost is `fleet-heartbeat.ts`.
 *
 * Bounded: 8 producer processes at most, 10 runs of 6 s (~100 s in all).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { KeySpace } from '../src/persistence/keys.js';
import type { FleetProducerStart } from './_fleet-producer.js';
import { BENCH_TYPES } from './_paced.js';
import { cost, loadAverage, measureIdle, sample, type Sample, type Shard } from './_redis-cost.js';
import { startCluster, startRedis } from './_redis.js';
import { printTable } from './_util.js';

/** Events per second each producer records. */
const RATE = 1_000;
const SECONDS = 6;
const COUNTS = [1, 2, 4, 8];
const TYPES = [...BENCH_TYPES];
/** The target CPU of a shard for the projection (headroom for bursts and reads). */
const SHARD_TARGET = 0.5;
/** The producers' queue in the extra run of the largest fleet. */
const BIG_QUEUE = 10_000;

const label = (r: { n: number; maxQueueSize: number | undefined }) =>
  r.maxQueueSize === undefined
    ? String(r.n)
    : `${r.n}, queue ${r.maxQueueSize.toLocaleString('en-US')}`;

/** One producer process. */
class Producer {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (value: unknown) => void>();

  constructor() {
    const file = fileURLToPath(new URL('./_fleet-producer.ts', import.meta.url));
    this.child = spawn(process.execPath, ['--import', 'tsx', file], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      for (const [key, value] of Object.entries(JSON.parse(line) as Record<string, unknown>)) {
        this.waiting.get(key)?.(value);
        this.waiting.delete(key);
      }
    });
  }

  /** Sends `message` and resolves with the value of the answer's `key`. */
  ask<T>(message: object, key: string): Promise<T> {
    const answer = new Promise<T>((resolve) => this.waiting.set(key, resolve as never));
    this.child.stdin?.write(`${JSON.stringify(message)}\n`);
    return answer;
  }

  /** Asks it to exit; SIGKILL (by its PID) if it has not after 5 s. */
  async exit(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin?.write('{"op":"exit"}\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

interface Target {
  name: string;
  redisUrl: string;
  clusterNodes?: { host: string; port: number }[];
  shards: Shard[];
  /** Events stored per shard under `prefix`, from each type's stats hash. */
  eventsPerShard(prefix: string, persisted: number): Promise<number[]>;
}

interface RunResult {
  n: number;
  /** The producers' `maxQueueSize` (undefined: the default, 1,000). */
  maxQueueSize: number | undefined;
  persistedPerS: number;
  dropped: number;
  /** The producers' own CPU, summed, as a share of one core. */
  producerCpu: number;
  perShard: { events: number; cpuMs: number; commandMs: number; seconds: number }[];
}

async function run(
  target: Target,
  producers: Producer[],
  n: number,
  maxQueueSize?: number,
): Promise<RunResult> {
  const keyPrefix = `bench_fleet_${n}_${maxQueueSize ?? 'default'}`;
  const used = producers.slice(0, n);
  await Promise.all(
    used.map((p, i) =>
      p.ask(
        {
          op: 'start',
          redisUrl: target.redisUrl,
          clusterNodes: target.clusterNodes,
          keyPrefix,
          instanceId: `bench-${i}`,
          types: TYPES,
          rate: RATE,
          seconds: SECONDS,
          maxQueueSize,
        } satisfies FleetProducerStart,
        'ready',
      ),
    ),
  );
  await Promise.all(target.shards.map((s) => s.client.config('RESETSTAT')));
  const before = await Promise.all(target.shards.map((s) => sample(s.client)));
  const done = await Promise.all(
    used.map((p) =>
      p.ask<{
        sent: number;
        persisted: number;
        dropped: number;
        elapsedMs: number;
        cpuMs: number;
      }>({ op: 'go' }, 'done'),
    ),
  );
  const after = await Promise.all(target.shards.map((s) => sample(s.client)));
  await Promise.all(used.map((p) => p.ask({ op: 'close' }, 'closed')));
  const persisted = done.reduce((sum, d) => sum + d.persisted, 0);
  const events = await target.eventsPerShard(keyPrefix, persisted);
  return {
    n,
    maxQueueSize,
    persistedPerS: persisted / (Math.max(...done.map((d) => d.elapsedMs)) / 1000),
    dropped: done.reduce((sum, d) => sum + d.dropped, 0),
    producerCpu:
      done.reduce((sum, d) => sum + d.cpuMs, 0) / Math.max(...done.map((d) => d.elapsedMs)),
    perShard: target.shards.map((s, i) => ({
      events: events[i] as number,
      seconds: ((after[i] as Sample).at - (before[i] as Sample).at) / 1000,
      ...cost(s, before[i] as Sample, after[i] as Sample),
    })),
  };
}

/** Prints one target's runs and returns the projection's inputs. */
function report(target: Target, results: RunResult[]): { cpuMsPer1k: number; run: string } {
  console.log(
    `\n${target.name}: ${RATE.toLocaleString('en-US')} events/s per producer, ${SECONDS} s`,
  );
  printTable(
    results.map((r) => ({
      producers: label(r),
      'offered events/s': r.n * RATE,
      'persisted events/s': Math.round(r.persistedPerS),
      'persisted / offered': (r.persistedPerS / (r.n * RATE)).toFixed(2),
      dropped: r.dropped,
      'producers CPU, % of a core': `${(r.producerCpu * 100).toFixed(0)} %`,
    })),
  );
  const perShard = (r: RunResult, i: number) => {
    const s = r.perShard[i] as RunResult['perShard'][number];
    return {
      ...s,
      cpuPer1k: (s.cpuMs / s.events) * 1000,
      cmdPer1k: (s.commandMs / s.events) * 1000,
    };
  };
  const rows: Record<string, string | number>[] = [];
  for (const r of results) {
    target.shards.forEach((shard, i) => {
      const s = perShard(r, i);
      const base = perShard(results[0] as RunResult, i);
      rows.push({
        producers: label(r),
        shard: shard.name,
        events: s.events,
        'CPU % of a core': `${((s.cpuMs / 1000 / s.seconds) * 100).toFixed(1)} %`,
        'CPU ms / 1k events': s.cpuPer1k,
        'command ms / 1k events': s.cmdPer1k,
        'CPU / 1k vs N=1': (s.cpuPer1k / base.cpuPer1k).toFixed(2),
      });
    });
  }
  printTable(rows);
  // The projection uses the last (largest) run that persisted (nearly) all it was offered.
  const last = results.filter((r) => r.persistedPerS >= 0.98 * r.n * RATE).at(-1) as RunResult;
  const cpuMs = last.perShard.reduce((sum, s) => sum + s.cpuMs, 0);
  const events = last.perShard.reduce((sum, s) => sum + s.events, 0);
  return { cpuMsPer1k: (cpuMs / events) * 1000, run: label(last) };
}

// --- The fleet runs -----------------------------------------------------------------------------

console.log(`load average at start: ${loadAverage()} (2 cores)`);
const producers = Array.from({ length: Math.max(...COUNTS) }, () => new Producer());
const projections: Record<string, string | number>[] = [];
let baseCpuMsPer1k: number | undefined;
const redis = await startRedis();
const cluster = await startCluster(3);
try {
  const standalone: Target = {
    name: 'one Redis',
    redisUrl: redis.url,
    shards: [
      { name: `redis :${redis.port}`, port: redis.port, client: new Redis(redis.url), idleCpu: 0 },
    ],
    eventsPerShard: (_prefix, persisted) => Promise.resolve([persisted]),
  };
  const clusterClient = new Cluster(cluster.startupNodes);
  const shards: Shard[] = cluster.nodes.map((n, i) => ({
    name: `master ${i + 1} :${n.port}`,
    port: n.port,
    client: new Redis(n.port, '127.0.0.1'),
    idleCpu: 0,
  }));
  const slotRanges = (await shards[0]?.client.cluster('SLOTS')) ?? [];
  const shardOfSlot = (slot: number) => {
    const range = slotRanges.find(([from, to]) => slot >= from && slot <= to);
    return shards.findIndex((s) => s.port === range?.[2]?.[1]);
  };
  const clustered: Target = {
    name: 'a 3-master Redis Cluster',
    redisUrl: `redis://127.0.0.1:${cluster.nodes[0]?.port}`,
    clusterNodes: cluster.startupNodes,
    shards,
    async eventsPerShard(prefix) {
      const out = shards.map(() => 0);
      const keys = new KeySpace(prefix, true);
      for (const type of TYPES) {
        const key = keys.forType(type).stats;
        const slot = Number(await clusterClient.cluster('KEYSLOT', key));
        const i = shardOfSlot(slot);
        out[i] = (out[i] ?? 0) + Number((await clusterClient.hget(key, 'events')) ?? 0);
      }
      return out;
    },
  };
  for (const target of [standalone, clustered]) {
    await measureIdle(target.shards, 2_000);
    const results: RunResult[] = [];
    for (const n of COUNTS) results.push(await run(target, producers, n));
    // The largest fleet again with a deeper queue: drops from stalls of a busy machine (the
    // default queue holds 1 s at this rate) told apart from what Redis cannot take.
    results.push(await run(target, producers, Math.max(...COUNTS), BIG_QUEUE));
    const { cpuMsPer1k, run: from } = report(target, results);
    const perShardEventsPerS = (SHARD_TARGET * 1_000_000) / cpuMsPer1k;
    baseCpuMsPer1k ??= cpuMsPer1k;
    projections.push({
      'measured on': target.name,
      'from the run of N =': from,
      'CPU ms / 1k events': cpuMsPer1k,
      'vs one Redis': (cpuMsPer1k / baseCpuMsPer1k).toFixed(2),
      'events/s per shard at 50 % CPU': Math.round(perShardEventsPerS),
      [`instances at ${RATE.toLocaleString('en-US')}/s per shard`]: Math.floor(
        perShardEventsPerS / RATE,
      ),
      'instances at 100/s per shard': Math.floor(perShardEventsPerS / 100),
    });
  }
  console.log(
    '\nProjection (cost per event per shard; a cluster of K shards carries K× when its types spread evenly):',
  );
  printTable(projections);
  clusterClient.disconnect();
  for (const s of [...standalone.shards, ...shards]) s.client.disconnect();
} finally {
  await Promise.all(producers.map((p) => p.exit()));
  await cluster.stop();
  await redis.stop();
}

console.log(`load average at the end: ${loadAverage()}`);
