/**
 * Adds types to the types set (discovery at start) when this process has not done so for a
 * quarter of the retention, which also refreshes the set's TTL, and again at once when Redis may
 * have lost data (see {@link TypeRegistration.register}). Best effort and apart from the
 * batches: the set lives in its own slot, and failing to register never fails a write.
 * Bound: one timestamp per type this process writes (at most `maxTypes`).
 */
import type { MonitorRedis } from './client.js';
import { classifyFailure } from './failures.js';

/** What a write says about Redis's data, for {@link TypeRegistration.register}. */
export interface WriteSigns {
  /** Types whose keys the write created (a new type, or one whose data Redis lost). */
  readonly created: readonly string[];
  /**
   * The write met a connection-level failure: its server may be restarting without its data,
   * and a lost reply may hide that the write created keys.
   */
  readonly hadConnectionFailure: boolean;
}

/** Registration of written types in `<prefix>:types`. */
export class TypeRegistration {
  /** Every type this process wrote: when it was last added (-Infinity: due, the add failed). */
  private readonly registeredAt = new Map<string, number>();
  /** Redis may have lost the set: every type is added again, at each call until that succeeds. */
  private isRelistDue = false;

  /** @param onProblem called with a reason when the set refuses the write (not a connection failure) */
  constructor(
    private readonly client: MonitorRedis,
    private readonly typesKey: string,
    private readonly retentionMs: number,
    private readonly onProblem: (reason: string) => void,
  ) {}

  /**
   * Registers the types of a write that are due; never rejects. When the write says Redis may
   * have lost data (a connection-level failure, or keys created for a type this process wrote
   * before), the types set may be gone too: every type this process wrote is added again, idle
   * ones included, at this call and the following ones until that succeeds.
   */
  register(types: Iterable<string>, now: number, signs?: WriteSigns): void {
    if (signs?.hadConnectionFailure === true) this.isRelistDue = true;
    for (const t of signs?.created ?? []) if (this.registeredAt.has(t)) this.isRelistDue = true;
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
