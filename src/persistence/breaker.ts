import {
  CircuitState as CockatielState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  isBrokenCircuitError,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type { CircuitState } from '../core/circuit.js';

/** Options of {@link FlushBreaker}. */
export interface FlushBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failures: number;
  /**
   * Time the circuit stays open before a probe may half-open it, ms. cockatiel measures it with
   * `Date.now()` (it has no clock option), so tests that need to move it use fake timers.
   */
  resetMs: number;
  /** Called on every state change. */
  onChange: (state: CircuitState) => void;
}

/**
 * One circuit breaker: cockatiel's `ConsecutiveBreaker` behind a `circuitBreaker` policy, used
 * through its public API only. While open, `execute` rejects at once without calling the
 * function; after `resetMs` the next call is the half-open probe; its success closes it. Only
 * what `execute`'s function throws counts as a failure: the writer throws for connection-level
 * failures only, so a batch rejected for its own reason never opens a circuit.
 */
export class FlushBreaker {
  private readonly policy: CircuitBreakerPolicy;
  private readonly consecutive: ConsecutiveBreaker;

  constructor(private readonly options: FlushBreakerOptions) {
    this.consecutive = new ConsecutiveBreaker(options.failures);
    this.policy = circuitBreaker(handleAll, {
      halfOpenAfter: options.resetMs,
      breaker: this.consecutive,
    });
    this.policy.onStateChange((s) => options.onChange(toState(s)));
  }

  /** Current state in our vocabulary. */
  get state(): CircuitState {
    return toState(this.policy.state);
  }

  /** Consecutive failed attempts so far (reset by a success). */
  get consecutiveFailures(): number {
    return this.consecutive.state;
  }

  /** Runs `fn` through the breaker. Rejects with cockatiel's BrokenCircuitError while open. */
  execute<T>(fn: () => Promise<T>): Promise<T> {
    return this.policy.execute(fn);
  }

  /**
   * Opens the circuit now (Redis unreachable at start) the way any failure does: by failing
   * through the policy until it opens, so the usual half-open timing runs from this moment.
   */
  async open(reason: Error): Promise<void> {
    for (let i = 0; i < this.options.failures && this.state !== 'open'; i++) {
      await this.policy.execute(() => Promise.reject(reason)).catch(() => undefined);
    }
  }
}

/** Most breakers kept (cluster masters); beyond it shards share one `other` breaker. */
export const MAX_SHARDS = 1_024;

const SEVERITY: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * One breaker per shard (the whole Redis, or one cluster master), so a dead master stops only the
 * types whose slots it serves. Reports the worst state over all shards.
 */
export class ShardBreakers {
  private readonly breakers = new Map<string, FlushBreaker>();
  private reported: CircuitState = 'closed';

  constructor(
    private readonly options: Omit<FlushBreakerOptions, 'onChange'> & {
      /** Called when the worst state over all shards changes. */
      onChange: (state: CircuitState) => void;
    },
  ) {}

  /** The breaker of `shard`, created on first use. */
  get(shard: string): FlushBreaker {
    const key = this.breakers.has(shard) || this.breakers.size < MAX_SHARDS ? shard : 'other';
    let b = this.breakers.get(key);
    if (b === undefined) {
      b = new FlushBreaker({ ...this.options, onChange: () => this.changed() });
      this.breakers.set(key, b);
    }
    return b;
  }

  /** The worst state over all shards (open, then half-open, then closed). */
  get state(): CircuitState {
    let worst: CircuitState = 'closed';
    for (const b of this.breakers.values()) {
      if (SEVERITY[b.state] > SEVERITY[worst]) worst = b.state;
    }
    return worst;
  }

  /** The most consecutive failures of any shard. */
  get consecutiveFailures(): number {
    let n = 0;
    for (const b of this.breakers.values()) n = Math.max(n, b.consecutiveFailures);
    return n;
  }

  /** Every (shard, breaker). */
  entries(): IterableIterator<[string, FlushBreaker]> {
    return this.breakers.entries();
  }

  private changed(): void {
    const state = this.state;
    if (state === this.reported) return;
    this.reported = state;
    this.options.onChange(state);
  }
}

/** True for the error `execute` throws while the circuit is open. */
export function isCircuitOpenError(err: unknown): boolean {
  return isBrokenCircuitError(err);
}

function toState(s: CockatielState): CircuitState {
  switch (s) {
    case CockatielState.Closed:
      return 'closed';
    case CockatielState.HalfOpen:
      return 'half_open';
    default:
      return 'open';
  }
}
