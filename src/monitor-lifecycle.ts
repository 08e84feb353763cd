/**
 * The monitor's lifecycle: `new` → `running` (start) → `closing` → `closed`. Start connects the
 * persistence layer once, close drains it once; each is idempotent, and this instance's start
 * and stop are notable events for the fleet.
 */
import { MonitorError } from './core/errors.js';
import type { Persistence, PersistenceHooks } from './core/persistence.js';
import type { MonitorStatus } from './core/status.js';
import type { NotableRecorder } from './monitor-notable.js';

/** What the lifecycle drives. */
export interface LifecycleDeps {
  readonly persistence: Persistence;
  readonly hooks: PersistenceHooks;
  readonly notables: NotableRecorder;
  /** Deadline for draining the queue in `close()`, ms. */
  readonly closeTimeoutMs: number;
  /** Called once closed. */
  readonly onClosed: () => void;
}

/** Start and close of one monitor. */
export class MonitorLifecycle {
  state: MonitorStatus['state'] = 'new';
  private startPromise: Promise<void> | undefined;
  private closePromise: Promise<void> | undefined;

  constructor(private readonly deps: LifecycleDeps) {}

  /** True once `close()` was called: nothing more is accepted. */
  get isClosed(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  start(): Promise<void> {
    if (this.isClosed) {
      return Promise.reject(new MonitorError('CM_ERR_CLOSED', 'the monitor is closed'));
    }
    this.startPromise ??= this.deps.persistence.start(this.deps.hooks).then(() => {
      if (this.state !== 'new') return;
      this.state = 'running';
      this.deps.notables.lifecycle('started');
    });
    return this.startPromise;
  }

  close(): Promise<void> {
    this.closePromise ??= (async () => {
      const wasRunning = this.state === 'running';
      this.state = 'closing';
      try {
        if (wasRunning) this.deps.notables.lifecycle('stopped');
        await this.startPromise?.catch(() => undefined);
        await this.deps.persistence.close(this.deps.closeTimeoutMs);
      } finally {
        this.state = 'closed';
        this.deps.onClosed();
      }
    })();
    return this.closePromise;
  }
}
