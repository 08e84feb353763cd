/**
 * The fleet's instances (every monitor persisting to the same Redis): state, version, uptime,
 * last heartbeat, clock skew against Redis, Redis round trip, write queue, dropped events,
 * circuit and events/s. Instances that are not alive are marked (a state badge and a muted row),
 * a clock skew above {@link SKEW_FLAG_MS} is flagged. Clicking an instance's name shows that
 * instance's numbers everywhere.
 */
import { el, setText } from './dom.js';
import {
  formatAgo,
  formatCount,
  formatDateTime,
  formatMs,
  formatRate,
  formatSkew,
  formatUptime,
} from './format.js';
import type { InstanceInfo, InstanceState } from './types.js';

/** Clock skew above which an instance is flagged, ms: its event timestamps are that far off. */
export const SKEW_FLAG_MS = 1_000;

/** Badge text of each state. */
const STATE_TEXT: Record<InstanceState, string> = {
  alive: 'alive',
  stale: 'stale',
  stopped: 'stopped',
  gone: 'gone',
};

/** Why a state is marked (the badge's tooltip). */
const STATE_HELP: Record<InstanceState, string> = {
  alive: 'Heartbeat seen within the last two intervals.',
  stale: 'No heartbeat for more than two intervals: the instance may be stuck or cut off.',
  stopped: 'Closed cleanly.',
  gone: 'No heartbeat for a long time: crashed or unreachable. Kept so its history stays labelled.',
};

const COLUMNS = [
  'State',
  'Version',
  'Uptime',
  'Last seen',
  'Clock skew',
  'Round trip',
  'Queue',
  'Dropped',
  'Circuit',
  'Events/s',
] as const;

/** Total events/s of an instance (its types added up). */
export function instanceRate(i: InstanceInfo): number {
  let sum = 0;
  for (const t of Object.values(i.types)) sum += t.eventsPerSecond;
  return sum;
}

/** The instances table. */
export class InstancesTable {
  private readonly body: HTMLTableSectionElement;
  private readonly note: HTMLElement;
  private readonly rows = new Map<string, Row>();

  constructor(
    root: HTMLElement,
    note: HTMLElement,
    /** Called with the id of the instance whose name was clicked. */
    private readonly onPick: (id: string) => void,
  ) {
    this.note = note;
    this.body = el('tbody', { 'data-testid': 'instance-rows' });
    const head = el(
      'tr',
      {},
      el('th', { scope: 'col', text: 'Instance' }),
      ...COLUMNS.map((c) => el('th', { scope: 'col', text: c })),
    );
    root.append(
      el(
        'div',
        { class: 'table-wrap' },
        el(
          'table',
          { class: 'instances', 'data-testid': 'instances-table' },
          el('caption', { class: 'visually-hidden', text: 'Instances of the fleet' }),
          el('thead', {}, head),
          this.body,
        ),
      ),
    );
    this.body.addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest('button[data-pick]');
      if (button instanceof HTMLButtonElement) this.onPick(button.dataset.pick ?? '');
    });
  }

  /**
   * Renders `instances`; `ownId` is this service's instance, `selectedId` the one in scope (null:
   * the whole fleet). Rows are kept per instance and updated in place.
   */
  update(instances: readonly InstanceInfo[], ownId: string, selectedId: string | null): void {
    const now = Date.now();
    const shown = instances.map((i) => {
      const row = this.rows.get(i.id) ?? this.createRow(i.id);
      this.rows.set(i.id, row);
      fillRow(row, i, i.id === ownId, i.id === selectedId, now);
      return row.root;
    });
    const current = [...this.body.children];
    if (current.length !== shown.length || current.some((n, idx) => n !== shown[idx])) {
      this.body.replaceChildren(...shown);
    }
    const alive = instances.filter((i) => i.state === 'alive').length;
    const notAlive = instances.length - alive;
    setText(
      this.note,
      `${formatCount(alive)} alive${notAlive > 0 ? ` · ${formatCount(notAlive)} not alive` : ''} · skew over ${formatMs(SKEW_FLAG_MS)} flagged`,
    );
  }

  private createRow(id: string): Row {
    const cell = (key: CellKey, cls = 'col-num') =>
      el('td', { class: cls, 'data-testid': `instance-${key}` });
    const cells: Record<CellKey, HTMLElement> = {
      version: cell('version', ''),
      uptime: cell('uptime'),
      seen: cell('seen', ''),
      skew: cell('skew'),
      rtt: cell('rtt'),
      queue: cell('queue'),
      dropped: cell('dropped'),
      circuit: cell('circuit', ''),
      rate: cell('rate'),
    };
    const badge = el('span', { class: 'state-badge', 'data-testid': 'instance-state' });
    const tag = el('span', { class: 'tag', text: 'this service', hidden: true });
    const name = el(
      'button',
      {
        type: 'button',
        class: 'link-button',
        'data-pick': id,
        'aria-label': `Show instance ${id}`,
      },
      id,
    );
    const root = el(
      'tr',
      { 'data-instance': id },
      el('th', { scope: 'row' }, name, tag),
      el('td', {}, badge),
      cells.version,
      cells.uptime,
      cells.seen,
      cells.skew,
      cells.rtt,
      cells.queue,
      cells.dropped,
      cells.circuit,
      cells.rate,
    );
    return { root, name, tag, badge, cells };
  }
}

type CellKey =
  'version' | 'uptime' | 'seen' | 'skew' | 'rtt' | 'queue' | 'dropped' | 'circuit' | 'rate';

interface Row {
  root: HTMLElement;
  name: HTMLElement;
  tag: HTMLElement;
  badge: HTMLElement;
  cells: Record<CellKey, HTMLElement>;
}

function fillRow(row: Row, i: InstanceInfo, isOwn: boolean, isSelected: boolean, now: number) {
  const { root, cells } = row;
  root.dataset.state = i.state;
  root.classList.toggle('is-selected', isSelected);
  if (isSelected) root.setAttribute('aria-current', 'true');
  else root.removeAttribute('aria-current');
  row.tag.hidden = !isOwn;
  row.name.title = `${i.host} · pid ${i.pid} — show only this instance`;
  row.badge.dataset.state = i.state;
  row.badge.title = STATE_HELP[i.state];
  setText(row.badge, STATE_TEXT[i.state]);
  setText(cells.version, i.version);
  // Running time up to its last heartbeat, on Redis's clock (its own start corrected by its skew).
  setText(cells.uptime, formatUptime(i.lastSeenAt - (i.startedAt - i.clockSkewMs)));
  setText(cells.seen, formatAgo(i.lastSeenAt, now));
  cells.seen.title = formatDateTime(i.lastSeenAt);
  const isSkewed = Math.abs(i.clockSkewMs) > SKEW_FLAG_MS;
  setText(cells.skew, `${formatSkew(i.clockSkewMs)}${isSkewed ? ' ⚠' : ''}`);
  cells.skew.classList.toggle('is-flagged', isSkewed);
  cells.skew.dataset.flagged = String(isSkewed);
  cells.skew.title = isSkewed
    ? `Clock ${i.clockSkewMs > 0 ? 'ahead of' : 'behind'} Redis by ${formatMs(Math.abs(i.clockSkewMs))}: its event timestamps are off by as much.`
    : 'Clock difference against Redis TIME.';
  setText(cells.rtt, formatMs(i.redisRttMs));
  setText(cells.queue, formatCount(i.queueDepth));
  setText(cells.dropped, formatCount(i.dropped));
  cells.dropped.classList.toggle('is-flagged', i.dropped > 0);
  cells.circuit.dataset.circuit = i.circuit;
  setText(cells.circuit, i.circuit === 'half_open' ? 'half-open' : i.circuit);
  setText(cells.rate, formatRate(instanceRate(i)));
}
