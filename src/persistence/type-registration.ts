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
  /** Every type this process wrote: when it was last added (-Infinity: due, the add failed). */
  private readonly registeredAt = new Map<string, number>();
  /** Redis lost data: every type is added again, at each call until that succeeds. */
  private isRelistDue = false;

  /** @param onProblem called with a reason when the set refuses the write (not a connection failure) */
  constructor(
    private readonly client: MonitorRedis,
    private readonly typesKey: string,
    private readonly retentionMs: number,
    private readonly onProblem: (reason: string) => void,
  ) {}

  /**
   * Registers the types that are due; never rejects. `created`: types whose keys the write
   * created. One this process wrote before means Redis lost data (a server restarted without
   * it, keys expired) and the types set may be gone too: every type this process wrote is added
   * again at once, idle ones included.
   */
  register(types: Iterable<string>, now: number, created: Iterable<string> = []): void {
    for (const t of created) if (this.registeredAt.has(t)) this.isRelistDue = true;
    const retention = Math.round(this.retentionMs);
    const isRelist = this.isRelistDue;
    const due = isRelist
      ? [...new Set([...this.registeredAt.keys(), ...types])]
      : [...types].filter((t) => (this.registeredAt.get(t) ?? -Infinity) <= now - retention / 4);
    if (due.length === 0) return;
    this.isRelistDue = false;
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
        for (const t of due) this.registeredAt.set(t, -Infinity);
        if (isRelist) this.isRelistDue = true;
        const f = classifyFailure(err);
        if (!f.isConnection) this.onProblem(f.reason);
      });
  }
}
