/**
 * Counts events dropped because the persistence queue was full: exactly, reported once per
 * event-loop turn with that turn's count, and logged at most once per 10 s (the first drop at
 * once), so dropping stays as cheap as queueing while Redis is down and reads no clock.
 */
import type { Logger } from '../logger.js';

/** Least time between two "events dropped" warnings, ms. */
export const DROP_WARNING_INTERVAL_MS = 10_000;

/** Drop counting and reporting for one writer. */
export class DropCounter {
  private droppedTotal = 0;
  private sinceWarning = 0;
  private thisTurn = 0;
  private warningTimer: NodeJS.Timeout | undefined;

  /**
   * @param report called once per event-loop turn with the turn's drops and the total
   * @param maxQueueSize shown in the warning
   */
  constructor(
    private readonly logger: Logger,
    private readonly maxQueueSize: number,
    private readonly report: (info: { count: number; total: number }) => void,
  ) {}

  /** Events dropped since start. */
  get total(): number {
    return this.droppedTotal;
  }

  /** Counts `count` dropped events. */
  add(count: number): void {
    this.droppedTotal += count;
    this.sinceWarning += count;
    if (this.thisTurn === 0) {
      setImmediate(() => {
        const n = this.thisTurn;
        this.thisTurn = 0;
        this.report({ count: n, total: this.droppedTotal });
      });
    }
    this.thisTurn += count;
    if (this.warningTimer === undefined) {
      this.warn();
      this.warningTimer = setTimeout(() => {
        this.warningTimer = undefined;
        if (this.sinceWarning > 0) this.warn();
      }, DROP_WARNING_INTERVAL_MS);
      this.warningTimer.unref();
    }
  }

  /** Stops the warning timer, logging what it had not logged yet. */
  close(): void {
    if (this.warningTimer === undefined) return;
    clearTimeout(this.warningTimer);
    this.warningTimer = undefined;
    if (this.sinceWarning > 0) this.warn();
  }

  private warn(): void {
    this.logger.warn(
      {
        dropped: this.sinceWarning,
        droppedTotal: this.droppedTotal,
        maxQueueSize: this.maxQueueSize,
      },
      'connection-monitor: persistence queue full, events dropped (kept in memory only)',
    );
    this.sinceWarning = 0;
  }
}
