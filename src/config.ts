/**
 * The environment → options mapping, and the only reader of environment variables. Each variable
 * is turned from text into the option's type in the seed's unit (seconds, hours); defaults,
 * ranges and cross-field rules are the options' own (`options.ts`), so they are written once.
 */
import { z } from 'zod';
import { describeValue, MonitorError } from './core/errors.js';
import { redactUrl } from './core/redact.js';
import { firstIssue } from './core/validate.js';
import {
  monitorOptionsSchema,
  serviceFields,
  SERVICE_DEFAULTS,
  type ClusterNode,
  type PlainOptions,
} from './options.js';

/** Settings that come from the environment (see the README's configuration table). */
export interface EnvConfig extends Omit<
  PlainOptions,
  'closeTimeoutMs' | 'maxTypes' | 'maxKindsPerType' | 'maxMemoryBytes'
> {
  /** Service bind host (`MONITOR_HOST`). */
  host: string;
  /** Service port (`MONITOR_PORT`). */
  port: number;
  /** Bearer token (`MONITOR_TOKEN`); never logged. */
  token: string | undefined;
}

const text = z.string().trim();

/** Whole numbers: the option's own rule says what is allowed ("abc" fails it as NaN). */
const integer = text.transform(Number);

/** A plain decimal in `unit`, converted to ms by `scale`; the option checks the range. */
function decimal(scale: number) {
  return text
    .regex(/^-?\d+(\.\d+)?$/, { error: 'must be a number' })
    .transform((s) => Math.round(Number(s) * scale));
}

const bool = z.stringbool({
  truthy: ['true', '1', 'yes', 'on'],
  falsy: ['false', '0', 'no', 'off'],
  error: 'must be one of true, false, 1, 0, yes, no, on, off',
});

const hostPort = /^\s*([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\s*$/;
const clusterNodes = z.string().transform((raw, ctx): ClusterNode[] => {
  const nodes: ClusterNode[] = [];
  for (const part of raw.split(',')) {
    const m = hostPort.exec(part);
    if (m === null) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a comma-separated list of host:port; bad entry ${JSON.stringify(part)}`,
      });
      return z.NEVER;
    }
    nodes.push({ host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) });
  }
  return nodes;
});

interface Variable {
  /** The option it sets. */
  readonly option: keyof EnvConfig;
  /** Text → the option's type. */
  readonly parse: z.ZodType<unknown, string>;
  /** Said after every problem with it (the variable's unit). */
  readonly unit?: string;
  /** Never echoed (a secret). */
  readonly isSecret?: boolean;
}

const SECONDS = { parse: decimal(1_000), unit: 'seconds, decimals allowed' } as const;
const HOURS = { parse: decimal(3_600_000), unit: 'hours, decimals allowed' } as const;
const MINUTES = { parse: decimal(60_000), unit: 'minutes, decimals allowed' } as const;
const DAYS = { parse: decimal(86_400_000), unit: 'days, decimals allowed' } as const;

/** Each variable, the option it sets, and how its text is read. */
const VARIABLES = {
  REDIS_PERSISTENCE_ENABLED: { option: 'persistence', parse: bool },
  REDIS_URL: { option: 'redisUrl', parse: text },
  REDIS_BATCH_SIZE: { option: 'batchSize', parse: integer },
  REDIS_FLUSH_INTERVAL: { option: 'flushIntervalMs', ...SECONDS },
  REDIS_QUEUE_SIZE: { option: 'maxQueueSize', parse: integer },
  REDIS_RETENTION_HOURS: { option: 'retentionMs', ...HOURS },
  ROLLUP_HOURLY_RETENTION_DAYS: { option: 'hourlyRetentionMs', ...DAYS },
  ROLLUP_DAILY_RETENTION_DAYS: { option: 'dailyRetentionMs', ...DAYS },
  MONITOR_QUIET_PERIOD_MINUTES: { option: 'quietPeriodMs', ...MINUTES },
  MONITOR_BUFFER_SIZE: { option: 'bufferSize', parse: integer },
  REDIS_BREAKER_FAILURES: { option: 'breakerFailures', parse: integer },
  REDIS_BREAKER_RESET: { option: 'breakerResetMs', ...SECONDS },
  REDIS_SOCKET_TIMEOUT: { option: 'socketTimeoutMs', ...SECONDS },
  REDIS_CONNECT_TIMEOUT: { option: 'connectTimeoutMs', ...SECONDS },
  REDIS_KEY_PREFIX: { option: 'keyPrefix', parse: text },
  REDIS_CLUSTER_NODES: {
    option: 'clusterNodes',
    parse: clusterNodes,
    unit: 'a comma-separated list of host:port',
  },
  MONITOR_INSTANCE_ID: { option: 'instanceId', parse: text },
  MONITOR_HOST: { option: 'host', parse: text },
  MONITOR_PORT: { option: 'port', parse: integer },
  MONITOR_TOKEN: { option: 'token', parse: z.string(), isSecret: true },
  MONITOR_MAX_CLOCK_SKEW: { option: 'maxClockSkewMs', ...SECONDS },
  MONITOR_HEARTBEAT_INTERVAL: { option: 'heartbeatMs', ...SECONDS },
} as const satisfies Record<string, Variable>;

/**
 * The seed's separate credentials: they go into `redisUrl` (and win over the URL's own), so
 * every later rule and every redaction sees one URL. Never echoed.
 */
const CREDENTIALS = {
  REDIS_USERNAME: {
    part: 'username',
    parse: z.string().max(512, { error: 'must be at most 512 characters' }),
  },
  REDIS_PASSWORD: {
    part: 'password',
    parse: z.string().max(4096, { error: 'must be at most 4096 characters' }),
  },
  REDIS_DB: {
    part: 'db',
    parse: text.regex(/^\d{1,2}$/, { error: 'must be a database number from 0 to 99' }),
  },
} as const;

type CredentialName = keyof typeof CREDENTIALS;

type VariableName = keyof typeof VARIABLES;

/** Names of every environment variable read by {@link configFromEnv}. */
export const ENV_VARIABLES = [...Object.keys(VARIABLES), ...Object.keys(CREDENTIALS)] as (
  VariableName | CredentialName
)[];

const OPTION_VARIABLES = Object.keys(VARIABLES) as VariableName[];

const VARIABLE_OF = new Map<string, VariableName>(
  OPTION_VARIABLES.map((name) => [VARIABLES[name].option, name]),
);

const envSchema = monitorOptionsSchema.extend({
  host: serviceFields.host.default(SERVICE_DEFAULTS.host),
  port: serviceFields.port.default(SERVICE_DEFAULTS.port),
  token: serviceFields.token.optional(),
});

/** `NAME="value as given"`, a Redis password hidden and a secret not shown at all. */
function shown(name: VariableName, raw: string): string {
  const spec: Variable = VARIABLES[name];
  if (spec.isSecret === true) return `${name}=(hidden)`;
  return `${name}=${describeValue(name === 'REDIS_URL' ? redactUrl(raw) : raw)}`;
}

function configError(name: VariableName, raw: string, allowed: string): MonitorError {
  const spec: Variable = VARIABLES[name];
  const unit = spec.unit === undefined ? '' : ` (${spec.unit})`;
  return new MonitorError(
    'CM_ERR_CONFIG',
    `${shown(name, raw)} is not allowed: ${allowed}${unit}`,
    {
      field: name,
      value: spec.isSecret === true ? undefined : name === 'REDIS_URL' ? redactUrl(raw) : raw,
    },
  );
}

/** Option names in a message (a cross-field rule) said as the variables that set them. */
function asVariables(message: string): string {
  return message.replace(/\b[a-z]+[A-Z][A-Za-z]*\b/g, (word) => VARIABLE_OF.get(word) ?? word);
}

/**
 * Reads configuration from an object shaped like `process.env` (`process.env` itself included).
 * Unset and empty variables take the defaults. Throws `CM_ERR_CONFIG` naming the variable, the
 * value as given and what is allowed.
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): EnvConfig {
  if (typeof env !== 'object' || env === null) {
    throw new MonitorError('CM_ERR_CONFIG', 'the environment must be an object like process.env');
  }
  const given = new Map<VariableName, string>();
  const options: Record<string, unknown> = {};
  for (const name of OPTION_VARIABLES) {
    const raw: unknown = env[name];
    if (raw === undefined || raw === '') continue;
    if (typeof raw !== 'string') {
      throw new MonitorError('CM_ERR_CONFIG', `${name} must be a string, got ${typeof raw}`, {
        field: name,
      });
    }
    given.set(name, raw);
    const spec: Variable = VARIABLES[name];
    const parsed = spec.parse.safeParse(raw);
    if (!parsed.success) throw configError(name, raw, firstIssue(parsed.error).message);
    options[spec.option] = parsed.data;
  }
  const credentials = readCredentials(env);
  if (credentials.size > 0) {
    options.redisUrl = withCredentials(
      (options.redisUrl as string | undefined) ??
        monitorOptionsSchema.shape.redisUrl.parse(undefined),
      credentials,
    );
  }
  const parsed = envSchema.safeParse(options);
  if (parsed.success) {
    // Only what the environment sets (defaults included): the caller's overrides and the
    // monitor's own defaults cover the rest.
    const out: Record<string, unknown> = {};
    for (const name of OPTION_VARIABLES) {
      out[VARIABLES[name].option] = parsed.data[VARIABLES[name].option];
    }
    return out as unknown as EnvConfig;
  }
  const issue = firstIssue(parsed.error);
  const name = issue.key === undefined ? undefined : VARIABLE_OF.get(issue.key);
  const message = asVariables(issue.message);
  if (name === undefined || issue.key === undefined)
    throw new MonitorError('CM_ERR_CONFIG', message);
  // A problem inside a list (REDIS_CLUSTER_NODES): say which entry.
  const inner = issue.path.slice(issue.key.length);
  const allowed = inner === '' ? message : `entry ${inner}: ${message}`;
  throw configError(name, given.get(name) ?? '', allowed);
}

/** The credential variables set, checked (their values are never echoed). */
function readCredentials(
  env: Readonly<Record<string, string | undefined>>,
): Map<'username' | 'password' | 'db', string> {
  const out = new Map<'username' | 'password' | 'db', string>();
  for (const name of Object.keys(CREDENTIALS) as CredentialName[]) {
    const raw: unknown = env[name];
    if (raw === undefined || raw === '') continue;
    const spec = CREDENTIALS[name];
    const parsed = typeof raw === 'string' ? spec.parse.safeParse(raw) : undefined;
    if (parsed === undefined || !parsed.success) {
      const allowed = parsed === undefined ? 'must be a string' : firstIssue(parsed.error).message;
      throw new MonitorError('CM_ERR_CONFIG', `${name}=(hidden) is not allowed: ${allowed}`, {
        field: name,
      });
    }
    out.set(spec.part, parsed.data);
  }
  return out;
}

/** `url` with the credentials and database that were given separately (they win). */
function withCredentials(url: string, parts: Map<'username' | 'password' | 'db', string>): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url; // the URL's own rule reports it
  }
  const username = parts.get('username');
  const password = parts.get('password');
  const db = parts.get('db');
  // The URL setters percent-encode; ioredis decodes, so any character survives.
  if (username !== undefined) u.username = username;
  if (password !== undefined) u.password = password;
  if (db !== undefined) u.pathname = `/${db}`;
  return u.toString();
}
