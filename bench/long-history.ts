/**
 * Long-history benchmarks against a private redis-server. One type is given a year of traffic on
 * an injected clock (200 events an hour for the last 30 days, flushed hourly; 4,800 a day before
 * that, flushed daily), latencies spread over 5 ms … 5 s so rollups carry a full histogram. Then:
 *  1. Redis memory (`MEMORY USAGE … SAMPLES 0`): the type's keys, and bytes per minute, hour and
 *     day rollup (each resolution's fields copied into a hash of its own and measured);
 *     target ≤ 5 MB per type for 30 days of hours and a year of days;
 *  2. getTimeSeriesData for 30 days at 1 h (target median ≤ 10 ms), 7 days at 1 h, 90 and 365
 *     days at 1 d, each beside a bare HMGET of the same fields (ratio printed).
 */
import { Redis } from 'ioredis';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
import { DAY_MS, HOUR_MS, bucketStart } from '../src/core/time-series.js';
import { KeySpace, seriesField } from '../src/persistence/keys.js';
import type { Resolution } from '../src/core/time-series.js';
import { startRedis } from './_redis.js';
import { median, percentile, printTable } from './_util.js';

const redis = await startRedis();
const prefix = 'bench_long';
const TYPE = 'kimi';
const KINDS = ['request', 'response', 'response', 'response', 'error', 'timeout'];
const realNow = Date.now();
let clockNow = realNow - 365 * DAY_MS;
const seed = new ConnectionMonitor({
  redisUrl: redis.url,
  keyPrefix: prefix,
  logger: silentLogger,
  clock: { now: () => clockNow },
  batchSize: 1_000,
  maxQueueSize: 10_000,
  flushIntervalMs: 3_600_000,
  instanceId: 'bench-1',
});
await seed.start();
let n = 0;
function record(at: number): void {
  clockNow = at;
  const u = ((n * 7919) % 10_007) / 10_007;
  seed.recordEvent(TYPE, {
    kind: KINDS[n % KINDS.length] as string,
    durationMs: 5 * 2 ** (u * 10),
    metadata: { status: 200, model: 'kimi-k2' },
  });
  n++;
}
const started = performance.now();
const recent = realNow - 30 * DAY_MS;
for (let day = realNow - 365 * DAY_MS; day < recent; day += DAY_MS) {
  for (let i = 0; i < 4_800; i++) record(day + Math.floor((i / 4_800) * DAY_MS));
  await seed.flush();
}
for (let hour = recent; hour < realNow - HOUR_MS; hour += HOUR_MS) {
  for (let i = 0; i < 200; i++) record(hour + Math.floor((i / 200) * HOUR_MS));
  await seed.flush();
}
await seed.close();
console.log(
  `seeded ${n.toLocaleString('en-US')} events over 365 days in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

// 1. Memory.
const client = new Redis(redis.url);
const k = new KeySpace(prefix, false).forType(TYPE);
const usage = async (key: string) => Number(await client.memory('USAGE', key, 'SAMPLES', 0));
const fields = await client.hgetall(k.series);
const perRes: Record<string, { fields: number; bytes: number }> = {};
for (const [res, letter] of [
  ['minute', 'm:'],
  ['hour', 'h:'],
  ['day', 'd:'],
] as const) {
  const tmp = `bench_tmp:${res}`;
  const entries = Object.entries(fields).filter(([f]) => f.startsWith(letter));
  await client.hset(tmp, Object.fromEntries(entries));
  perRes[res] = { fields: entries.length, bytes: await usage(tmp) };
  await client.del(tmp);
}
const keys = {
  'series (fleet: minutes, hours, days)': k.series,
  'series of the instance (minutes, hours)': k.instanceSeries('bench-1'),
  stats: k.stats,
  'events (24 h of raw events)': k.events,
  batches: k.batches,
};
const rows: Record<string, string | number>[] = [];
let rollupBytes = 0;
for (const [what, key] of Object.entries(keys)) {
  const bytes = await usage(key);
  if (key === k.series || key === k.instanceSeries('bench-1')) rollupBytes += bytes;
  rows.push({ key: what, fields: await client.hlen(key).catch(() => 0), KiB: bytes / 1024 });
}
printTable(rows);
printTable(
  Object.entries(perRes).map(([res, v]) => ({
    resolution: res,
    rollups: v.fields,
    'bytes per rollup': Math.round(v.bytes / Math.max(1, v.fields)),
  })),
);
const mb = rollupBytes / 1024 / 1024;
console.log(
  `rollups of one type (fleet + one instance): ${mb.toFixed(2)} MB (target ≤ 5 MB): ${mb <= 5 ? 'ok' : 'OVER'}`,
);

// 2. Queries.
const m = new ConnectionMonitor({ redisUrl: redis.url, keyPrefix: prefix, logger: silentLogger });
await m.start();
const queries: [string, number, string, Resolution][] = [
  ['30 days at 1 h', 30 * DAY_MS, '1h', 'hour'],
  ['7 days at 1 h', 7 * DAY_MS, '1h', 'hour'],
  ['90 days at 1 d', 90 * DAY_MS, '1d', 'day'],
  ['365 days at 1 d', 365 * DAY_MS, '1d', 'day'],
];
const results: Record<string, string | number>[] = [];
let target = 0;
for (const [what, span, bucket, res] of queries) {
  const now = Date.now();
  const size = res === 'hour' ? HOUR_MS : DAY_MS;
  const names: string[] = [];
  for (let t = bucketStart(now - span, size); t <= now; t += size) names.push(seriesField(res, t));
  const ours: number[] = [];
  const bare: number[] = [];
  let points = 0;
  for (let r = 0; r < 60; r++) {
    // Interleaved: the bare read and ours take turns, so machine noise hits both.
    let t = performance.now();
    await client.hmget(k.series, ...names);
    bare.push(performance.now() - t);
    t = performance.now();
    const out = await m.getTimeSeriesData({ type: TYPE, from: now - span, bucketMs: bucket });
    ours.push(performance.now() - t);
    points = out.points.length;
    if (out.source !== 'redis' || out.resolution !== res) throw new Error(`${what}: not ${res}`);
  }
  ours.splice(0, 10);
  bare.splice(0, 10);
  if (what.startsWith('30 days')) target = median(ours);
  results.push({
    query: what,
    points,
    'median ms': median(ours),
    'p95 ms': percentile(ours, 0.95),
    'bare HMGET ms': median(bare),
    ratio: median(ours) / median(bare),
  });
}
printTable(results);
console.log(
  `30-day query median ${target.toFixed(2)} ms (target ≤ 10 ms): ${target <= 10 ? 'ok' : 'OVER'}`,
);
await m.close();
client.disconnect();
await redis.stop();
