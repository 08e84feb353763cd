/**
 * `/metrics`: a per-server prom-client Registry whose values are all read at scrape time from the
 * monitor (`getStats`, `getLatencyHistogram`, `getStatus`), so recording an event costs nothing
 * extra here.
 */
import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { bucketUpperMs } from '../core/histogram.js';
import type { ConnectionMonitor } from '../monitor.js';

/** Kinds exported under their own label value; any other kind is counted as `other`. */
export const METRIC_KINDS: ReadonlySet<string> = new Set([
  'connect',
  'disconnect',
  'request',
  'response',
  'error',
  'timeout',
  'reconnect',
]);

/** `le` bounds of the duration histogram, seconds. */
export const DURATION_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/** Circuit state as a number for `connection_monitor_circuit_state`. */
export const CIRCUIT_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** prom-client default metrics whose names break Prometheus conventions (gauges ending in _total). */
const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

interface Sample {
  metricName?: string;
  labels?: Record<string, string>;
  value: number;
}

/** Values the hub and the routes add to the scrape. */
export interface ServiceCounters {
  wsConnections(): number;
  wsDroppedMessages(): number;
  ingestRejected(): number;
}

/**
 * Registers a metric whose samples are produced by `collect` at scrape time. prom-client formats
 * any object with `name`, `help`, `type` and `get()`; its own classes would make us copy every
 * value into them first.
 */
function register(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  collect: () => Sample[],
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => Promise.resolve({ name, help, type, aggregator: 'sum', values: collect() }),
    reset: () => {},
  };
  registry.registerMetric(metric as unknown as Metric);
}

/**
 * Maps the monitor's fine log-scale latency buckets onto {@link DURATION_BUCKETS_S}: a log bucket
 * counts toward the first `le` at or above its upper bound, so a bucket is never under-reported
 * (a value may be counted one Prometheus bucket high when its log bucket straddles a bound).
 */
export function toPrometheusBuckets(counts: readonly number[]): number[] {
  const out = new Array<number>(DURATION_BUCKETS_S.length + 1).fill(0);
  let j = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c === 0) continue;
    const upperS = bucketUpperMs(i) / 1000;
    while (j < DURATION_BUCKETS_S.length && (DURATION_BUCKETS_S[j] as number) < upperS) j++;
    out[j] = (out[j] ?? 0) + c;
  }
  // Cumulative counts; the last entry is +Inf.
  for (let k = 1; k < out.length; k++) out[k] = (out[k] ?? 0) + (out[k - 1] ?? 0);
  return out;
}

/** Builds the registry for one server. */
export function createMetricsRegistry(
  monitor: ConnectionMonitor,
  counters: ServiceCounters,
  withProcessMetrics: boolean,
): Registry {
  const registry = new Registry();
  const status = () => monitor.getStatus().persistence;

  register(
    registry,
    'connection_monitor_events_total',
    'Connection events recorded, by type and kind (kinds outside the well-known set are counted as other).',
    'counter',
    () => {
      const out: Sample[] = [];
      for (const s of Object.values(monitor.getStats())) {
        const byKind = new Map<string, number>();
        for (const [kind, n] of Object.entries(s.kinds)) {
          const label = METRIC_KINDS.has(kind) ? kind : 'other';
          byKind.set(label, (byKind.get(label) ?? 0) + n);
        }
        for (const [kind, n] of byKind) out.push({ labels: { type: s.type, kind }, value: n });
      }
      return out;
    },
  );
  register(
    registry,
    'connection_monitor_errors_total',
    'Error events recorded (kind error or timeout, or carrying an error), by type.',
    'counter',
    () =>
      Object.values(monitor.getStats()).map((s) => ({ labels: { type: s.type }, value: s.errors })),
  );
  register(
    registry,
    'connection_monitor_event_duration_seconds',
    'Duration of connection events that carry one, by type.',
    'histogram',
    () => {
      const out: Sample[] = [];
      const name = 'connection_monitor_event_duration_seconds';
      for (const type of monitor.getTypes()) {
        const h = monitor.getLatencyHistogram(type);
        if (h === null || h.count === 0) continue;
        const cumulative = toPrometheusBuckets(h.counts);
        DURATION_BUCKETS_S.forEach((le, k) => {
          out.push({
            metricName: `${name}_bucket`,
            labels: { type, le: String(le) },
            value: cumulative[k] ?? 0,
          });
        });
        const total = cumulative[DURATION_BUCKETS_S.length] ?? 0;
        out.push({ metricName: `${name}_bucket`, labels: { type, le: '+Inf' }, value: total });
        out.push({ metricName: `${name}_sum`, labels: { type }, value: h.sumMs / 1000 });
        out.push({ metricName: `${name}_count`, labels: { type }, value: total });
      }
      return out;
    },
  );
  register(
    registry,
    'connection_monitor_queue_depth',
    'Events waiting to be written to Redis.',
    'gauge',
    () => [{ value: status().queueDepth }],
  );
  register(
    registry,
    'connection_monitor_dropped_events',
    'Events dropped since start because the Redis queue was full.',
    'gauge',
    () => [{ value: status().dropped }],
  );
  register(
    registry,
    'connection_monitor_persisted_events',
    'Events confirmed written to Redis since start.',
    'gauge',
    () => [{ value: status().persisted }],
  );
  register(
    registry,
    'connection_monitor_circuit_state',
    'Redis circuit breaker: 0 closed, 1 half-open, 2 open.',
    'gauge',
    () => [{ value: CIRCUIT_STATE_VALUE[status().circuit] }],
  );
  register(
    registry,
    'connection_monitor_ws_connections',
    'Open WebSocket connections to the service.',
    'gauge',
    () => [{ value: counters.wsConnections() }],
  );
  register(
    registry,
    'connection_monitor_ws_dropped_messages_total',
    'Event messages not sent to slow or throttled WebSocket subscribers.',
    'counter',
    () => [{ value: counters.wsDroppedMessages() }],
  );
  register(
    registry,
    'connection_monitor_ingest_rejected_events_total',
    'Events rejected by POST /api/events validation.',
    'counter',
    () => [{ value: counters.ingestRejected() }],
  );
  if (withProcessMetrics) {
    collectDefaultMetrics({ register: registry });
    // prom-client names these gauges `…_total`, which Prometheus reserves for counters (promtool
    // rejects them); the same numbers stay available as nodejs_active_{handles,requests,resources}.
    for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  return registry;
}
