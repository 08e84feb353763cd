/**
 * The `/ws` wire protocol: close codes, the client messages as one zod discriminated union, and
 * {@link decodeMessage}, which turns a received frame into a typed message or the error to answer
 * (too large, binary, malformed JSON, unknown type, invalid field), with the id to echo. Unknown
 * extra fields are ignored, so clients can add fields without breaking older servers.
 */
import type { RawData } from 'ws';
import { z } from 'zod';
import { MonitorError } from '../core/errors.js';
import { nameSchema, parseWith } from '../core/validate.js';

/** Close code for a client that reads too slowly or when the server is full (RFC 6455 "try again later"). */
export const WS_CLOSE_TRY_AGAIN = 1013;
/** Close code for a client that keeps flooding after being rate limited. */
export const WS_CLOSE_POLICY = 1008;
/** Close code when the service shuts down. */
export const WS_CLOSE_GOING_AWAY = 1001;

/** Longest accepted message `id`, characters. */
export const MAX_ID_LENGTH = 128;
/** Most types in one `subscribe`. */
export const MAX_SUBSCRIBE_TYPES = 256;

/** The id a client gave its message, echoed in the answer. */
export type MessageId = string | number | undefined;

const messageId = z.union([z.string().max(MAX_ID_LENGTH), z.number().finite()]).optional();
// Query parameters are checked for shape only: the monitor's query parser checks their meaning
// and answers CM_ERR_INVALID_QUERY naming the parameter, exactly as for GET /api/events.
const queryName = z.string().max(64);
const time = z
  .union([z.number(), z.string().max(64)])
  .nullable()
  .optional();
// Likewise an instance id: its rule is the monitor's (`instance` named in the error).
const instance = z.string().max(128).nullable().optional();
const limit = z.union([z.number(), z.string().max(16)]).optional();

/** Scopes of a subscription: this process's events and stats, or the whole fleet's. */
export const SUBSCRIBE_SCOPES = ['instance', 'fleet'] as const;
/** The scope of a subscription. */
export type SubscribeScope = (typeof SUBSCRIBE_SCOPES)[number];

const historical = z.object({
  type: z.literal('historical'),
  id: messageId,
  connectionType: queryName,
  from: time,
  to: time,
  limit,
  before: z.string().max(256).nullable().optional(),
  kind: queryName.optional(),
  errorsOnly: z.boolean().optional(),
  instance,
});
const timeSeries = z.object({
  type: z.literal('time_series'),
  id: messageId,
  connectionType: queryName.nullable().optional(),
  from: time,
  to: time,
  bucket: z
    .union([z.number(), z.string().max(16)])
    .nullable()
    .optional(),
  instance,
});
const status = z.object({ type: z.literal('status'), id: messageId });
const instances = z.object({ type: z.literal('instances'), id: messageId });
const notable = z.object({
  type: z.literal('notable'),
  id: messageId,
  connectionType: queryName.nullable().optional(),
  from: time,
  to: time,
  limit,
});
const subscribe = z.object({
  type: z.literal('subscribe'),
  id: messageId,
  types: z.array(nameSchema).max(MAX_SUBSCRIBE_TYPES).nullable().optional(),
  scope: z
    .enum(SUBSCRIBE_SCOPES, { error: `must be ${SUBSCRIBE_SCOPES.join(' or ')}` })
    .default('instance'),
  notable: z.boolean({ error: 'must be true or false' }).default(true),
});
const unsubscribe = z.object({ type: z.literal('unsubscribe'), id: messageId });

const OPTIONS = [
  historical,
  timeSeries,
  status,
  instances,
  notable,
  subscribe,
  unsubscribe,
] as const;
const KNOWN_TYPES = OPTIONS.map((o) => o.shape.type.value);

/** `historical, time_series, status, instances, notable, subscribe or unsubscribe`. */
const KNOWN_TYPES_TEXT = `${KNOWN_TYPES.slice(0, -1).join(', ')} or ${KNOWN_TYPES.at(-1)}`;

/** Every client message, by `type`; anything else is answered with the list of known types. */
export const clientMessage = z.discriminatedUnion('type', OPTIONS, {
  // Only the union's own issues come here: the input is not an object, or no option has its type.
  error: (iss) => {
    const input: unknown = iss.input;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return 'a message must be a JSON object with a type';
    }
    const type = (input as { type?: unknown }).type;
    const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : 'missing';
    return `unknown message type ${shown}: expected ${KNOWN_TYPES_TEXT}`;
  },
});

/** A parsed client message. */
export type ClientMessage = z.output<typeof clientMessage>;

/** A frame decoded: the message, or the error to answer with the id to echo. */
export type Decoded =
  | { readonly ok: true; readonly message: ClientMessage }
  | { readonly ok: false; readonly id: MessageId; readonly error: MonitorError };

const badRequest = (message: string) => new MonitorError('CM_ERR_BAD_REQUEST', message);

/** Decodes one received frame; never throws. */
export function decodeMessage(data: RawData, isBinary: boolean, maxBytes: number): Decoded {
  const size = byteLength(data);
  if (size > maxBytes) {
    const error = new MonitorError(
      'CM_ERR_PAYLOAD_TOO_LARGE',
      `message of ${size} bytes is too large: at most ${maxBytes}`,
    );
    return { ok: false, id: undefined, error };
  }
  if (isBinary) {
    const error = badRequest('binary messages are not accepted: send JSON text');
    return { ok: false, id: undefined, error };
  }
  let json: unknown;
  try {
    json = JSON.parse(textOf(data));
  } catch {
    return { ok: false, id: undefined, error: badRequest('malformed JSON') };
  }
  try {
    const message = parseWith(clientMessage, json, 'CM_ERR_BAD_REQUEST', 'message', (issue) => ({
      // The union's own messages (not an object, unknown type) are complete sentences.
      message:
        issue.path === '' || issue.path === 'type'
          ? issue.message
          : `invalid ${String((json as { type: unknown }).type)} message: ${issue.path} — ${issue.message}`,
    }));
    return { ok: true, message };
  } catch (err) {
    return { ok: false, id: echoedId(json), error: err as MonitorError };
  }
}

/** The id of an invalid message, when it is one we can echo (a short string or finite number). */
function echoedId(json: unknown): MessageId {
  if (typeof json !== 'object' || json === null) return undefined;
  const parsed = messageId.safeParse((json as { id?: unknown }).id);
  return parsed.success ? parsed.data : undefined;
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
