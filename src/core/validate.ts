/**
 * The one bridge from zod to our errors: every schema (options, environment, queries, HTTP and
 * WebSocket input, adapter options) is parsed here, and its first problem becomes a
 * `MonitorError` naming the field.
 */
import { z } from 'zod';
import { MonitorError, type ErrorCode } from './errors.js';
import { NAME_PATTERN, NAME_RULE } from './event.js';

/** The first problem zod found: the dotted path of the field and what is allowed. */
export interface FirstIssue {
  /** Dotted path (`limits.wsFrameBytes`, `routes.0.type`); `''` for the value as a whole. */
  readonly path: string;
  /** Top-level key of the path, or undefined for the value as a whole. */
  readonly key: string | undefined;
  /** What is allowed (the schema's own message), or the unknown keys. */
  readonly message: string;
  /** True when the problem is keys the schema does not know (typos). */
  readonly isUnknownKey: boolean;
}

/** `routes[0].type`: keys joined by dots, array indices in brackets. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out;
}

/** Describes the first issue of a failed parse. */
export function firstIssue(error: z.ZodError): FirstIssue {
  const issue = error.issues[0];
  if (issue === undefined) {
    return { path: '', key: undefined, message: 'invalid', isUnknownKey: false };
  }
  const key = issue.path[0] === undefined ? undefined : String(issue.path[0]);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    return {
      path: formatPath([...issue.path, keys[0] ?? '']),
      key: key ?? keys[0],
      message: `unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`,
      isUnknownKey: true,
    };
  }
  return { path: formatPath(issue.path), key, message: issue.message, isUnknownKey: false };
}

/** A connection type or kind name (see `NAME_PATTERN`). */
export const nameSchema = z.string({ error: NAME_RULE }).regex(NAME_PATTERN, { error: NAME_RULE });

/**
 * Parses `value` with `schema`, or throws a `MonitorError` with `code` whose message is built by
 * `describe` from the first issue (the default: `invalid <what>: <field> — <message>`). The
 * error's `field` is the issue's path (the unknown key for a typo), or `what` for the whole value.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code: ErrorCode,
  what: string,
  describe: (issue: FirstIssue) => { message: string; value?: unknown } = (i) => ({
    message: `invalid ${what}: ${i.path === '' ? what : i.path} — ${i.message}`,
  }),
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = firstIssue(parsed.error);
  const { message, value: shown } = describe(issue);
  return throwError(code, message, issue.path === '' ? what : issue.path, shown);
}

function throwError(code: ErrorCode, message: string, field: string, value: unknown): never {
  throw new MonitorError(code, message, value === undefined ? { field } : { field, value });
}
