import {
  CircuitState as CockatielState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  isBrokenCircuitError,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type { CircuitState } from './persistence.js';

/** Options of {@link FlushBreaker}. */
export interface FlushBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failures: number;
  /** Time the circuit stays open before a probe may half-open it, ms. */
  resetMs: number;
  /** Called on every state change. */
  onChange: (state: CircuitState) => void;
}

/**
 * The persistence circuit breaker: cockatiel's `ConsecutiveBreaker` behind a `circuitBreaker`
 * policy. While open, `execute` rejects at once without calling the function; after `resetMs`
 * the next call is the half-open probe; its success closes the circuit.
 */
export class FlushBreaker {
  private policy: CircuitBreakerPolicy;
  private readonly consecutive: ConsecutiveBreaker;

  constructor(private readonly options: FlushBreakerOptions) {
    this.consecutive = new ConsecutiveBreaker(options.failures);
    this.policy = this.build(undefined);
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
   * Opens the circuit now (Redis unreachable at start): uses cockatiel's own state hydration so
   * the usual half-open timing applies from this moment.
   */
  openNow(): void {
    if (this.policy.state === CockatielState.Open) return;
    this.policy = this.build({
      ownState: { value: CockatielState.Open, openedAt: Date.now(), attemptNo: 1 },
      breakerState: this.options.failures,
    });
    this.options.onChange('open');
  }

  private build(initialState: unknown): CircuitBreakerPolicy {
    const policy = circuitBreaker(handleAll, {
      halfOpenAfter: this.options.resetMs,
      breaker: this.consecutive,
      initialState,
    });
    policy.onStateChange((s) => {
      if (policy === this.policy) this.options.onChange(toState(s));
    });
    return policy;
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
