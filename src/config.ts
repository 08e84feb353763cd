import { hostname } from 'node:os';
import { z } from 'zod';
import { MonitorError, describeValue } from './core/errors.js';

/** Seed defaults, in the units the options use (ms). */
export const DEFAULTS = {
  persistence: true,
  redisUrl: 'redis://127.0.0.1:6379',
  batchSize: 100,
  flushIntervalMs: 5_000,
  maxQueueSize: 1_000,
  retentionMs: 24 * 3_600_000,
  bufferSize: 10_000,
  breakerFailures: 5,
  breakerResetMs: 30_000,
  socketTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  keyPrefix: 'connection_monitor',
  closeTimeoutMs: 10_000,
  host: '127.0.0.1',
  port: 8080,
} as const;

/** A Redis Cluster seed node. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** Settings that come from the environment (see the README's configuration table). */
export interface EnvConfig {
  persistence: boolean;
  redisUrl: string;
  batchSize: number;
  flushIntervalMs: number;
  maxQueueSize: number;
  retentionMs: number;
  bufferSize: number;
  breakerFailures: number;
  breakerResetMs: number;
  socketTimeoutMs: number;
  connectTimeoutMs: number;
  keyPrefix: string;
  clusterNodes: ClusterNode[] | undefined;
  instanceId: string;
  /** Service bind host (`MONITOR_HOST`). */
  host: string;
  /** Service port (`MONITOR_PORT`). */
  port: number;
  /** Bearer token (`MONITOR_TOKEN`); never logged. */
  token: string | undefined;
}

/** Pattern for instance ids. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Pattern for key prefixes. */
export const KEY_PREFIX_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Shortest accepted MONITOR_TOKEN. */
export const MIN_TOKEN_LENGTH = 12;

/** The default instance id: `<hostname>-<pid>`, made safe for ids. */
export function defaultInstanceId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 48) || 'host';
  return `${host}-${process.pid}`;
}

/** Replaces the password (and user) of a Redis URL with `***`; safe for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    if (u.username !== '' && u.password === '') u.username = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

type Check<T> = (raw: string) => T;

function configError(name: string, raw: string, allowed: string): MonitorError {
  const shown = name === 'MONITOR_TOKEN' ? '(hidden)' : describeValue(raw);
  return new MonitorError('CM_ERR_CONFIG', `${name}=${shown} is not allowed: ${allowed}`, {
    field: name,
    value: name === 'MONITOR_TOKEN' ? undefined : raw,
  });
}

const NUMBER = /^\s*\d+(\.\d+)?\s*$/;
const INTEGER = /^\s*\d+\s*$/;

function intRange(min: number, max: number): Check<number> {
  return (raw) => {
    const n = INTEGER.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** A positive decimal in `unit`, converted to ms by `scale`. */
function positiveDecimal(unit: string, scale: number, max: number): Check<number> {
  return (raw) => {
    const n = NUMBER.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(n) || n <= 0 || n > max) {
      throw new Error(
        `expected a number of ${unit} greater than 0 and at most ${max} (decimals allowed)`,
      );
    }
    return Math.round(n * scale);
  };
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

const bool: Check<boolean> = (raw) => {
  const w = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  throw new Error('expected one of true, false, 1, 0, yes, no, on, off');
};

const redisUrl: Check<string> = (raw) => {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new Error('expected a URL like redis://[:password@]host:6379[/db] or rediss://…');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`expected the redis:// or rediss:// scheme, got ${u.protocol}//`);
  }
  if (u.hostname === '') throw new Error('expected a host in the URL');
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw new Error('expected a database number as the path');
  return raw.trim();
};

const clusterNodes: Check<ClusterNode[]> = (raw) =>
  raw.split(',').map((part) => {
    const m = /^\s*([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\s*$/.exec(part);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65_535) {
      throw new Error(
        `expected a comma-separated list of host:port (port 1-65535); bad entry ${JSON.stringify(part)}`,
      );
    }
    return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
  });

function pattern(re: RegExp, what: string): Check<string> {
  return (raw) => {
    if (!re.test(raw)) throw new Error(`expected ${what}`);
    return raw;
  };
}

const token: Check<string> = (raw) => {
  if (raw.length < MIN_TOKEN_LENGTH || /\s/.test(raw)) {
    throw new Error(`expected at least ${MIN_TOKEN_LENGTH} characters without spaces`);
  }
  return raw;
};

/** Each variable, the option it sets, and how its text is checked. */
const VARIABLES = {
  REDIS_PERSISTENCE_ENABLED: ['persistence', bool],
  REDIS_URL: ['redisUrl', redisUrl],
  REDIS_BATCH_SIZE: ['batchSize', intRange(1, 100_000)],
  REDIS_FLUSH_INTERVAL: ['flushIntervalMs', positiveDecimal('seconds', 1_000, 3_600)],
  REDIS_QUEUE_SIZE: ['maxQueueSize', intRange(1, 10_000_000)],
  REDIS_RETENTION_HOURS: ['retentionMs', positiveDecimal('hours', 3_600_000, 24 * 366)],
  MONITOR_BUFFER_SIZE: ['bufferSize', intRange(1, 10_000_000)],
  REDIS_BREAKER_FAILURES: ['breakerFailures', intRange(1, 1_000)],
  REDIS_BREAKER_RESET: ['breakerResetMs', positiveDecimal('seconds', 1_000, 86_400)],
  REDIS_SOCKET_TIMEOUT: ['socketTimeoutMs', positiveDecimal('seconds', 1_000, 3_600)],
  REDIS_CONNECT_TIMEOUT: ['connectTimeoutMs', positiveDecimal('seconds', 1_000, 3_600)],
  REDIS_KEY_PREFIX: ['keyPrefix', pattern(KEY_PREFIX_PATTERN, '1 to 64 of A-Z a-z 0-9 _ . -')],
  REDIS_CLUSTER_NODES: ['clusterNodes', clusterNodes],
  MONITOR_INSTANCE_ID: ['instanceId', pattern(INSTANCE_ID_PATTERN, '1 to 64 of A-Z a-z 0-9 . _ -')],
  MONITOR_HOST: ['host', pattern(/^[A-Za-z0-9.:[\]-]{1,255}$/, 'a host name or IP address')],
  MONITOR_PORT: ['port', intRange(0, 65_535)],
  MONITOR_TOKEN: ['token', token],
} as const satisfies Record<string, readonly [keyof EnvConfig, Check<unknown>]>;

/** Names of every environment variable read by {@link configFromEnv}. */
export const ENV_VARIABLES = Object.keys(VARIABLES) as (keyof typeof VARIABLES)[];

const envSchema = z.record(z.string(), z.string().optional());

/**
 * Reads configuration from an object shaped like `process.env`. Unset and empty variables take
 * the defaults. Throws `CM_ERR_CONFIG` naming the variable, the value and what is allowed.
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): EnvConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new MonitorError('CM_ERR_CONFIG', 'the environment must be an object of strings');
  }
  const { closeTimeoutMs: _close, ...envDefaults } = DEFAULTS;
  const out: EnvConfig = {
    ...envDefaults,
    clusterNodes: undefined,
    instanceId: defaultInstanceId(),
    token: undefined,
  };
  const target = out as unknown as Record<string, unknown>;
  for (const name of ENV_VARIABLES) {
    const raw = parsed.data[name];
    if (raw === undefined || raw === '') continue;
    const [option, check] = VARIABLES[name];
    try {
      target[option] = check(raw);
    } catch (err) {
      const shown = name === 'REDIS_URL' ? redactUrl(raw) : raw;
      throw configError(name, shown, (err as Error).message);
    }
  }
  if (out.batchSize > out.maxQueueSize) {
    throw configError(
      'REDIS_BATCH_SIZE',
      String(out.batchSize),
      `must not exceed REDIS_QUEUE_SIZE (${out.maxQueueSize})`,
    );
  }
  return out;
}
