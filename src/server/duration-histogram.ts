/**
 * `connection_monitor_event_duration_seconds`: the monitor's per-type log-scale latency
 * histograms, exported as a prom-client `Histogram` read at scrape time.
 */
import { Histogram, type MetricType, type Registry } from 'prom-client';
import { bucketUpperMs } from '../core/histogram.js';

/** `le` bounds of the duration histogram, seconds. */
export const DURATION_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/** One type's all-time latency histogram, as `monitor.getLatencyHistogram` returns it. */
export interface LatencySource {
  readonly type: string;
  /** Counts per log-scale bucket (see `bucketUpperMs`). */
  readonly counts: readonly number[];
  readonly sumMs: number;
}

/**
 * Maps the monitor's fine log-scale latency buckets onto {@link DURATION_BUCKETS_S}: a log bucket
 * counts toward the first `le` at or above its upper bound, so a bucket is never under-reported
 * (a value may be counted one Prometheus bucket high when its log bucket straddles a bound).
 * Returns cumulative counts; the last entry is `+Inf`.
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
  for (let k = 1; k < out.length; k++) out[k] = (out[k] ?? 0) + (out[k - 1] ?? 0);
  return out;
}

type Snapshot = Awaited<ReturnType<Histogram<'type'>['get']>>;

/**
 * A prom-client `Histogram` whose samples come from the monitor at scrape time instead of from
 * `observe()`.
 *
 * Why a subclass overriding `get()`: prom-client has no public way to set a histogram's bucket
 * counts. Replaying the monitor's counts through `observe()` (one call per observation) would
 * cost O(events) per scrape and could only approximate `_sum` from bucket bounds, while the
 * monitor knows the exact sum. `get()` is the public method through which every consumer
 * (`registry.metrics()`, `getMetricsAsJSON()`, the cluster aggregator) reads a metric, so
 * overriding it keeps a real `Histogram` (name and label validation, registry bookkeeping, no
 * duck-typed object) and costs O(types × buckets) per scrape, nothing per recorded event.
 * prom-client's registry prefers the metric's undocumented `getForPromString()` for the text
 * format, so that is routed to the same `get()`.
 */
export class DurationHistogram extends Histogram<'type'> {
  private readonly readSources: () => Iterable<LatencySource>;

  constructor(registry: Registry, readSources: () => Iterable<LatencySource>) {
    super({
      name: 'connection_monitor_event_duration_seconds',
      help: 'Duration of connection events that carry one, by type.',
      labelNames: ['type'],
      buckets: [...DURATION_BUCKETS_S],
      registers: [registry],
    });
    this.readSources = readSources;
  }

  /** The samples: `_bucket` per `le` and `+Inf`, `_sum` and `_count`, per type with durations. */
  override async get(): Promise<Snapshot> {
    const name = 'connection_monitor_event_duration_seconds';
    const values: Snapshot['values'] = [];
    for (const { type, counts, sumMs } of this.readSources()) {
      const cumulative = toPrometheusBuckets(counts);
      const total = cumulative[DURATION_BUCKETS_S.length] ?? 0;
      if (total === 0) continue;
      const bucket = (le: number | string, value: number) => {
        const labels: Record<string, string | number> = { type, le };
        values.push({ metricName: `${name}_bucket`, labels, value });
      };
      DURATION_BUCKETS_S.forEach((le, k) => bucket(le, cumulative[k] ?? 0));
      bucket('+Inf', total);
      values.push({ metricName: `${name}_sum`, labels: { type }, value: sumMs / 1000 });
      values.push({ metricName: `${name}_count`, labels: { type }, value: total });
    }
    return {
      name,
      help: 'Duration of connection events that carry one, by type.',
      // prom-client's typings declare a numeric enum here; its registry prints this string.
      type: 'histogram' as unknown as MetricType,
      aggregator: 'sum',
      collect: () => {},
      values,
    };
  }

  /** What prom-client's registry reads for the text format; the same as {@link get}. */
  getForPromString(): Promise<Snapshot> {
    return this.get();
  }
}
