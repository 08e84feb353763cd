/** A set of unref'd timers that can all be cleared at once. */
export class DemoTimers {
  private readonly timers = new Set<NodeJS.Timeout>();
  private isStopped = false;

  /** Runs `fn` after `ms` unless stopped first. */
  after(ms: number, fn: () => void): void {
    if (this.isStopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.isStopped) fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  /** True after `stop()`. */
  get stopped(): boolean {
    return this.isStopped;
  }

  /** Clears every pending timer. */
  stop(): void {
    this.isStopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** A random integer in [min, max]. */
export function between(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
