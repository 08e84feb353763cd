import { isErrorEvent } from '../core/event.js';
import { el, setText } from './dom.js';
import { formatMs, formatTimeShort } from './format.js';
import { typeColor } from './theme.js';
import type { ConnectionEvent } from './types.js';

/** Rows kept in the tail. */
const MAX_ROWS = 40;

/**
 * The newest events as they stream in over the WebSocket. Arrivals are batched into one DOM
 * update per animation frame, so a burst of thousands of events costs one redraw; pausing keeps
 * the rows still for reading while counting what arrived meanwhile.
 */
export class LiveTail {
  private readonly list: HTMLOListElement;
  private readonly pauseBtn: HTMLButtonElement;
  private readonly note: HTMLElement;
  private pending: ConnectionEvent[] = [];
  private frame = 0;
  private isPaused = false;
  private missed = 0;
  private skipped = 0;

  constructor(root: HTMLElement) {
    this.list = el('ol', { class: 'tail', 'aria-label': 'Newest events', 'data-testid': 'tail' });
    this.pauseBtn = el('button', {
      type: 'button',
      'aria-pressed': 'false',
      'aria-label': 'Pause the live event list',
      text: 'Pause',
    });
    this.note = el('span', { class: 'panel-note', text: 'waiting for events…' });
    this.pauseBtn.addEventListener('click', () => this.setPaused(!this.isPaused));
    root.append(el('div', { class: 'tail-bar' }, this.note, this.pauseBtn), this.list);
  }

  /** Queues an event for the next frame. */
  add(event: ConnectionEvent): void {
    if (this.isPaused) {
      this.missed++;
      setText(this.note, `paused · ${this.missed.toLocaleString('en-US')} new`);
      return;
    }
    this.pending.push(event);
    if (this.pending.length > MAX_ROWS) this.pending.splice(0, this.pending.length - MAX_ROWS);
    this.frame ||= requestAnimationFrame(() => this.flush());
  }

  /** Says when the service samples the stream for this page (it skipped `dropped` events). */
  noteSampling(dropped: number): void {
    this.skipped = dropped;
    if (!this.isPaused && this.frame === 0 && this.list.childElementCount > 0) this.renderNote();
  }

  private renderNote(): void {
    setText(
      this.note,
      this.skipped > 0
        ? `live · sampled, ${this.skipped.toLocaleString('en-US')} skipped in the last second`
        : 'live',
    );
  }

  private setPaused(isPaused: boolean): void {
    this.isPaused = isPaused;
    this.missed = 0;
    this.pauseBtn.setAttribute('aria-pressed', String(isPaused));
    this.pauseBtn.textContent = isPaused ? 'Resume' : 'Pause';
    this.pauseBtn.setAttribute(
      'aria-label',
      isPaused ? 'Resume the live event list' : 'Pause the live event list',
    );
    setText(this.note, isPaused ? 'paused' : 'live');
  }

  private flush(): void {
    this.frame = 0;
    const batch = this.pending;
    this.pending = [];
    const now = Date.now();
    const rows = batch.reverse().map((e) => {
      const isError = isErrorEvent(e.kind, e.error);
      return el(
        'li',
        { class: isError ? 'tail-row is-error' : 'tail-row' },
        el('span', { class: 'tail-time', text: formatTimeShort(e.timestamp, now) }),
        el(
          'span',
          { class: 'tail-type' },
          el('span', { class: 'dot', style: `background:${typeColor(e.type)}` }),
          e.type,
        ),
        el('span', { class: 'tail-kind', text: e.kind }),
        el('span', { class: 'tail-dur', text: formatMs(e.durationMs) }),
        el('span', { class: 'tail-error', text: e.error ?? '' }),
      );
    });
    this.list.prepend(...rows);
    while (this.list.childElementCount > MAX_ROWS) this.list.lastElementChild?.remove();
    this.renderNote();
  }
}
