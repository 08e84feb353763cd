/**
 * Recovery of history from Redis, per type: at start every type of the types set, and before the
 * first write of any type not recovered yet (a type whose shard was down at start, or a new one),
 * so a type's totals are read before this process adds to them and are never merged twice. A
 * corrupt key starts its type empty with a problem reported; a connection-level failure leaves
 * the type to recover on its next write; an invalid name in the types set is skipped and reported.
 */
import type { Clock } from '../core/clock.js';
import type { PersistenceHooks, RecoveredType } from '../core/persistence.js';
import type { Failure } from './failures.js';
import type { ProblemLog } from './problems.js';
import type { RedisReader } from './reader.js';

/** Settings of {@link Recovery}. */
export interface RecoveryOptions {
  /** Window recovered, ms before now. */
  readonly retentionMs: number;
  /** Events recovered per type. */
  readonly bufferSize: number;
  /** Most names read from the types set (the monitor keeps at most this many types). */
  readonly maxTypes: number;
  /** Name of the types set key, for problems. */
  readonly typesKey: string;
  readonly clock: Clock;
}

/** Per-type, single-flight recovery. */
export class Recovery {
  private isListed = false;
  private listing: Promise<void> | undefined;
  /** Types recovered, or found not recoverable (corrupt): never tried again. */
  private readonly done = new Set<string>();
  private readonly inFlight = new Map<string, Promise<Failure | null>>();
  private hooks: PersistenceHooks | undefined;

  constructor(
    private readonly reader: RedisReader,
    private readonly problems: ProblemLog,
    private readonly options: RecoveryOptions,
  ) {}

  /** True once the types set was read and every type in it recovered. */
  get isComplete(): boolean {
    return this.isListed && this.inFlight.size === 0;
  }

  /** Where recovered history goes (the monitor merges it into memory). */
  attach(hooks: PersistenceHooks): void {
    this.hooks = hooks;
  }

  /**
   * Reads the types set (until that succeeds once) and recovers every type in it. Rejects when
   * the types set cannot be read (connection-level); a type that cannot be recovered now is left
   * for its first write.
   */
  all(): Promise<void> {
    if (this.isListed) return Promise.resolve();
    this.listing ??= this.listAndRecover().finally(() => {
      this.listing = undefined;
    });
    return this.listing;
  }

  /**
   * Recovers the given types that are not recovered yet; resolves with the connection-level
   * failures of those that could not be (their batches wait).
   */
  async ensure(types: Iterable<string>): Promise<Map<string, Failure>> {
    const wanted = [...types].filter((t) => !this.done.has(t));
    const failures = new Map<string, Failure>();
    if (wanted.length === 0) return failures;
    const started = this.options.clock.now();
    const results = await Promise.all(wanted.map((t) => this.one(t)));
    const recovered: RecoveredType[] = [];
    results.forEach((r, i) => {
      const type = wanted[i] as string;
      if (r === null) return;
      if ('isConnection' in r) failures.set(type, r);
      else recovered.push(r);
    });
    this.deliver(recovered, started, false);
    return failures;
  }

  private async listAndRecover(): Promise<void> {
    const started = this.options.clock.now();
    const list = await this.reader.types(this.options.maxTypes);
    if (list.invalid.length > 0) {
      const shown = list.invalid.slice(0, 5).map((n) => JSON.stringify(n.slice(0, 80)));
      const more = list.invalid.length > 5 ? ` and ${list.invalid.length - 5} more` : '';
      this.problems.add(
        '*',
        `invalid type names in the types set were skipped: ${shown.join(', ')}${more}`,
        list.invalid.length,
        this.options.typesKey,
      );
    }
    if (list.isTruncated) {
      this.problems.add(
        '*',
        `the types set holds more than ${this.options.maxTypes} names; only ${this.options.maxTypes} were recovered`,
        0,
        this.options.typesKey,
      );
    }
    const results = await Promise.all(list.types.map((t) => this.one(t)));
    const recovered = results.filter((r): r is RecoveredType => r !== null && 'members' in r);
    this.isListed = true;
    this.deliver(recovered, started, true);
  }

  /**
   * Recovers one type, single-flight: null when nothing new (already done or being done by
   * another caller who delivers it), the recovered history, or a connection-level failure.
   */
  private async one(type: string): Promise<RecoveredType | Failure | null> {
    if (this.done.has(type)) return null;
    const running = this.inFlight.get(type);
    if (running !== undefined) {
      const failure = await running;
      return failure;
    }
    let settle!: (f: Failure | null) => void;
    this.inFlight.set(type, new Promise((resolve) => (settle = resolve)));
    try {
      const now = this.options.clock.now();
      const result = await this.reader.recover(
        type,
        now - this.options.retentionMs,
        now,
        this.options.bufferSize,
      );
      if (!result.ok) {
        settle(result.failure);
        return result.failure;
      }
      this.done.add(type);
      for (const p of result.problems) this.problems.add(p.type, p.reason, p.count, p.key);
      settle(null);
      return result.recovered;
    } catch (err) {
      const failure: Failure = {
        isConnection: true,
        reason: err instanceof Error ? err.message : String(err),
      };
      settle(failure);
      return failure;
    } finally {
      this.inFlight.delete(type);
    }
  }

  private deliver(recovered: RecoveredType[], started: number, isListing: boolean): void {
    if (recovered.length > 0) this.hooks?.onRecovered(recovered);
    if (!isListing && recovered.length === 0) return;
    this.hooks?.emit('recovered', {
      types: recovered.length,
      events: recovered.reduce((n, r) => n + r.members.length, 0),
      durationMs: this.options.clock.now() - started,
    });
  }
}
