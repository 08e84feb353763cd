import {
  CircuitState as CockatielState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  isBrokenCircuitError,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type { CircuitState } from '../core/persistence.js';

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
 * The persistence circuit breaker: cockatiel's `ConsecutiveBreaker` behind a `circuitBreaker`
 * policy, used through its public API only. While open, `execute` rejects at once without calling
 * the function; after `resetMs` the next call is the half-open probe; its success closes it.
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
