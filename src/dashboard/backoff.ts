/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** First delay, ms. Default 500. */
  initialMs?: number;
  /** Largest delay, ms. Default 15,000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Random source in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": the n-th delay is uniformly drawn from
 * [d/2, d] where d = min(maxMs, initialMs·factor^n). Half of it is fixed so reconnects never
 * hammer a restarting service; half is random so many dashboards do not reconnect in lockstep.
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 15_000;
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
  }

  /** Delay before the next attempt, ms; advances the attempt counter. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** Starts over after a success. */
  reset(): void {
    this.attempt = 0;
  }
}
