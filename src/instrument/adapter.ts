/**
 * What every adapter shares: option parsing (zod, like every other option), the attach guard,
 * and a recorder that never throws into the instrumented code.
 */
import { z } from 'zod';
import { MonitorError, describeValue, isMonitorError } from '../core/errors.js';
import type { EventInput } from '../core/event.js';
import { parseWith } from '../core/validate.js';
import type { ConnectionMonitor } from '../monitor.js';

/** Removes everything an adapter attached. Idempotent: later calls do nothing. */
export type Disposer = () => void;

/** Where an adapter's failure to record came from. */
export interface AdapterErrorContext {
  /** `websocket`, `redis` or `http`. */
  readonly adapter: string;
  /** The connection type the adapter records under. */
  readonly type: string;
}

/** Options every adapter accepts. */
export interface AdapterOptions {
  /**
   * Called when recording an event fails (for example the monitor rejected it). The adapter never
   * throws into the instrumented code; without `onError` the first failure of each error code is
   * logged at warn level through the monitor's logger, later ones at debug. A throwing `onError`
   * is ignored. When the monitor is closed the adapter disposes itself instead.
   */
  onError?: (error: unknown, context: AdapterErrorContext) => void;
}

/** The options every adapter accepts, as a zod shape to extend. */
export const adapterOptionsShape = {
  onError: z
    .custom<AdapterOptions['onError']>((v) => typeof v === 'function', {
      error: 'must be a function (error, context) => void',
    })
    .optional(),
};

/** A whole number of milliseconds in [0, 2^31 − 1] (what timers accept). */
export const timerMsSchema = z
  .number({ error: 'must be a number of milliseconds from 0 to 2147483647' })
  .min(0, { error: 'must be a number of milliseconds from 0 to 2147483647' })
  .max(2 ** 31 - 1, { error: 'must be a number of milliseconds from 0 to 2147483647' });

/**
 * Validates an adapter's arguments: `monitor` must be a ConnectionMonitor and `options` match
 * `schema`. Throws `CM_ERR_CONFIG` naming the option (`routes[0].type`), its value and the rule.
 */
export function parseAdapterOptions<S extends z.ZodType>(
  adapter: string,
  monitor: unknown,
  schema: S,
  options: unknown,
): z.output<S> {
  checkMonitor(monitor);
  return parseWith(schema, options ?? {}, 'CM_ERR_CONFIG', 'options', (issue) => {
    const value = describeValue(valueAt(options, issue.path));
    return {
      message: `${adapter}: invalid option ${issue.path || 'options'}: ${value} — ${issue.message}`,
      value,
    };
  });
}

/** The value at a `routes[0].type` path (for the error message). */
function valueAt(root: unknown, path: string): unknown {
  let v = root;
  for (const key of path.split(/\.|\[|\]/).filter((k) => k !== '')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Throws `CM_ERR_CONFIG` unless `monitor` looks like a ConnectionMonitor. */
function checkMonitor(monitor: unknown): asserts monitor is ConnectionMonitor {
  if (
    typeof monitor !== 'object' ||
    monitor === null ||
    typeof (monitor as { recordEvent?: unknown }).recordEvent !== 'function'
  ) {
    throw new MonitorError(
      'CM_ERR_CONFIG',
      'invalid argument monitor: must be a ConnectionMonitor',
      {
        field: 'monitor',
        value: describeValue(monitor),
      },
    );
  }
}

const attached = new WeakMap<object, WeakMap<object, string>>();

/**
 * Claims `target` for `adapter` on `monitor`; the returned function releases the claim.
 * @throws MonitorError `CM_ERR_CONFIG` (field `target`) when the same adapter is already attached
 *   to this target for this monitor: attaching twice would count every event twice.
 */
export function claimTarget(target: object, monitor: object, adapter: string): () => void {
  let byMonitor = attached.get(target);
  if (byMonitor === undefined) {
    byMonitor = new WeakMap();
    attached.set(target, byMonitor);
  }
  if (byMonitor.has(monitor)) {
    throw new MonitorError(
      'CM_ERR_CONFIG',
      `${adapter} is already attached to this target for this monitor; call the disposer it returned before attaching again`,
      { field: 'target', value: adapter },
    );
  }
  byMonitor.set(monitor, adapter);
  const claimed = byMonitor;
  return () => {
    claimed.delete(monitor);
  };
}

/**
 * Records events for one adapter, catching everything: a rejected event goes to `onError` (or the
 * monitor's logger); a closed monitor stops the adapter through `onClosed`.
 */
export class SafeRecorder {
  /** The connection type events are recorded under. */
  readonly type: string;
  private isStopped = false;
  private readonly warnedCodes = new Set<string>();
  private readonly context: AdapterErrorContext;

  constructor(
    private readonly monitor: ConnectionMonitor,
    type: string,
    adapter: string,
    private readonly onError: AdapterOptions['onError'],
    private readonly onClosed: () => void,
  ) {
    this.type = type;
    this.context = { adapter, type };
  }

  /** Records one event; never throws. */
  record(input: EventInput): void {
    if (this.isStopped) return;
    try {
      this.monitor.recordEvent(this.type, input);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Reports an unexpected failure inside an adapter's own listener; never throws. */
  fail(err: unknown): void {
    if (isMonitorError(err, 'CM_ERR_CLOSED')) {
      if (!this.isStopped) {
        this.isStopped = true;
        this.log('debug', err, 'connection-monitor: monitor closed; instrumentation detached');
        try {
          this.onClosed();
        } catch (closeErr) {
          this.log('warn', closeErr, 'connection-monitor: detaching instrumentation failed');
        }
      }
      return;
    }
    if (this.onError !== undefined) {
      try {
        this.onError(err, this.context);
      } catch {
        // A throwing onError must not reach the instrumented code either.
      }
      return;
    }
    const code = isMonitorError(err) ? err.code : 'unexpected';
    const isFirst = !this.warnedCodes.has(code);
    if (isFirst) this.warnedCodes.add(code);
    this.log(
      isFirst ? 'warn' : 'debug',
      err,
      `connection-monitor: ${this.context.adapter} instrumentation could not record an event`,
    );
  }

  /** Stops recording (used by disposers). */
  stop(): void {
    this.isStopped = true;
  }

  private log(level: 'warn' | 'debug', err: unknown, msg: string): void {
    try {
      this.monitor.options.logger[level]({ err, ...this.context }, msg);
    } catch {
      // Logging is best effort.
    }
  }
}

/** The query string and fragment cut off, and at most `max` characters. */
export function stripQuery(path: string, max = 256): string {
  let end = path.length;
  const q = path.indexOf('?');
  if (q !== -1) end = q;
  const h = path.indexOf('#');
  if (h !== -1 && h < end) end = h;
  return end > max ? `${path.slice(0, max - 1)}…` : path.slice(0, end);
}

/**
 * `fn` with every exception caught and reported to `recorder`: a listener that throws inside a
 * diagnostics_channel publish or an EventEmitter emit would surface in the instrumented code.
 */
export function guarded<A extends unknown[]>(
  recorder: SafeRecorder | undefined,
  fn: (...args: A) => void,
): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (err) {
      recorder?.fail(err);
    }
  };
}
