/**
 * recordEvent cost, side by side with prom-client (the tool users would pick instead):
 * Counter.inc + Histogram.observe with labels type/kind for the same events.
 * Also: heap after 100,000 and after 10,000,000 events across 5 types (memory must stay bounded).
 * Sizes: 5 rounds × 1,000,000 events each, interleaved A/B; realistic event (type, kind,
 * duration, three metadata fields).
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
import { heapMb, median, printTable, timeLoop } from './_util.js';

const TYPES = ['websocket', 'redis', 'supabase', 'kimi', 'glm'] as const;
const KINDS = ['request', 'response', 'error', 'connect'] as const;
const N = 1_000_000;
const ROUNDS = 5;

const monitor = new ConnectionMonitor({ persistence: false, logger: silentLogger });
const registry = new Registry();
const counter = new Counter({
  name: 'bench_events_total',
  help: 'events',
  labelNames: ['type', 'kind'],
  registers: [registry],
});
const histogram = new Histogram({
  name: 'bench_duration_seconds',
  help: 'durations',
  labelNames: ['type', 'kind'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

function ours(i: number): void {
  monitor.recordEvent(TYPES[i % 5] as string, {
    kind: KINDS[i & 3] as string,
    durationMs: (i % 997) * 0.37,
    metadata: { status: 200, model: 'glm-4', region: 'eu' },
  });
}

function prom(i: number): void {
  const labels = { type: TYPES[i % 5] as string, kind: KINDS[i & 3] as string };
  counter.inc(labels);
  histogram.observe(labels, ((i % 997) * 0.37) / 1000);
}

// Warm up both paths.
timeLoop(200_000, ours);
timeLoop(200_000, prom);

const oursNs: number[] = [];
const promNs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  oursNs.push(timeLoop(N, ours));
  promNs.push(timeLoop(N, prom));
}
const a = median(oursNs);
const b = median(promNs);
printTable([
  { path: 'recordEvent (memory)', 'ns/op (median of 5)': a, 'ops/s': Math.round(1e9 / a) },
  { path: 'prom-client counter+histogram', 'ns/op (median of 5)': b, 'ops/s': Math.round(1e9 / b) },
]);
console.log(`ratio recordEvent / prom-client = ${(a / b).toFixed(3)} (target ≤ 0.5)`);

// Memory: a fresh monitor, 100k events, then up to 10M.
const mem = new ConnectionMonitor({ persistence: false, logger: silentLogger });
const record = (i: number) =>
  mem.recordEvent(TYPES[i % 5] as string, {
    kind: KINDS[i & 3] as string,
    durationMs: (i % 997) * 0.37,
    metadata: { status: 200, model: 'glm-4', region: 'eu' },
  });
for (let i = 0; i < 100_000; i++) record(i);
const heap100k = heapMb();
for (let i = 100_000; i < 10_000_000; i++) record(i);
const heap10m = heapMb();
printTable([
  { events: 100_000, 'heap MB': heap100k },
  { events: 10_000_000, 'heap MB': heap10m },
]);
console.log(`heap growth 100k → 10M = ${(heap10m - heap100k).toFixed(1)} MB (target ≤ 64 MB)`);
