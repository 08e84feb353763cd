import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { configFromEnv } from '../src/config.js';
import { redactUrl } from '../src/core/redact.js';
import { DEFAULTS } from '../src/options.js';
import type { MonitorError } from '../src/core/errors.js';
import { thrownMonitorError } from './helpers/monitor-error.js';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';

function configError(env: Record<string, string>): MonitorError {
  return thrownMonitorError(() => configFromEnv(env), 'CM_ERR_CONFIG');
}

describe('configFromEnv', () => {
  it('uses the seed defaults, in ms', () => {
    const c = configFromEnv({});
    expect(c).toMatchObject({
      persistence: true,
      redisUrl: 'redis://127.0.0.1:6379',
      batchSize: 100,
      flushIntervalMs: 5000,
      maxQueueSize: 1000,
      retentionMs: 86_400_000,
      bufferSize: 10_000,
      breakerFailures: 5,
      breakerResetMs: 30_000,
      socketTimeoutMs: 5000,
      connectTimeoutMs: 5000,
      keyPrefix: 'connection_monitor',
      clusterNodes: undefined,
      host: '127.0.0.1',
      port: 8080,
      token: undefined,
    });
    expect(c.instanceId).toMatch(/^[A-Za-z0-9._-]+-\d+$/);
  });

  it('reads every variable with its unit; decimals where seconds or hours', () => {
    const c = configFromEnv({
      REDIS_PERSISTENCE_ENABLED: 'off',
      REDIS_URL: 'rediss://:s3cret@cache.example:6380/2',
      REDIS_BATCH_SIZE: '50',
      REDIS_FLUSH_INTERVAL: '0.2',
      REDIS_QUEUE_SIZE: '500',
      REDIS_RETENTION_HOURS: '1.5',
      ROLLUP_HOURLY_RETENTION_DAYS: '7',
      ROLLUP_DAILY_RETENTION_DAYS: '90.5',
      MONITOR_QUIET_PERIOD_MINUTES: '2.5',
      MONITOR_BUFFER_SIZE: '42',
      REDIS_BREAKER_FAILURES: '3',
      REDIS_BREAKER_RESET: '2.5',
      REDIS_SOCKET_TIMEOUT: '0.5',
      REDIS_CONNECT_TIMEOUT: '1',
      REDIS_KEY_PREFIX: 'cm_test',
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, node-b:7001',
      MONITOR_INSTANCE_ID: 'api-1',
      MONITOR_HOST: '0.0.0.0',
      MONITOR_PORT: '9090',
      MONITOR_TOKEN: 'a-long-enough-token',
    });
    expect(c).toEqual({
      persistence: false,
      redisUrl: 'rediss://:s3cret@cache.example:6380/2',
      batchSize: 50,
      flushIntervalMs: 200,
      maxQueueSize: 500,
      retentionMs: 5_400_000,
      hourlyRetentionMs: 7 * 86_400_000,
      dailyRetentionMs: 90.5 * 86_400_000,
      quietPeriodMs: 150_000,
      bufferSize: 42,
      breakerFailures: 3,
      breakerResetMs: 2500,
      socketTimeoutMs: 500,
      connectTimeoutMs: 1000,
      keyPrefix: 'cm_test',
      clusterNodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'node-b', port: 7001 },
      ],
      instanceId: 'api-1',
      host: '0.0.0.0',
      port: 9090,
      token: 'a-long-enough-token',
      maxClockSkewMs: 300_000,
      heartbeatMs: 5_000,
    });
  });

  it("takes the seed's separate credentials into the URL; they win and are never shown", () => {
    const c = configFromEnv({
      REDIS_URL: 'redis://old:old-pass@cache.example:6380/1',
      REDIS_USERNAME: 'app',
      REDIS_PASSWORD: 'p4ss/w0rd@#?',
      REDIS_DB: '3',
      MONITOR_MAX_CLOCK_SKEW: '30',
    });
    const u = new URL(c.redisUrl);
    expect(decodeURIComponent(u.username)).toBe('app');
    expect(decodeURIComponent(u.password)).toBe('p4ss/w0rd@#?');
    expect(u.pathname).toBe('/3');
    expect(u.host).toBe('cache.example:6380');
    expect(c.maxClockSkewMs).toBe(30_000);
    expect(redactUrl(c.redisUrl)).not.toContain('p4ss');
    const bad = configError({ REDIS_PASSWORD: 'hunter2', REDIS_DB: 'x1' });
    expect(bad.field).toBe('REDIS_DB');
    expect(bad.message).not.toContain('hunter2');
    const m = ConnectionMonitor.fromEnv(
      { REDIS_PASSWORD: 'hunter2', REDIS_PERSISTENCE_ENABLED: 'true' },
      { logger: silentLogger },
    );
    expect(JSON.stringify(m.getStatus())).not.toContain('hunter2');
    expect(m.getStatus().persistence.redisUrl).toBe('redis://:***@127.0.0.1:6379');
  });

  it('treats empty strings as unset', () => {
    expect(configFromEnv({ REDIS_BATCH_SIZE: '', REDIS_URL: '' }).batchSize).toBe(
      DEFAULTS.batchSize,
    );
  });

  it.each([
    ['REDIS_BATCH_SIZE', 'abc', 'whole number'],
    ['REDIS_BATCH_SIZE', '-5', 'whole number'],
    ['REDIS_BATCH_SIZE', '0', 'from 1'],
    ['REDIS_BATCH_SIZE', '2.5', 'whole number'],
    ['REDIS_QUEUE_SIZE', '0', 'from 1'],
    ['MONITOR_BUFFER_SIZE', '0', 'from 1'],
    ['REDIS_BREAKER_FAILURES', '0', 'from 1'],
    ['REDIS_FLUSH_INTERVAL', '0', 'greater than 0'],
    ['REDIS_FLUSH_INTERVAL', 'fast', 'seconds'],
    ['REDIS_FLUSH_INTERVAL', '-1', 'greater than 0'],
    ['REDIS_RETENTION_HOURS', '0', 'hours'],
    ['REDIS_RETENTION_HOURS', 'NaN', 'hours'],
    ['REDIS_BREAKER_RESET', 'Infinity', 'seconds'],
    ['REDIS_SOCKET_TIMEOUT', '0', 'seconds'],
    ['REDIS_CONNECT_TIMEOUT', '1e3', 'seconds'],
    ['REDIS_PERSISTENCE_ENABLED', 'maybe', 'true, false'],
    ['REDIS_URL', 'http://localhost:6379', 'redis://'],
    ['REDIS_URL', 'not a url', 'URL'],
    ['REDIS_URL', 'redis://:pw@host:6379/abc', 'database'],
    ['REDIS_CLUSTER_NODES', 'a:1,b', 'host:port'],
    ['REDIS_CLUSTER_NODES', 'a:70000', 'host:port'],
    ['REDIS_KEY_PREFIX', 'bad prefix', 'A-Z'],
    ['MONITOR_INSTANCE_ID', 'bad id!', 'A-Z'],
    ['MONITOR_PORT', '65536', '0 to 65535'],
    ['MONITOR_PORT', 'http', 'whole number'],
    ['MONITOR_TOKEN', 'short', 'at least 12'],
    ['ROLLUP_HOURLY_RETENTION_DAYS', '0', 'days'],
    ['ROLLUP_DAILY_RETENTION_DAYS', 'year', 'days'],
    ['MONITOR_QUIET_PERIOD_MINUTES', '-1', 'minutes'],
  ])(
    '%s=%s is rejected naming the variable, the value and what is allowed',
    (name, value, allowed) => {
      const err = configError({ [name]: value });
      expect(err.field).toBe(name);
      expect(err.message).toContain(name);
      expect(err.message).toContain(allowed);
      if (name !== 'MONITOR_TOKEN' && name !== 'REDIS_URL') expect(err.message).toContain(value);
    },
  );

  it('rejects a batch larger than the queue', () => {
    const err = configError({ REDIS_BATCH_SIZE: '500', REDIS_QUEUE_SIZE: '100' });
    expect(err.message).toContain('REDIS_QUEUE_SIZE');
    expect(err.message).toContain('500');
  });

  it('rejects rollups kept shorter than what they summarise', () => {
    const hourly = configError({ REDIS_RETENTION_HOURS: '48', ROLLUP_HOURLY_RETENTION_DAYS: '1' });
    expect(hourly.field).toBe('ROLLUP_HOURLY_RETENTION_DAYS');
    expect(hourly.message).toContain('REDIS_RETENTION_HOURS');
    const daily = configError({ ROLLUP_DAILY_RETENTION_DAYS: '7' });
    expect(daily.field).toBe('ROLLUP_DAILY_RETENTION_DAYS');
    expect(daily.message).toContain('ROLLUP_HOURLY_RETENTION_DAYS');
  });

  it('never prints a password or token in an error', () => {
    const err = configError({ REDIS_URL: 'redis://:hunter2@host:6379/xyz' });
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('***');
    const tokenErr = configError({ MONITOR_TOKEN: 'secret 1234567' });
    expect(tokenErr.message).not.toContain('secret');
  });

  it('echoes every rejected value as given, not normalised', () => {
    const err = configError({ REDIS_URL: 'http://example.invalid:80' });
    expect(err.message).toContain('REDIS_URL="http://example.invalid:80"');
    expect(configError({ REDIS_FLUSH_INTERVAL: ' 0.000 ' }).message).toContain('" 0.000 "');
    expect(configError({ REDIS_CLUSTER_NODES: 'a:1, b:99999' }).message).toContain(
      '"a:1, b:99999"',
    );
  });

  it('redacts a password that is not percent-encoded', () => {
    const err = configError({ REDIS_URL: 'redis://:p4ss/w0rd@host:6379/xyz' });
    expect(err.message).not.toContain('p4ss');
    expect(err.message).not.toContain('w0rd');
    expect(redactUrl('redis://u:p@ss/w@rd@h:1')).toBe('redis://u:***@h:1');
  });

  it('redacts URLs', () => {
    expect(redactUrl('redis://user:pw@h:1/0')).toBe('redis://user:***@h:1/0');
    expect(redactUrl('redis://h:1')).toBe('redis://h:1');
  });
});

describe('ConnectionMonitor options', () => {
  it('fromEnv applies the environment', () => {
    const m = ConnectionMonitor.fromEnv(
      { REDIS_PERSISTENCE_ENABLED: 'false', MONITOR_BUFFER_SIZE: '7', MONITOR_INSTANCE_ID: 'i-1' },
      { logger: silentLogger },
    );
    expect(m.options.bufferSize).toBe(7);
    expect(m.options.instanceId).toBe('i-1');
    expect(m.getStatus().persistence.enabled).toBe(false);
  });

  it('fromEnv takes the real process.env', () => {
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    vi.stubEnv('REDIS_PERSISTENCE_ENABLED', 'false');
    vi.stubEnv('MONITOR_BUFFER_SIZE', '9');
    const m = ConnectionMonitor.fromEnv(process.env, { logger: silentLogger });
    expect(m.options.bufferSize).toBe(9);
    expect(m.options.persistence).toBe(false);
  });

  it('fromEnv throws CM_ERR_CONFIG on a bad value', () => {
    expect(() => ConnectionMonitor.fromEnv({ REDIS_QUEUE_SIZE: 'lots' })).toThrow(
      /REDIS_QUEUE_SIZE/,
    );
  });

  it.each([
    [{ batchSize: 0 }, 'batchSize'],
    [{ flushIntervalMs: Number.NaN }, 'flushIntervalMs'],
    [{ bufferSize: 1.5 }, 'bufferSize'],
    [{ redisUrl: 'http://x' }, 'redisUrl'],
    [{ batchSize: 10, maxQueueSize: 5 }, 'batchSize'],
    [{ instanceId: 'no spaces' }, 'instanceId'],
  ])('rejects option %j', (opts, field) => {
    const err = thrownMonitorError(
      () => new ConnectionMonitor({ persistence: false, logger: silentLogger, ...opts }),
      'CM_ERR_CONFIG',
    );
    expect(err.field).toBe(field);
  });

  it('redacts the password of a rejected redisUrl option', () => {
    expect(
      () => new ConnectionMonitor({ redisUrl: 'redis://:topsecret@', logger: silentLogger }),
    ).toThrow(/^(?!.*topsecret).*$/s);
  });
});
