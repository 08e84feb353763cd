/**
 * `/metrics`: a per-server prom-client Registry of prom-client's own metric classes. Every value
 * is read at scrape time (each metric's `collect()`, or `get()` for the duration histogram) from
 * the monitor (`getStats`, `getLatencyHistogram`, `getStatus`) and the service's counters, so
 * recording an event costs nothing extra here.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectionMonitor } from '../monitor.js';
import { DurationHistogram, type LatencySource } from './duration-histogram.js';

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

/** Circuit state as a number for `connection_monitor_circuit_state`. */
export const CIRCUIT_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** prom-client default metrics whose names break Prometheus conventions (gauges ending in _total). */
const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Values the hub and the routes add to the scrape. */
export interface ServiceCounters {
  wsConnections(): number;
  wsDroppedMessages(): number;
  ingestRejected(): number;
  ingestRateLimited(): number;
}

/** A gauge without labels whose value is `read()` at scrape time. */
function scrapedGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect(this: Gauge) {
      this.set(read());
    },
  });
}

/** A counter without labels whose running total is `read()` at scrape time. */
function scrapedCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect(this: Counter) {
      this.reset();
      this.inc(read());
    },
  });
}

/** Builds the registry for one server. */
export function createMetricsRegistry(
  monitor: ConnectionMonitor,
  counters: ServiceCounters,
  withProcessMetrics: boolean,
): Registry {
  const registry = new Registry();
  const persistence = () => monitor.getStatus().persistence;

  new Counter({
    name: 'connection_monitor_events_total',
    help: 'Connection events recorded, by type and kind (kinds outside the well-known set are counted as other).',
    labelNames: ['type', 'kind'],
    registers: [registry],
    collect(this: Counter<'type' | 'kind'>) {
      this.reset();
      for (const s of Object.values(monitor.getStats())) {
        for (const [kind, n] of Object.entries(s.kinds)) {
          this.inc({ type: s.type, kind: METRIC_KINDS.has(kind) ? kind : 'other' }, n);
        }
      }
    },
  });
  new Counter({
    name: 'connection_monitor_errors_total',
    help: 'Error events recorded (kind error or timeout, or carrying an error), by type.',
    labelNames: ['type'],
    registers: [registry],
    collect(this: Counter<'type'>) {
      this.reset();
      for (const s of Object.values(monitor.getStats())) this.inc({ type: s.type }, s.errors);
    },
  });
  new DurationHistogram(registry, function* (): Generator<LatencySource> {
    for (const type of monitor.getTypes()) {
      const h = monitor.getLatencyHistogram(type);
      if (h !== null) yield { type, counts: h.counts, sumMs: h.sumMs };
    }
  });
  scrapedGauge(
    registry,
    'connection_monitor_queue_depth',
    'Events waiting to be written to Redis.',
    () => persistence().queueDepth,
  );
  scrapedGauge(
    registry,
    'connection_monitor_dropped_events',
    'Events dropped since start because the Redis queue was full.',
    () => persistence().dropped,
  );
  scrapedGauge(
    registry,
    'connection_monitor_persisted_events',
    'Events confirmed written to Redis since start.',
    () => persistence().persisted,
  );
  scrapedGauge(
    registry,
    'connection_monitor_circuit_state',
    'Redis circuit breaker: 0 closed, 1 half-open, 2 open.',
    () => CIRCUIT_STATE_VALUE[persistence().circuit],
  );
  scrapedGauge(
    registry,
    'connection_monitor_ws_connections',
    'Open WebSocket connections to the service.',
    () => counters.wsConnections(),
  );
  scrapedCounter(
    registry,
    'connection_monitor_ws_dropped_messages_total',
    'Event messages not sent to slow or throttled WebSocket subscribers.',
    () => counters.wsDroppedMessages(),
  );
  scrapedCounter(
    registry,
    'connection_monitor_ingest_rejected_events_total',
    'Events rejected by POST /api/events validation.',
    () => counters.ingestRejected(),
  );
  scrapedCounter(
    registry,
    'connection_monitor_ingest_rate_limited_events_total',
    'Events of POST /api/events requests refused by the per-client ingestion rate limit (429).',
    () => counters.ingestRateLimited(),
  );
  if (withProcessMetrics) {
    collectDefaultMetrics({ register: registry });
    // prom-client names these gauges `…_total`, which Prometheus reserves for counters (promtool
    // rejects them); the same numbers stay available as nodejs_active_{handles,requests,resources}.
    for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  return registry;
}
