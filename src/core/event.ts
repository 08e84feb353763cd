import { MonitorError, describeValue } from './errors.js';

/** A metadata value: flat scalars only. */
export type MetadataValue = string | number | boolean | null;
/** Flat metadata attached to an event. */
export type Metadata = Readonly<Record<string, MetadataValue>>;

/** Well-known event kinds; any word matching {@link NAME_PATTERN} is also accepted. */
export type KnownKind =
  'connect' | 'disconnect' | 'request' | 'response' | 'error' | 'timeout' | 'reconnect';

/** One recorded connection event. All times are Unix epoch milliseconds. */
export interface ConnectionEvent {
  /** Unique id: `<instance>:<boot>:<sequence>`; sorts in recording order within one process. */
  readonly id: string;
  /** Connection type, e.g. `websocket`, `redis`, `glm`. */
  readonly type: string;
  /** What happened, e.g. `connect`, `response`, `error`. */
  readonly kind: KnownKind | (string & {});
  /** When it happened, Unix epoch milliseconds (integer). */
  readonly timestamp: number;
  /** Latency in milliseconds, finite and ≥ 0. */
  readonly durationMs?: number | undefined;
  /** Error message, truncated to {@link MAX_ERROR_LENGTH} characters. */
  readonly error?: string | undefined;
  /** Flat metadata, bounded by the `MAX_METADATA_*` limits. */
  readonly metadata?: Metadata | undefined;
  /** Id of the process that recorded it. */
  readonly instance: string;
}

/** What a caller passes to `recordEvent`. */
export interface EventInput {
  kind: KnownKind | (string & {});
  durationMs?: number | undefined;
  error?: string | Error | undefined;
  metadata?: Record<string, MetadataValue> | undefined;
  /** Unix epoch ms (a `Date` is accepted); defaults to the monitor's clock. */
  timestamp?: number | Date | undefined;
}

/** Pattern for connection types and kinds. */
export const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
/** Pattern for instance ids (no `:`, so an event id's instance is what comes before its first `:`). */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** What {@link INSTANCE_ID_PATTERN} allows, for error messages. */
export const INSTANCE_ID_RULE = 'must be 1 to 64 of A-Z a-z 0-9 . _ -';
/** What {@link NAME_PATTERN} allows, for error messages. */
export const NAME_RULE =
  'must match ^[a-z][a-z0-9_-]{0,63}$ (lower-case letter first, then up to 63 of a-z 0-9 _ -)';
/** Longer error messages are truncated to this many characters (ending in `…`). */
export const MAX_ERROR_LENGTH = 1024;
/** Most metadata keys per event. */
export const MAX_METADATA_KEYS = 32;
/** Longest metadata key, in characters. */
export const MAX_METADATA_KEY_LENGTH = 64;
/** Longest metadata string value, in characters. */
export const MAX_METADATA_VALUE_LENGTH = 1024;
/** Most characters of metadata keys plus string values together. */
export const MAX_METADATA_TOTAL_LENGTH = 8192;
/**
 * Largest accepted `durationMs`: 365 days. Bounded so that every sum of durations stays finite
 * and exact enough (2^53 events at this bound sum to ~3e26 ms, far below 1.8e308).
 */
export const MAX_DURATION_MS = 365 * 86_400_000;

/** Bytes of one ring slot (4 numbers, 4 references), the fixed part of an event's estimate. */
const SLOT_BYTES = 64;
/** Estimated heap bytes of a string of `n` characters. */
const stringBytes = (n: number): number => 24 + n;

/**
 * Estimated heap bytes an event holds in memory: its ring slot, its error text and its metadata
 * (`metadataBytes`, as {@link checkMetadata} measured it). An estimate of V8's layout (documented
 * as such), used to bound memory, not to report it to the byte.
 */
export function estimateEventBytes(error: string | undefined, metadataBytes: number): number {
  return SLOT_BYTES + (error === undefined ? 0 : stringBytes(error.length)) + metadataBytes;
}

/** Out-parameter of {@link checkMetadata}: the estimated bytes of the metadata it returned. */
export interface MetadataSize {
  bytes: number;
}

/** Estimated heap bytes of a recovered event kept as its stored JSON (parsed on first read). */
export function estimateStoredBytes(json: string): number {
  // Twice the text: once parsed, the object takes about as much again as its JSON.
  return SLOT_BYTES + 2 * stringBytes(json.length);
}

/** Kinds that make an event an error (so does carrying `error`). */
export const ERROR_KINDS: readonly string[] = ['error', 'timeout'];
const [ERROR_KIND, TIMEOUT_KIND] = ERROR_KINDS;

/**
 * The one rule for "is this an error?": its kind is one of {@link ERROR_KINDS} or it carries an
 * `error` message. Used by live stats, the batch encoder, the history filter (generated into its
 * Lua script) and the dashboard.
 */
export function isErrorEvent(kind: string, error: string | null | undefined): boolean {
  // Two comparisons (the list above has two kinds): cheaper than a set lookup on every event.
  return (error !== undefined && error !== null) || kind === ERROR_KIND || kind === TIMEOUT_KIND;
}

function invalid(
  field: string,
  value: unknown,
  allowed: string,
  code: 'CM_ERR_INVALID_EVENT' | 'CM_ERR_INVALID_QUERY' = 'CM_ERR_INVALID_EVENT',
): MonitorError {
  const what = code === 'CM_ERR_INVALID_EVENT' ? 'event' : 'query';
  return new MonitorError(code, `invalid ${what}: ${field} ${describeValue(value)} — ${allowed}`, {
    field,
    value: typeof value === 'string' ? value.slice(0, 80) : value,
  });
}

/**
 * The one check of a connection type or kind name: throws `code` (an invalid event by default,
 * or an invalid query) naming `field` unless `value` matches {@link NAME_PATTERN}.
 */
export function assertName(
  value: unknown,
  field: string,
  code: 'CM_ERR_INVALID_EVENT' | 'CM_ERR_INVALID_QUERY' = 'CM_ERR_INVALID_EVENT',
): asserts value is string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw invalid(field, value, NAME_RULE, code);
  }
}

/** Validates a duration: a number of milliseconds from 0 to {@link MAX_DURATION_MS}. */
export function checkDuration(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_DURATION_MS)) {
    throw invalid(
      'durationMs',
      value,
      `must be a finite number ≥ 0 (milliseconds), at most ${MAX_DURATION_MS} (365 days)`,
    );
  }
  return value;
}

/**
 * Validates a timestamp against the accepted window [`oldest`, `newest`] (the retention behind
 * now, the allowed clock skew ahead of it); returns integer epoch ms.
 */
export function checkTimestamp(value: unknown, oldest: number, newest: number): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw invalid('timestamp', ms, 'must be Unix epoch milliseconds (a finite number) or a Date');
  }
  const t = Math.floor(ms);
  if (t < oldest || t > newest) {
    throw invalid(
      'timestamp',
      ms,
      `must be within the accepted window ${new Date(oldest).toISOString()} … ${new Date(newest).toISOString()} (the retention before now, the allowed clock skew after it)`,
    );
  }
  return t;
}

/** Normalises an error: Error → message, truncated to {@link MAX_ERROR_LENGTH}. */
export function checkError(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value instanceof Error) text = value.message || value.name;
  else throw invalid('error', value, 'must be a string or an Error');
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

/**
 * Validates flat metadata and returns a copy (the caller may mutate its object later). `size`,
 * when given, receives the copy's estimated heap bytes (measured in the same pass: no second
 * walk on the `recordEvent` path).
 */
export function checkMetadata(value: unknown, size?: MetadataSize): Metadata | undefined {
  if (size !== undefined) size.bytes = 0;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('metadata', value, 'must be a flat object of strings, numbers, booleans or null');
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw invalid('metadata', value, 'must be a plain object');
  }
  // A spread copy is the fastest clone of a plain object; validation then reads the copy, so a
  // getter on the caller's object runs once and what is checked is what is stored.
  const copy = { ...(value as Record<string, unknown>) };
  let keys = 0;
  let total = 0;
  let strings = 0;
  for (const key in copy) {
    const v = copy[key];
    total += key.length;
    if (typeof v === 'string') {
      total += v.length;
      strings++;
      if (v.length > MAX_METADATA_VALUE_LENGTH) {
        throw invalid(
          `metadata.${key}`,
          v,
          `string values must be at most ${MAX_METADATA_VALUE_LENGTH} characters (got ${v.length})`,
        );
      }
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw invalid(`metadata.${key}`, v, 'numbers must be finite');
    } else if (typeof v !== 'boolean' && v !== null) {
      throw invalid(
        `metadata.${key}`,
        v,
        'must be a string, number, boolean or null (metadata is flat: no objects, arrays or functions)',
      );
    }
    if (key.length > MAX_METADATA_KEY_LENGTH || key.length === 0) {
      throw invalid('metadata key', key, `must be 1 to ${MAX_METADATA_KEY_LENGTH} characters long`);
    }
    keys++;
  }
  if (keys === 0) return undefined;
  if (keys > MAX_METADATA_KEYS) {
    throw invalid('metadata', value, `must have at most ${MAX_METADATA_KEYS} keys`);
  }
  if (total > MAX_METADATA_TOTAL_LENGTH) {
    throw invalid(
      'metadata',
      value,
      `keys and string values must total at most ${MAX_METADATA_TOTAL_LENGTH} characters (got ${total})`,
    );
  }
  // An object (32), a slot per key (24), the characters, a string header per string value (24),
  // a heap number per other value (8).
  if (size !== undefined) size.bytes = 32 + keys * 24 + total + strings * 24 + (keys - strings) * 8;
  return copy as Metadata;
}

/** Throws `CM_ERR_INVALID_EVENT` unless `input` is an object with a valid kind. */
export function checkInput(input: unknown): asserts input is EventInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid(
      'event',
      input,
      'must be an object like { kind, durationMs?, error?, metadata? }',
    );
  }
}
