/**
 * Dashboard entry: wires the status bar, type cards, charts, gauges, error bars and the history
 * viewer to the REST API and the live WebSocket. Sets `performance.mark('cm:charts-drawn')` and
 * `<html data-ready>` once the first full render is done (benchmarks and tests wait on it).
 */
import 'uplot/dist/uPlot.min.css';
import './styles/base.css';
import './styles/overview.css';
import './styles/history.css';
import './styles/responsive.css';
import { api } from './api.js';
import { adoptTokenFromUrl } from './auth.js';
import { TypeCards } from './cards.js';
import { TimeChart, type LineSpec } from './chart.js';
import { byId, el, setText } from './dom.js';
import { ErrorBars } from './error-bars.js';
import { formatCompact, formatMs, formatMsTick, formatUptime } from './format.js';
import { ThroughputGauges } from './gauges.js';
import { HistoryViewer } from './history.js';
import { LiveConnection } from './live.js';
import { LiveTail } from './live-tail.js';
import { perMinuteFactor } from './rates.js';
import { StatusBar } from './status-bar.js';
import { PERCENTILE_COLORS, typeColor } from './theme.js';
import type { ServiceStatus, StatsMap, TimeSeries } from './types.js';

/** Mark set when the first full render (status, cards, every chart, first history page) is done. */
export const FIRST_RENDER_MARK = 'cm:charts-drawn';
/** How often the charts refetch their series, ms. Live counters update every second over WS. */
const SERIES_REFRESH_MS = 10_000;

/** Range choices: span and bucket (1 min up to 6 h, 5 min for 24 h: 288 points). */
const RANGES: Record<string, { spanMs: number; bucket: string; label: string }> = {
  '15m': { spanMs: 15 * 60_000, bucket: '1m', label: 'last 15 min · 1 min buckets' },
  '1h': { spanMs: 3_600_000, bucket: '1m', label: 'last 1 h · 1 min buckets' },
  '6h': { spanMs: 6 * 3_600_000, bucket: '1m', label: 'last 6 h · 1 min buckets' },
  '24h': { spanMs: 24 * 3_600_000, bucket: '5m', label: 'last 24 h · 5 min buckets' },
};

adoptTokenFromUrl();

const statusBar = new StatusBar(byId('status-bar'), byId('banner'), byId('live'));
const cards = new TypeCards(byId('cards'));
const gauges = new ThroughputGauges(byId('gauges'));
const errorBars = new ErrorBars(byId('error-bars'));
const historyViewer = new HistoryViewer();
historyViewer.onInstance = (id) => statusBar.noteInstance(id);
const latencySelect = byId<HTMLSelectElement>('latency-type');
const tail = new LiveTail(byId('tail'));

const perMinute = { format: formatCompact, yMin: 0 };
const eventsChart = new TimeChart(byId('chart-events'), [], perMinute);
const errorsChart = new TimeChart(byId('chart-errors'), [], perMinute);
const latencyChart = new TimeChart(
  byId('chart-latency'),
  [
    { label: 'p50', color: PERCENTILE_COLORS.p50 },
    { label: 'p95', color: PERCENTILE_COLORS.p95 },
    { label: 'p99', color: PERCENTILE_COLORS.p99 },
  ],
  { format: formatMs, axisFormat: formatMsTick, isLog: true },
);

const types = new Set<string>();
/** The range comes from `?range=` (shareable links), else the checked radio (1 h). */
let rangeKey = initialRange();

function initialRange(): string {
  const wanted = new URLSearchParams(location.search).get('range');
  if (wanted !== null && wanted in RANGES) {
    const radio = document.querySelector<HTMLInputElement>(`input[name=range][value="${wanted}"]`);
    if (radio !== null) radio.checked = true;
    return wanted;
  }
  return document.querySelector<HTMLInputElement>('input[name=range]:checked')?.value ?? '1h';
}
let merged: TimeSeries | null = null;
let perType = new Map<string, TimeSeries>();
let seriesSeq = 0;
let seriesInFlight: Promise<void> | null = null;

function addTypes(names: Iterable<string>): boolean {
  let added = false;
  for (const t of names) {
    if (types.has(t)) continue;
    types.add(t);
    added = true;
    latencySelect.append(el('option', { value: t, text: t }));
  }
  if (added) cards.ensure([...types]);
  return added;
}

function renderStatus(status: ServiceStatus): void {
  statusBar.update(status);
  setText(
    byId('instance-line'),
    `${status.instance}${status.version ? ` · v${status.version}` : ''} · up ${formatUptime(status.uptimeMs)}`,
  );
}

function renderStats(stats: StatsMap): void {
  const kinds = new Set<string>();
  for (const s of Object.values(stats)) for (const k of Object.keys(s.kinds)) kinds.add(k);
  const isNewType = addTypes(Object.keys(stats));
  historyViewer.setChoices(types, kinds);
  cards.updateStats(stats);
  const rates: Record<string, number> = {};
  for (const s of Object.values(stats)) rates[s.type] = s.eventsPerSecond;
  gauges.update(rates);
  if (isNewType) void loadSeries();
}

/** Fetches the merged and per-type series of the selected range and redraws every chart. */
function loadSeries(): Promise<void> {
  seriesInFlight ??= (async () => {
    const seq = ++seriesSeq;
    const range = RANGES[rangeKey] ?? RANGES['1h']!;
    const to = Date.now();
    const from = to - range.spanMs;
    const names = [...types].sort();
    const [all, ...each] = await Promise.all([
      api.timeseries({ from, to, bucket: range.bucket }),
      ...names.map((type) => api.timeseries({ type, from, to, bucket: range.bucket })),
    ]);
    if (seq !== seriesSeq || all === undefined) return;
    merged = all;
    perType = new Map(names.map((t, i) => [t, each[i] as TimeSeries]));
    drawSeries();
    for (const node of document.querySelectorAll('.range-note')) {
      setText(
        node,
        node.closest('#chart-latency, section')?.querySelector('#chart-latency')
          ? `${range.label} · log scale`
          : range.label,
      );
    }
  })().finally(() => {
    seriesInFlight = null;
  });
  return seriesInFlight;
}

function drawSeries(): void {
  if (merged === null) return;
  const x = merged.points.map((p) => p.t);
  const { bucketMs, to } = merged;
  const names = [...perType.keys()];
  const lines: LineSpec[] = names.map((t) => ({ label: t, color: typeColor(t) }));
  const column = (type: string, pick: (p: TimeSeries['points'][number]) => number) => {
    const byT = new Map((perType.get(type)?.points ?? []).map((p) => [p.t, p]));
    return x.map((t) => {
      const p = byT.get(t);
      const factor = perMinuteFactor(t, bucketMs, to);
      return p === undefined || factor === null ? null : pick(p) * factor;
    });
  };
  eventsChart.setData([x, ...names.map((t) => column(t, (p) => p.events))], lines);
  errorsChart.setData([x, ...names.map((t) => column(t, (p) => p.errors))], lines);
  drawLatency();
  cards.updateSeries(perType);
  const totals = new Map<string, { errors: number; events: number }>();
  const bucketS = merged.bucketMs / 1000;
  for (const [type, ts] of perType) {
    let events = 0;
    let errors = 0;
    let peak = 0;
    for (const p of ts.points) {
      events += p.events;
      errors += p.errors;
      if (p.events > peak) peak = p.events;
    }
    totals.set(type, { events, errors });
    gauges.notePeak(type, peak / bucketS);
  }
  errorBars.update(totals);
}

function drawLatency(): void {
  const source = latencySelect.value === '' ? merged : perType.get(latencySelect.value);
  if (source === null || source === undefined) return;
  latencyChart.setData([
    source.points.map((p) => p.t),
    source.points.map((p) => p.p50DurationMs),
    source.points.map((p) => p.p95DurationMs),
    source.points.map((p) => p.p99DurationMs),
  ]);
}

/** Shows (or with null, hides) a problem reaching the service; separate from the degraded banner. */
function showProblem(message: string | null): void {
  const banner = byId('problem');
  banner.hidden = message === null;
  setText(banner, message ?? '');
}

async function refreshAll(): Promise<void> {
  const [status, stats] = await Promise.all([api.status(), api.stats()]);
  addTypes(status.types);
  renderStatus(status);
  renderStats(stats);
  await Promise.all([loadSeries(), historyViewer.reload()]);
  showProblem(null);
}

async function boot(): Promise<void> {
  try {
    await refreshAll();
  } catch (err) {
    console.error(err);
    showProblem(
      `Cannot load data from the service: ${err instanceof Error ? err.message : 'error'}.`,
    );
  }
  // Let the browser paint once before declaring the first render done.
  requestAnimationFrame(() => {
    performance.mark(FIRST_RENDER_MARK);
    document.documentElement.dataset.ready = 'true';
  });

  const live = new LiveConnection({
    onStats: (stats, status, dropped) => {
      renderStatus(status);
      renderStats(stats);
      tail.noteSampling(dropped);
    },
    onEvent: (event) => {
      statusBar.noteInstance(event.instance);
      tail.add(event);
    },
    onState: (state) => statusBar.setLive(state),
    onReconnected: () => void refreshAll().catch(() => undefined),
  });
  live.start();
  setInterval(() => void loadSeries().catch(() => undefined), SERIES_REFRESH_MS);
}

for (const input of document.querySelectorAll<HTMLInputElement>('input[name=range]')) {
  input.addEventListener('change', () => {
    if (!input.checked) return;
    rangeKey = input.value;
    const url = new URL(location.href);
    url.searchParams.set('range', rangeKey);
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    seriesSeq++;
    seriesInFlight = null;
    void loadSeries().catch(() => undefined);
  });
}
latencySelect.addEventListener('change', drawLatency);

void boot();
