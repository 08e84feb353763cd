/**
 * The problems persistence isolated (quarantined batches, corrupt keys, invalid type names): kept
 * for `getStatus()`, logged once when first seen and once when resolved.
 */
import type { Clock } from '../core/clock.js';
import type { PersistenceProblem } from '../core/persistence.js';
import type { Logger } from '../logger.js';

/** Most problems kept; beyond it new ones are counted in one `*` entry. */
export const MAX_PROBLEMS = 512;

/** Problems by (type, key, reason). */
export class ProblemLog {
  private readonly problems = new Map<string, PersistenceProblem>();
  /** Types with at least one problem: resolving is a set lookup on the write path. */
  private readonly types = new Set<string>();
  private overflow: PersistenceProblem | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /**
   * Records (or counts again) a problem; `count` events or items are affected by it. One problem
   * per (type, key) — its reason the latest — or per (type, reason) when no key is known.
   */
  add(type: string, reason: string, count: number, key?: string): void {
    const id = `${type}\u0000${key === undefined ? `\u0000${reason}` : key}`;
    const existing = this.problems.get(id);
    if (existing !== undefined) {
      existing.count += count;
      existing.reason = reason;
      return;
    }
    if (this.problems.size >= MAX_PROBLEMS) {
      this.overflow ??= {
        type: '*',
        reason: `more than ${MAX_PROBLEMS} problems: the rest are counted here`,
        since: this.clock.now(),
        count: 0,
      };
      this.overflow.count += count;
      return;
    }
    const problem: PersistenceProblem = {
      type,
      ...(key === undefined ? {} : { key }),
      reason,
      since: this.clock.now(),
      count,
    };
    this.problems.set(id, problem);
    this.types.add(type);
    this.logger.warn(
      { ...problem },
      'connection-monitor: persistence problem isolated (other types go on)',
    );
  }

  /** Clears the problems of `type` (its writes succeed again). */
  resolve(type: string): void {
    if (!this.types.delete(type)) return;
    for (const [id, p] of this.problems) {
      if (p.type !== type) continue;
      this.problems.delete(id);
      this.logger.info(
        { type, key: p.key, reason: p.reason },
        'connection-monitor: problem resolved',
      );
    }
  }

  /** Copies of every problem, oldest first. */
  list(): PersistenceProblem[] {
    const out = [...this.problems.values()].map((p) => ({ ...p }));
    if (this.overflow !== undefined) out.push({ ...this.overflow });
    return out;
  }
}
