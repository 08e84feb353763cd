/** Circuit breaker state as reported by `getStatus()` (and by each instance of the fleet). */
export type CircuitState = 'closed' | 'open' | 'half_open';
