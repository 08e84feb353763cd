/**
 * Which failures belong to a batch and which to the connection. Only connection-level failures
 * count for a circuit breaker; a batch that fails for a reason of its own (bad data, a key of the
 * wrong type, a corrupt field) is retried a bounded number of times and then quarantined, so it
 * never holds back another type.
 *
 * Redis replies start with an error code (`WRONGTYPE …`, `OOM …`): the protocol's stable token,
 * the one thing read from a reply's text. Everything that is not a reply from Redis (timeouts,
 * refused or closed connections, ioredis's own errors) is connection-level.
 */

/** Reply codes that say the server (or the shard), not the batch, cannot take writes now. */
const CONNECTION_REPLY_CODES: ReadonlySet<string> = new Set([
  'LOADING',
  'OOM',
  'READONLY',
  'BUSY',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'NOAUTH',
  'WRONGPASS',
  'NOPERM',
  'MISCONF',
  'NOREPLICAS',
]);

/** Prefix of the write script's own refusals: `CM_CORRUPT <key> <reason>`, `CM_INVALID <reason>`. */
export const SCRIPT_CORRUPT = 'CM_CORRUPT';
/** Prefix of the write script's refusal of its own input. */
export const SCRIPT_INVALID = 'CM_INVALID';

/** A failure sorted into connection-level or the batch's own, with what to report. */
export interface Failure {
  /** True when the connection (or shard) failed: counts for the breaker, the batch is kept. */
  readonly isConnection: boolean;
  /** Safe to show (no secrets: the caller sanitises). */
  readonly reason: string;
  /** The key concerned, when the reply names one. */
  readonly key?: string;
}

/** The Redis error code of a reply error (`WRONGTYPE`), or undefined for anything else. */
function replyCode(err: unknown): string | undefined {
  if (!(err instanceof Error) || err.name !== 'ReplyError') return undefined;
  const space = err.message.indexOf(' ');
  return space < 0 ? err.message : err.message.slice(0, space);
}

/** Sorts a failure of one command. */
export function classifyFailure(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  const code = replyCode(err);
  if (code === undefined || CONNECTION_REPLY_CODES.has(code)) {
    return { isConnection: true, reason: message };
  }
  if (code === SCRIPT_CORRUPT) {
    // CM_CORRUPT <key> <reason>
    const rest = message.slice(code.length + 1);
    const space = rest.indexOf(' ');
    const key = space < 0 ? rest : rest.slice(0, space);
    return { isConnection: false, key, reason: space < 0 ? 'corrupt' : rest.slice(space + 1) };
  }
  return { isConnection: false, reason: message };
}
