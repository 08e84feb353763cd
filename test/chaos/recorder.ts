/**
 * The paced recorder of the chaos suite: replays generated events into `recordEvent` at a steady
 * rate (timer ticks that catch up with the schedule), checks each answer on the spot (a valid
 * event is accepted, an invalid one refused with `CM_ERR_INVALID_EVENT` naming its defect) and
 * keeps the ledger the invariants are checked against: every accepted event by id, per type, and
 * what the monitor reported (quarantined batches, drops).
 */
import { isMonitorError } from '../../src/core/errors.js';
import type { ConnectionEvent } from '../../src/core/event.js';
import type { ConnectionMonitor } from '../../src/monitor.js';
import { toInput, type GeneratedEvent } from './generators.js';

/** A quarantine as the `quarantined` event reported it. */
export interface SeenQuarantine {
  type: string;
  count: number;
  reason: string;
  key?: string;
}

/** What was recorded and what the monitor reported about it. */
export class Ledger {
  /** Accepted events, per type, by id. */
  readonly accepted = new Map<string, Map<string, ConnectionEvent>>();
  /** Invalid events refused as expected. */
  refused = 0;
  /** Events refused for a kind beyond the bound, as the model predicted. */
  refusedKinds = 0;
  /** Answers that contradicted the generator (kept for the failure message; at most 20). */
  readonly mismatches: string[] = [];
  mismatchCount = 0;
  readonly quarantines: SeenQuarantine[] = [];
  droppedReported = 0;

  get total(): number {
    let n = 0;
    for (const m of this.accepted.values()) n += m.size;
    return n;
  }

  /** Every event accepted, of every type, by id. */
  byId(): Map<string, ConnectionEvent> {
    const out = new Map<string, ConnectionEvent>();
    for (const m of this.accepted.values()) for (const [id, e] of m) out.set(id, e);
    return out;
  }

  quarantinedOf(type: string): number {
    return this.quarantines.filter((q) => q.type === type).reduce((n, q) => n + q.count, 0);
  }

  mismatch(text: string): void {
    this.mismatchCount++;
    if (this.mismatches.length < 20) this.mismatches.push(text);
  }
}

/** Options of {@link PacedRecorder}. */
export interface PacedRecorderOptions {
  /** Events per second (all types together). */
  readonly eventsPerSecond: number;
  /** Timer period, ms. Default 10. */
  readonly tickMs?: number;
}

/** Describes a generated event for a failure message (short). */
function describe(g: GeneratedEvent): string {
  const text = JSON.stringify(g, (_k, v: unknown) =>
    typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * Replays `events` into `monitor` at `eventsPerSecond`, as far as {@link allow} lets it (a
 * scenario allows each phase's events, so a slow heal never eats the events meant for after it).
 * Never throws from its timer: every contradiction goes to the ledger.
 */
export class PacedRecorder {
  readonly ledger = new Ledger();
  private next = 0;
  private allowed = 0;
  /** Events that may be replayed now: the rate times the time since the last tick, carried. */
  private credit = 0;
  private lastTickAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly kindsSeen = new Map<string, Set<string>>();

  constructor(
    private readonly monitor: ConnectionMonitor,
    private readonly events: readonly GeneratedEvent[],
    private readonly options: PacedRecorderOptions,
  ) {
    monitor.on('quarantined', (q) => this.ledger.quarantines.push({ ...q }));
    monitor.on('dropped', ({ count }) => (this.ledger.droppedReported += count));
  }

  /** Generated events replayed so far (accepted or refused). */
  get replayed(): number {
    return this.next;
  }

  /** Events allowed so far (at most all of them). */
  get allowedCount(): number {
    return this.allowed;
  }

  /** True once every generated event was replayed. */
  get isDone(): boolean {
    return this.next >= this.events.length;
  }

  /** Lets `n` more events be replayed (at the rate); `Infinity`: all that are left. */
  allow(n: number): void {
    this.allowed = Math.min(this.events.length, this.allowed + n);
  }

  start(): this {
    this.lastTickAt = performance.now();
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 10);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    const rate = this.options.eventsPerSecond;
    // At most a second of catch-up after a slow turn of the event loop.
    this.credit = Math.min(rate, this.credit + (rate * (now - this.lastTickAt)) / 1_000);
    this.lastTickAt = now;
    while (this.next < this.allowed && this.credit >= 1) {
      this.credit--;
      this.replay(this.events[this.next++] as GeneratedEvent);
    }
    // Waiting for the next phase saves up nothing: it starts at the rate, not in a burst.
    if (this.next >= this.allowed) this.credit = 0;
  }

  private replay(g: GeneratedEvent): void {
    const { ledger } = this;
    let expected = g.defect;
    const type = typeof g.type === 'string' ? g.type : '';
    const kinds = this.kindsSeen.get(type) ?? new Set<string>();
    // The bound on distinct kinds is the last check: only an otherwise valid event meets it.
    if (
      expected === null &&
      typeof g.kind === 'string' &&
      !kinds.has(g.kind) &&
      kinds.size >= this.monitor.options.maxKindsPerType
    ) {
      expected = 'kind';
    }
    let event: ConnectionEvent;
    try {
      event = this.monitor.recordEvent(g.type as string, toInput(g, Date.now()) as never);
    } catch (err) {
      if (expected === null) {
        ledger.mismatch(`refused a valid event (${String(err)}): ${describe(g)}`);
      } else if (!isMonitorError(err, 'CM_ERR_INVALID_EVENT')) {
        ledger.mismatch(`refused without CM_ERR_INVALID_EVENT (${String(err)}): ${describe(g)}`);
      } else if (!(err.field ?? '').startsWith(expected)) {
        ledger.mismatch(`refused naming ${err.field}, not ${expected}: ${describe(g)}`);
      } else if (g.defect === null) {
        ledger.refusedKinds++;
      } else {
        ledger.refused++;
      }
      return;
    }
    if (expected !== null) {
      ledger.mismatch(`accepted an event with a bad ${expected}: ${describe(g)}`);
      return;
    }
    kinds.add(event.kind);
    this.kindsSeen.set(type, kinds);
    let ofType = ledger.accepted.get(event.type);
    if (ofType === undefined) ledger.accepted.set(event.type, (ofType = new Map()));
    ofType.set(event.id, event);
  }
}
