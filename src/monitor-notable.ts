/**
 * The monitor's notable events: each gets an id and this instance's name, goes into memory (the
 * newest 1,000), to the store for the fleet, and to the monitor's `notable` listeners.
 */
import type { CircuitState } from './core/circuit.js';
import type { Clock } from './core/clock.js';
import {
  NotableLog,
  type NotableEvent,
  type NotableInput,
  MAX_NOTABLE_MESSAGE,
} from './core/notable.js';
import type { LiveStats } from './core/live-stats.js';
import { firstErrorNotable } from './core/persistence.js';
import type { Logger } from './logger.js';

/** What the recorder needs of the monitor. */
export interface NotableRecorderDeps {
  /** `<instance>:<boot>:` — ids never repeat across restarts. */
  readonly idPrefix: string;
  readonly instance: string;
  readonly clock: Clock;
  /** Stores the event for the fleet (never throws). */
  readonly save: (e: NotableEvent) => void;
  /** Tells the monitor's listeners. */
  readonly emit: (e: NotableEvent) => void;
  readonly logger: Logger;
  /** A type's first error after this long without one is notable, ms. */
  readonly quietPeriodMs: number;
}

/** Records notable events of one monitor. */
export class NotableRecorder {
  readonly log = new NotableLog();
  private seq = 0;

  constructor(private readonly deps: NotableRecorderDeps) {}

  /** Records an already checked input. */
  record(input: NotableInput): NotableEvent {
    const e: NotableEvent = {
      id: `${this.deps.idPrefix}n${++this.seq}`,
      at: input.at ?? this.deps.clock.now(),
      kind: input.kind,
      instance: this.deps.instance,
      message: input.message.slice(0, MAX_NOTABLE_MESSAGE),
    };
    if (input.type !== undefined) e.type = input.type;
    if (input.state !== undefined) e.state = input.state;
    this.log.add(e);
    this.deps.save(e);
    try {
      this.deps.emit(e);
    } catch (err) {
      this.deps.logger.warn({ err }, 'connection-monitor: a notable listener threw; ignored');
    }
    return e;
  }

  /**
   * An error event of this process, when the store does not watch for first errors itself
   * (memory-only mode): notable when it is the type's first after the quiet period.
   */
  localError(stats: LiveStats, type: string, at: number): void {
    const last = stats.lastErrorAt;
    if (last !== null && at <= last) return;
    stats.lastErrorAt = at;
    const quiet = this.deps.quietPeriodMs;
    if (last === null || at - last >= quiet) {
      this.record(firstErrorNotable(type, at, quiet, last ?? undefined));
    }
  }

  /** A persistence circuit changed state. */
  circuit(state: CircuitState): void {
    this.record({
      kind: 'circuit',
      state,
      message: `${this.deps.instance}: Redis circuit ${state}`,
    });
  }

  /** This instance started or stopped. */
  lifecycle(state: 'started' | 'stopped'): void {
    this.record({ kind: 'instance', state, message: `${this.deps.instance} ${state}` });
  }
}
