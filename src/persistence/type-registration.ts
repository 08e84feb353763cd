/**
 * Adds types to the types set (discovery at start) when this process has not done so for a
 * quarter of the retention, which also refreshes the set's TTL, and again at once when Redis lost
 * data (see {@link TypeRegistration.register}). Best effort and apart from the batches: the set
 * lives in its own slot, and failing to register never fails a write.
 * Bound: one timestamp per type this process writes (at most `maxTypes`).
 */
import type { MonitorRedis } from './client.js';
import { classifyFailure } from './failures.js';

/** Registration of written types in `<prefix>:types`. */
export class TypeRegistration {
  private readonly registeredAt = new Map<string, number>();

  /** @param onProblem called with a reason when the set refuses the write (not a connection failure) */
  constructor(
    private readonly client: MonitorRedis,
    private readonly typesKey: string,
    private readonly retentionMs: number,
    private readonly onProblem: (reason: string) => void,
  ) {}

  /**
   * Registers the types that are due; never rejects. `created`: types whose keys the write
   * created. One this process registered before means Redis lost data (a server restarted
   * without it, keys expired) and the types set may be gone too: every type is due again.
   */
  register(types: Iterable<string>, now: number, created: Iterable<string> = []): void {
    for (const t of created) {
      if (this.registeredAt.has(t)) {
        this.registeredAt.clear();
        break;
      }
    }
    const retention = Math.round(this.retentionMs);
    const due = [...types].filter(
      (t) => (this.registeredAt.get(t) ?? -Infinity) <= now - retention / 4,
    );
    if (due.length === 0) return;
    for (const t of due) this.registeredAt.set(t, now);
    this.client
      .multi()
      .sadd(this.typesKey, ...due)
      .pexpire(this.typesKey, retention)
      .exec()
      .then((results) => {
        const err = results?.find(([e]) => e !== null)?.[0];
        if (err) throw err;
      })
      .catch((err: unknown) => {
        for (const t of due) this.registeredAt.delete(t);
        const f = classifyFailure(err);
        if (!f.isConnection) this.onProblem(f.reason);
      });
  }
}
