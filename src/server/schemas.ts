/**
 * zod schemas for everything a client sends: HTTP query strings, the ingestion body and WebSocket
 * messages. They check shape only (strings vs numbers, sizes); the monitor's own parsers check
 * meaning (type names, dates, buckets) and name the bad field. Unknown query parameters and event
 * fields are rejected (typos should not pass silently); unknown WebSocket message fields are
 * ignored, so clients can add fields without breaking older servers.
 */
import { z } from 'zod';
import { MonitorError, type ErrorCode } from '../core/errors.js';

/** Longest accepted message `id`, characters. */
export const MAX_ID_LENGTH = 128;
/** Most types in one `subscribe`. */
export const MAX_SUBSCRIBE_TYPES = 256;

const name = z.string().max(64);
const httpTime = z.string().max(64).optional();
const flag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
  .transform((v) => v === 'true' || v === '1')
  .optional();

/** `?token=` may accompany any query (auth reads it); other unknown parameters are typos. */
const token = z.string().optional();

/** `GET /api/stats` query. */
export const statsQuery = z.strictObject({ type: name.optional(), token });

/** `GET /api/events` query. */
export const eventsQuery = z.strictObject({
  token,
  type: name,
  from: httpTime,
  to: httpTime,
  limit: z.string().max(16).optional(),
  before: z.string().max(256).optional(),
  kind: name.optional(),
  errorsOnly: flag,
});

/** `GET /api/timeseries` query. */
export const timeseriesQuery = z.strictObject({
  token,
  type: name.optional(),
  from: httpTime,
  to: httpTime,
  bucket: z.string().max(16).optional(),
});

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

const messageId = z.union([z.string().max(MAX_ID_LENGTH), z.number().finite()]).optional();
const wsTime = z
  .union([z.number(), z.string().max(64)])
  .nullable()
  .optional();

/** Client → server WebSocket messages, by `type`. Unknown extra fields are ignored. */
export const wsMessages = {
  historical: z.object({
    type: z.literal('historical'),
    id: messageId,
    connectionType: name,
    from: wsTime,
    to: wsTime,
    limit: z.union([z.number(), z.string().max(16)]).optional(),
    before: z.string().max(256).nullable().optional(),
    kind: name.optional(),
    errorsOnly: z.boolean().optional(),
  }),
  time_series: z.object({
    type: z.literal('time_series'),
    id: messageId,
    connectionType: name.nullable().optional(),
    from: wsTime,
    to: wsTime,
    bucket: z
      .union([z.number(), z.string().max(16)])
      .nullable()
      .optional(),
  }),
  status: z.object({ type: z.literal('status'), id: messageId }),
  subscribe: z.object({
    type: z.literal('subscribe'),
    id: messageId,
    types: z.array(name).max(MAX_SUBSCRIBE_TYPES).nullable().optional(),
  }),
  unsubscribe: z.object({ type: z.literal('unsubscribe'), id: messageId }),
} as const;

/** A parsed client message. */
export type WsMessage = {
  [K in keyof typeof wsMessages]: z.infer<(typeof wsMessages)[K]>;
}[keyof typeof wsMessages];

/** Parses with `schema` or throws a `MonitorError` with `code` naming the first bad field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code: ErrorCode,
  what: string,
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? what : issue.path.join('.');
  const detail =
    issue?.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
      : (issue?.message ?? 'invalid');
  throw new MonitorError(code, `invalid ${what}: ${field} — ${detail}`, {
    field: issue?.code === 'unrecognized_keys' ? (issue.keys[0] ?? field) : field,
  });
}
