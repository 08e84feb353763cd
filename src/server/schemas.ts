/**
 * zod schemas of what HTTP clients send: the query strings of the routes and the ingestion body.
 * They are the routes' `schema` (compiled by `validation.ts`), so a handler only ever sees parsed
 * input. They check shape (strings vs numbers, sizes, known parameters); the monitor's query
 * parsers check meaning (type names, dates, buckets, ranges) and name the bad parameter, the same
 * way for HTTP and WebSocket. Unknown query parameters and event fields are rejected (typos
 * should not pass silently); `?token=` is allowed everywhere because auth reads it.
 */
import { z } from 'zod';
import { MAX_HISTORY_LIMIT } from '../core/query.js';
import { nameSchema } from '../core/validate.js';

const name = z.string().max(64);
const time = z.string().max(64).optional();
const flag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
  .transform((v) => v === 'true' || v === '1')
  .optional();
const token = z.string().optional();
// An instance id: shape only; the monitor's query parser checks the id rule and names `instance`.
const instance = z.string().max(128).optional();

/** Scopes of `GET /api/stats`: this process (the default) or the whole fleet. */
export const STATS_SCOPES = ['instance', 'fleet'] as const;

/**
 * `GET /api/stats` query. The name rule is checked here: stats have no query parser of their own;
 * `scope` likewise.
 */
export const statsQuery = z.strictObject({
  token,
  type: nameSchema.optional(),
  scope: z
    .enum(STATS_SCOPES, { error: `must be ${STATS_SCOPES.join(' or ')}` })
    .default('instance'),
});

/** `GET /api/instances` query. */
export const instancesQuery = z.strictObject({ token });

/** `GET /api/notable` query. */
export const notableQuery = z.strictObject({
  token,
  from: time,
  to: time,
  type: name.optional(),
  limit: z.string().max(16).optional(),
});

/** `GET /api/events` query. */
export const eventsQuery = z.strictObject({
  token,
  type: name,
  from: time,
  to: time,
  limit: z
    .string()
    .regex(/^\d{1,16}$/, { error: `must be a whole number from 1 to ${MAX_HISTORY_LIMIT}` })
    .transform(Number)
    .optional(),
  before: z.string().max(256).optional(),
  kind: name.optional(),
  errorsOnly: flag,
  instance,
});

/** `GET /api/timeseries` query. */
export const timeseriesQuery = z.strictObject({
  token,
  type: name.optional(),
  from: time,
  to: time,
  bucket: z.string().max(16).optional(),
  instance,
});

/**
 * `POST /api/events` body: one event object or a non-empty array. Each event is then validated on
 * its own with {@link ingestEvent} (one bad event must not fail the others).
 */
export const ingestBody = z
  .custom<Record<string, unknown> | unknown[]>((v) => typeof v === 'object' && v !== null, {
    error: 'the body must be one event object or an array of events',
  })
  .refine((v) => !Array.isArray(v) || v.length > 0, { error: 'the array holds no events' });

const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** One event in `POST /api/events`; unknown fields are rejected so typos do not pass silently. */
export const ingestEvent = z.strictObject({
  type: name,
  kind: name,
  durationMs: z.number().optional(),
  error: z.string().max(65_536).optional(),
  metadata: z.record(z.string(), metadataValue).optional(),
  timestamp: z.number().optional(),
});
