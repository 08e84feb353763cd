/**
 * Dashboard entry: wires the instance picker, status bar, type cards (or the compact table),
 * instances table, charts, gauges, error bars and the history viewer to the REST API and the live
 * WebSocket, for the chosen scope (the fleet or one instance) and range. Sets
 * `performance.mark('cm:charts-drawn')` and `<html data-ready>` once the first full render is
 * done (benchmarks and tests wait on it).
 */
import 'uplot/dist/uPlot.min.css';
import './styles/base.css';
import './styles/overview.css';
import './styles/panels.css';
import './styles/fleet.css';
import './styles/history.css';
import './styles/responsive.css';
import { api } from './api.js';
import { adoptTokenFromUrl } from './auth.js';
import { byId, setText } from './dom.js';
import { ErrorBars } from './error-bars.js';
import { formatUptime } from './format.js';
import { ThroughputGauges } from './gauges.js';
import { HistoryViewer } from './history.js';
import { InstancesTable } from './instances-table.js';
import { LiveConnection, type LiveStats } from './live.js';
import { LiveTail } from './live-tail.js';
import { DEFAULT_RANGE, RANGES } from './ranges.js';
import { instanceParam, ScopePicker } from './scope.js';
import { fetchInstances, fetchScopeStats, liveScopeOf, statsFromHeartbeat } from './scope-stats.js';
import { SeriesView } from './series-view.js';
import { StatusBar } from './status-bar.js';
import { drawnTypes } from './type-order.js';
import { TypeOverview } from './type-overview.js';
import type { InstanceInfo, Scope, ServiceStatus, StatsMap } from './types.js';

/** Mark set when the first full render (status, cards, every chart, first history page) is done. */
export const FIRST_RENDER_MARK = 'cm:charts-drawn';
/** How often the charts refetch their series, ms. Live counters update every second over WS. */
const SERIES_REFRESH_MS = 10_000;
/** How often the instances table refreshes, ms (fleet `stats` messages refresh it too). */
const INSTANCES_REFRESH_MS = 5_000;

adoptTokenFromUrl();

const statusBar = new StatusBar(byId('status-bar'), byId('banner'), byId('live'));
const overview = new TypeOverview(byId('cards'));
const gauges = new ThroughputGauges(byId('gauges'));
const errorBars = new ErrorBars(byId('error-bars'));
const series = new SeriesView({ overview, gauges, errorBars });
const historyViewer = new HistoryViewer();
historyViewer.onInstance = (id) => statusBar.noteInstance(id);
const tail = new LiveTail(byId('tail'));
const picker = new ScopePicker(byId<HTMLSelectElement>('scope'), (scope) => onScope(scope));
const instancesTable = new InstancesTable(byId('instances'), byId('instances-note'), (id) =>
  picker.pick({ kind: 'instance', id }),
);

/** Every type known in any scope. */
const types = new Set<string>();
/** This service's own instance id (from its status). */
let ownId = '';
let instances: InstanceInfo[] = [];
/** The stats of the scope shown, last received (they pick the types the charts draw). */
let lastStats: StatsMap = {};
/** The range comes from `?range=` (shareable links), else the checked radio (1 h). */
let rangeKey = initialRange();
let isBooted = false;

function initialRange(): string {
  const wanted = new URLSearchParams(location.search).get('range');
  if (wanted !== null && wanted in RANGES) {
    const radio = document.querySelector<HTMLInputElement>(`input[name=range][value="${wanted}"]`);
    if (radio !== null) radio.checked = true;
    return wanted;
  }
  return (
    document.querySelector<HTMLInputElement>('input[name=range]:checked')?.value ?? DEFAULT_RANGE
  );
}

function addTypes(names: Iterable<string>): boolean {
  let added = false;
  for (const t of names) {
    if (types.has(t)) continue;
    types.add(t);
    added = true;
  }
  if (added) {
    overview.ensure(types);
    series.addTypes(types);
  }
  return added;
}

function renderStatus(status: ServiceStatus): void {
  ownId = status.instance;
  statusBar.update(status);
  setText(
    byId('instance-line'),
    `${status.instance}${status.version ? ` · v${status.version}` : ''} · up ${formatUptime(status.uptimeMs)}`,
  );
}

/** Takes a new list of the fleet's instances (null: the service has no fleet API). */
function renderInstances(list: InstanceInfo[] | null): void {
  instances = list ?? [];
  for (const i of instances) statusBar.noteInstance(i.id);
  byId('instances-panel').hidden = list === null;
  picker.update(instances, ownId);
  const scope = picker.scope;
  instancesTable.update(instances, ownId, scope.kind === 'instance' ? scope.id : null);
}

function scopeNote(scope: Scope): string {
  if (scope.kind === 'fleet') return `all instances (${Math.max(1, instances.length)})`;
  if (scope.id === ownId) return `instance ${scope.id} (this service, since its start)`;
  return `instance ${scope.id} (from its last heartbeat; latency per type in the charts)`;
}

function renderStats(stats: StatsMap): void {
  lastStats = stats;
  const kinds = new Set<string>();
  for (const s of Object.values(stats)) for (const k of Object.keys(s.kinds)) kinds.add(k);
  const isNewType = addTypes(Object.keys(stats));
  historyViewer.setChoices(types, kinds);
  overview.updateStats(stats);
  const shown = new Set(drawnTypes(types, stats));
  const rates: Record<string, number> = {};
  for (const s of Object.values(stats)) if (shown.has(s.type)) rates[s.type] = s.eventsPerSecond;
  gauges.update(rates);
  setText(byId('types-note'), scopeNote(picker.scope));
  if (isNewType && isBooted) void loadSeries().catch(() => undefined);
}

function loadSeries(): Promise<void> {
  return series.load(drawnTypes(types, lastStats));
}

/** Shows (or with null, hides) a problem reaching the service; separate from the degraded banner. */
function showProblem(message: string | null): void {
  const banner = byId('problem');
  banner.hidden = message === null;
  setText(banner, message ?? '');
}

/** The scope changed (picked, or the default rule moved): every card, chart and list follows. */
function onScope(scope: Scope): void {
  live.setScope(liveScopeOf(scope, ownId));
  series.select(scope, rangeKey);
  historyViewer.setInstance(instanceParam(scope) ?? null);
  gauges.clear();
  instancesTable.update(instances, ownId, scope.kind === 'instance' ? scope.id : null);
  setText(byId('types-note'), scopeNote(scope));
  if (isBooted) void refreshAll().catch(() => undefined);
}

async function refreshAll(): Promise<void> {
  const [status, list] = await Promise.all([api.status(), fetchInstances()]);
  addTypes(status.types);
  renderStatus(status);
  renderInstances(list);
  const scope = picker.scope;
  const answer = await fetchScopeStats(scope, ownId);
  if (answer.instances !== null) renderInstances(answer.instances);
  renderStats(answer.stats);
  await Promise.all([loadSeries(), historyViewer.reload()]);
  showProblem(null);
}

function onLiveStats(message: LiveStats): void {
  renderStatus(message.status);
  if (message.instances !== null) renderInstances(message.instances);
  const scope = picker.scope;
  if (message.scope !== liveScopeOf(scope, ownId)) return;
  if (scope.kind === 'instance' && message.scope === 'fleet') {
    renderStats(statsFromHeartbeat(instances.find((i) => i.id === scope.id)));
  } else {
    renderStats(message.stats);
  }
  tail.noteSampling(message.dropped);
}

const live = new LiveConnection({
  onStats: onLiveStats,
  onEvent: (event) => {
    const scope = picker.scope;
    if (scope.kind === 'instance' && event.instance !== scope.id) return;
    statusBar.noteInstance(event.instance);
    tail.add(event);
  },
  onNotable: (event) => series.addNotable(event),
  onState: (state) => statusBar.setLive(state),
  onReconnected: () => void refreshAll().catch(() => undefined),
});

async function boot(): Promise<void> {
  try {
    await refreshAll();
  } catch (err) {
    console.error(err);
    showProblem(
      `Cannot load data from the service: ${err instanceof Error ? err.message : 'error'}.`,
    );
  }
  isBooted = true;
  // Let the browser paint once before declaring the first render done.
  requestAnimationFrame(() => {
    performance.mark(FIRST_RENDER_MARK);
    document.documentElement.dataset.ready = 'true';
  });
  live.start();
  setInterval(() => void loadSeries().catch(() => undefined), SERIES_REFRESH_MS);
  setInterval(() => {
    // Fleet `stats` messages carry the instances; otherwise ask (a missing API stays missing).
    if (liveScopeOf(picker.scope, ownId) === 'fleet' || byId('instances-panel').hidden) return;
    void fetchInstances()
      .then(renderInstances)
      .catch(() => undefined);
  }, INSTANCES_REFRESH_MS);
}

for (const input of document.querySelectorAll<HTMLInputElement>('input[name=range]')) {
  input.addEventListener('change', () => {
    if (!input.checked) return;
    rangeKey = input.value;
    const url = new URL(location.href);
    url.searchParams.set('range', rangeKey);
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    series.select(picker.scope, rangeKey);
    void loadSeries().catch(() => undefined);
  });
}

void boot();
