/**
 * Notable events: the few moments worth a marker on a chart — a circuit opening or closing, an
 * instance starting or stopping, the first error of a type after a quiet period, an alert firing
 * or resolving, or a note of the caller's own (a deploy). Kept in memory (the newest
 * {@link MAX_NOTABLE_IN_MEMORY}) and, with Redis, in one bounded sorted set for the hour
 * retention, shared by the fleet.
 */
import { z } from 'zod';
import { NAME_PATTERN, NAME_RULE } from './event.js';
import { invalidQuery, parseTime } from './query.js';
import { parseWith } from './validate.js';

/** What happened. */
export const NOTABLE_KINDS = ['circuit', 'instance', 'first-error', 'alert', 'note'] as const;
export type NotableKind = (typeof NOTABLE_KINDS)[number];

/** Notable events kept in memory per process (oldest dropped first). */
export const MAX_NOTABLE_IN_MEMORY = 1_000;
/** Notable events kept in Redis for the fleet (oldest trimmed first). */
export const MAX_NOTABLE_STORED = 10_000;
/** Most notable events one query returns. */
export const MAX_NOTABLE_LIMIT = 1_000;
/** Longest message, characters (longer ones are cut). */
export const MAX_NOTABLE_MESSAGE = 300;

/** One notable event. */
export interface NotableEvent {
  /** Unique: `<instance>:<boot>:n<seq>`. */
  id: string;
  /** When it happened, epoch ms. */
  at: number;
  kind: NotableKind;
  /** The instance that saw it. */
  instance: string;
  /** The connection type concerned, when it concerns one. */
  type?: string;
  /**
   * The new state: `open`/`half-open`/`closed` (circuit), `started`/`stopped` (instance),
   * `firing`/`resolved` (alert).
   */
  state?: string;
  /** Human text, e.g. `Redis circuit open: connect ECONNREFUSED`. */
  message: string;
}

/** What a caller gives to record a notable event; id and instance are added. */
export interface NotableInput {
  kind: NotableKind;
  message: string;
  type?: string | undefined;
  state?: string | undefined;
  /** Default: now. */
  at?: number | undefined;
}

const inputSchema = z.strictObject({
  kind: z.enum(NOTABLE_KINDS, { error: `must be one of ${NOTABLE_KINDS.join(', ')}` }),
  message: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .transform((m) => m.slice(0, MAX_NOTABLE_MESSAGE)),
  type: z.string({ error: NAME_RULE }).regex(NAME_PATTERN, { error: NAME_RULE }).optional(),
  state: z.string({ error: 'must be a name' }).regex(NAME_PATTERN, { error: NAME_RULE }).optional(),
  at: z
    .number({ error: 'must be epoch milliseconds' })
    .int({ error: 'must be whole epoch milliseconds' })
    .min(0, { error: 'must be epoch milliseconds' })
    .optional(),
});

/** Checks a notable input; throws `CM_ERR_INVALID_EVENT` naming the field. */
export function checkNotableInput(input: unknown): NotableInput {
  return parseWith(inputSchema, input, 'CM_ERR_INVALID_EVENT', 'notable event');
}

/** Parameters of `getNotableEvents` (times as epoch ms, ISO-8601 strings or Dates). */
export interface NotableQueryInput {
  /** Default: the hour retention ago. */
  from?: number | string | Date | undefined;
  /** Default: now. */
  to?: number | string | Date | undefined;
  type?: string | undefined;
  /** 1…{@link MAX_NOTABLE_LIMIT}; default 200. */
  limit?: number | string | undefined;
}

/**
 * Validates a notable query; the range is clipped to `keepMs` (the hour retention, how long they
 * are kept). Throws `CM_ERR_INVALID_QUERY` naming the parameter.
 */
export function normalizeNotableQuery(
  q: NotableQueryInput,
  now: number,
  keepMs: number,
): NotableQuery {
  if (typeof q !== 'object' || q === null) throw invalidQuery('query', q, 'must be an object');
  const to = parseTime('to', q.to) ?? now;
  const from = Math.max(parseTime('from', q.from) ?? 0, now - keepMs);
  if (from > to) throw invalidQuery('from', q.from, `must not be after to (${to})`);
  if (q.type !== undefined && (typeof q.type !== 'string' || !NAME_PATTERN.test(q.type))) {
    throw invalidQuery('type', q.type, NAME_RULE);
  }
  let limit = 200;
  if (q.limit !== undefined) {
    const n = typeof q.limit === 'string' && /^\d+$/.test(q.limit) ? Number(q.limit) : q.limit;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_NOTABLE_LIMIT) {
      throw invalidQuery('limit', q.limit, `must be a whole number from 1 to ${MAX_NOTABLE_LIMIT}`);
    }
    limit = n;
  }
  return { from, to, type: q.type, limit };
}

/** Parameters of a notable-event query (times in epoch ms). */
export interface NotableQuery {
  from: number;
  to: number;
  /** This type's events and those of no type (circuits, instances); every one when omitted. */
  type?: string | undefined;
  /** Newest first, at most this many. */
  limit: number;
}

/** True when `e` answers query `q`. */
export function matchesNotable(e: NotableEvent, q: NotableQuery): boolean {
  return (
    e.at >= q.from &&
    e.at <= q.to &&
    (q.type === undefined || e.type === undefined || e.type === q.type)
  );
}

/** Newest first, then by id (the same order as the stored sorted set read in reverse). */
export function compareNotable(a: NotableEvent, b: NotableEvent): number {
  return b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The newest notable events of this process, at most {@link MAX_NOTABLE_IN_MEMORY}. */
export class NotableLog {
  private readonly events: NotableEvent[] = [];

  constructor(private readonly capacity = MAX_NOTABLE_IN_MEMORY) {}

  add(e: NotableEvent): void {
    this.events.push(e);
    if (this.events.length > this.capacity) this.events.shift();
  }

  get size(): number {
    return this.events.length;
  }

  query(q: NotableQuery): NotableEvent[] {
    return this.events
      .filter((e) => matchesNotable(e, q))
      .sort(compareNotable)
      .slice(0, q.limit);
  }
}
