/**
 * Everything drawn from time series: the events/min and errors/min charts (one line per type),
 * the latency percentiles, the cards' sparklines, the gauges' peaks and the error-rate bars, with
 * the notable events of the range as markers. One load fetches the merged series and one per
 * drawn type for the chosen scope (`instance=` for one instance, none for the fleet) and range.
 */
import { api } from './api.js';
import { TimeChart, type LineSpec } from './chart.js';
import { byId, el, setText } from './dom.js';
import type { ErrorBars } from './error-bars.js';
import { formatCompact, formatMs, formatMsTick } from './format.js';
import type { ThroughputGauges } from './gauges.js';
import { NotableStore, notableMarkers } from './notable-markers.js';
import { rangeSpec, type RateUnit } from './ranges.js';
import { rateFactor } from './rates.js';
import { instanceParam, sameScope } from './scope.js';
import { PERCENTILE_COLORS, typeColor } from './theme.js';
import type { TypeOverview } from './type-overview.js';
import type { NotableEvent, Scope, TimeSeries } from './types.js';

/** Most notable events fetched for one range. */
const NOTABLE_LIMIT = 500;

/** What {@link SeriesView} draws besides its own charts. */
export interface SeriesViewDeps {
  overview: TypeOverview;
  gauges: ThroughputGauges;
  errorBars: ErrorBars;
}

/** The charts of the selected scope and range. */
export class SeriesView {
  /** Notable events of the range and scope, marked on every chart. */
  readonly notable = new NotableStore();
  private readonly latencySelect = byId<HTMLSelectElement>('latency-type');
  private readonly eventsChart: TimeChart;
  private readonly errorsChart: TimeChart;
  private readonly latencyChart: TimeChart;
  private merged: TimeSeries | null = null;
  private perType = new Map<string, TimeSeries>();
  private readonly latencyTypes = new Set<string>();
  private seq = 0;
  private inFlight: Promise<void> | null = null;
  private scope: Scope = { kind: 'fleet' };
  private rangeKey = '1h';
  /** When the scope or range shown was chosen (`performance.now()`), until its first draw. */
  private selectedAt: number | null = null;
  /** The types of the last load (the lines drawn). */
  private drawnTypes: readonly string[] = [];

  constructor(private readonly deps: SeriesViewDeps) {
    const markers = notableMarkers(this.notable);
    const perMinute = { format: formatCompact, yMin: 0, plugins: [markers] };
    this.eventsChart = new TimeChart(byId('chart-events'), [], perMinute);
    this.errorsChart = new TimeChart(byId('chart-errors'), [], {
      ...perMinute,
      plugins: [notableMarkers(this.notable)],
    });
    this.latencyChart = new TimeChart(
      byId('chart-latency'),
      [
        { label: 'p50', color: PERCENTILE_COLORS.p50 },
        { label: 'p95', color: PERCENTILE_COLORS.p95 },
        { label: 'p99', color: PERCENTILE_COLORS.p99 },
      ],
      {
        format: formatMs,
        axisFormat: formatMsTick,
        isLog: true,
        plugins: [notableMarkers(this.notable)],
      },
    );
    this.latencySelect.addEventListener('change', () => {
      const type = this.latencySelect.value;
      // A type the charts do not draw (many types) is fetched on demand.
      if (type === '' || this.perType.has(type)) this.drawLatency();
      else void this.load(this.drawnTypes).catch(() => undefined);
    });
  }

  /** The type chosen for the latency chart ('' for all types); always fetched with the rest. */
  get latencyType(): string {
    return this.latencySelect.value;
  }

  /** Adds types to the latency chart's choices. */
  addTypes(types: Iterable<string>): void {
    for (const t of types) {
      if (this.latencyTypes.has(t)) continue;
      this.latencyTypes.add(t);
      this.latencySelect.append(el('option', { value: t, text: t }));
    }
  }

  /** Shows `scope` and `rangeKey` from the next load on (a load in flight is discarded). */
  select(scope: Scope, rangeKey: string): void {
    if (sameScope(scope, this.scope) && rangeKey === this.rangeKey) return;
    this.scope = scope;
    this.rangeKey = rangeKey;
    this.selectedAt = performance.now();
    this.seq++;
    this.inFlight = null;
  }

  /** A notable event pushed live: marked when it concerns the scope shown. */
  addNotable(event: NotableEvent): void {
    if (this.isInScope(event)) this.notable.add(event);
  }

  /**
   * Fetches the merged series and one per type of `types` (plus the latency chart's type) of the
   * selected scope and range, and the range's notable events, then redraws everything.
   */
  load(types: readonly string[]): Promise<void> {
    this.drawnTypes = types;
    this.inFlight ??= this.fetchAndDraw(types).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async fetchAndDraw(types: readonly string[]): Promise<void> {
    const seq = ++this.seq;
    const range = rangeSpec(this.rangeKey);
    const to = Date.now();
    const from = to - range.spanMs;
    const instance = instanceParam(this.scope);
    const wanted = new Set(types);
    if (this.latencyType !== '') wanted.add(this.latencyType);
    const names = [...wanted].sort();
    const q = { from, to, bucket: range.bucket, instance };
    const [notable, all, ...each] = await Promise.all([
      // Markers are extra: a service without notable events still draws its charts.
      api.notable({ from, to, limit: NOTABLE_LIMIT }).catch(() => null),
      api.timeseries(q),
      ...names.map((type) => api.timeseries({ ...q, type })),
    ]);
    if (seq !== this.seq) return;
    this.merged = all;
    this.perType = new Map(names.map((t, i) => [t, each[i] as TimeSeries]));
    if (notable !== null) this.notable.set(notable.events.filter((e) => this.isInScope(e)));
    this.draw(types, range.rate);
    // Clipped by more than a bucket: the resolution read keeps less than the range (one instance
    // keeps no days, so its 90 days stop at the hour retention).
    const isClipped = all.clipped && all.from - from > all.bucketMs;
    const isNotableCapped = notable !== null && notable.events.length >= NOTABLE_LIMIT;
    const note = `${range.label}${isClipped ? ' · clipped to what is kept' : ''}`;
    for (const node of document.querySelectorAll('.range-note')) {
      const section = node.closest('section');
      const isLatency = section?.querySelector('#chart-latency') != null;
      const hasMarkers = isNotableCapped && section?.querySelector('.chart') != null;
      const markers = hasMarkers ? ` · newest ${NOTABLE_LIMIT} notable events marked` : '';
      setText(node, `${note}${isLatency ? ' · log scale' : ''}${markers}`);
    }
    for (const [id, what] of [
      ['events-title', 'Events'],
      ['errors-title', 'Errors'],
    ] as const) {
      setText(byId(id), `${what} / ${range.rate.label}`);
    }
    const scopeText = this.scope.kind === 'fleet' ? 'fleet' : this.scope.id;
    for (const id of ['chart-events', 'chart-errors', 'chart-latency']) {
      const node = byId(id);
      node.dataset.range = this.rangeKey;
      node.dataset.scope = scopeText;
    }
    this.measureFirstDraw();
  }

  /**
   * After the first draw of a chosen scope or range, the next frame records
   * `performance.measure('cm:series-drawn:<range>')` from the choice to the drawn charts
   * (benchmarks and tests read it).
   */
  private measureFirstDraw(): void {
    const start = this.selectedAt;
    if (start === null) return;
    this.selectedAt = null;
    const name = `cm:series-drawn:${this.rangeKey}`;
    requestAnimationFrame(() => performance.measure(name, { start, end: performance.now() }));
  }

  private isInScope(e: NotableEvent): boolean {
    return this.scope.kind === 'fleet' || e.instance === this.scope.id;
  }

  private draw(types: readonly string[], rate: RateUnit): void {
    const merged = this.merged;
    if (merged === null) return;
    const x = merged.points.map((p) => p.t);
    const { bucketMs, to } = merged;
    const names = types.filter((t) => this.perType.has(t)).sort();
    const lines: LineSpec[] = names.map((t) => ({ label: t, color: typeColor(t) }));
    const column = (type: string, pick: (p: TimeSeries['points'][number]) => number) => {
      const byT = new Map((this.perType.get(type)?.points ?? []).map((p) => [p.t, p]));
      return x.map((t) => {
        const p = byT.get(t);
        const factor = rateFactor(t, bucketMs, to, rate.ms);
        return p === undefined || factor === null ? null : pick(p) * factor;
      });
    };
    this.eventsChart.setData([x, ...names.map((t) => column(t, (p) => p.events))], lines);
    this.errorsChart.setData([x, ...names.map((t) => column(t, (p) => p.errors))], lines);
    this.drawLatency();
    const drawn = new Map(names.map((t) => [t, this.perType.get(t) as TimeSeries]));
    this.deps.overview.updateSeries(drawn);
    const totals = new Map<string, { errors: number; events: number }>();
    const bucketS = bucketMs / 1000;
    for (const [type, ts] of drawn) {
      let events = 0;
      let errors = 0;
      let peak = 0;
      for (const p of ts.points) {
        events += p.events;
        errors += p.errors;
        if (p.events > peak) peak = p.events;
      }
      totals.set(type, { events, errors });
      this.deps.gauges.notePeak(type, peak / bucketS);
    }
    this.deps.errorBars.update(totals);
  }

  private drawLatency(): void {
    const type = this.latencyType;
    const source = type === '' ? this.merged : this.perType.get(type);
    if (source === null || source === undefined) return;
    this.latencyChart.setData([
      source.points.map((p) => p.t),
      source.points.map((p) => p.p50DurationMs),
      source.points.map((p) => p.p95DurationMs),
      source.points.map((p) => p.p99DurationMs),
    ]);
  }
}
