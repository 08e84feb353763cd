import { describe, expect, it } from 'vitest';
import { MonitorError, isMonitorError } from '../../src/core/errors.js';
import { ERROR_ANSWERS, httpErrorBody, toWireError } from '../../src/server/errors.js';
import { DEFAULT_LIMITS, isLoopbackHost, resolveServerOptions } from '../../src/server/options.js';

describe('error table', () => {
  it('maps client codes to 4xx with their own message and field', () => {
    const w = toWireError(
      new MonitorError('CM_ERR_INVALID_QUERY', 'invalid query: limit 0', { field: 'limit' }),
    );
    expect(w).toMatchObject({
      status: 400,
      code: 'CM_ERR_INVALID_QUERY',
      field: 'limit',
      isInternal: false,
    });
    expect(httpErrorBody(w)).toEqual({
      error: { code: 'CM_ERR_INVALID_QUERY', message: 'invalid query: limit 0', field: 'limit' },
    });
    expect(toWireError(new MonitorError('CM_ERR_RATE_LIMITED', 'slow down')).status).toBe(429);
    expect(toWireError(new MonitorError('CM_ERR_PAYLOAD_TOO_LARGE', 'big')).status).toBe(413);
  });

  it('hides the message of internal errors and anything unexpected', () => {
    const secret = 'redis://:hunter2@db:6379 exploded at /srv/app.js:12';
    for (const err of [
      new Error(secret),
      new MonitorError('CM_ERR_PERSISTENCE', secret),
      new MonitorError('CM_ERR_CONFIG', secret),
      'a string',
      null,
    ]) {
      const w = toWireError(err);
      expect(w.status).toBeGreaterThanOrEqual(500);
      expect(w.message).not.toContain('hunter2');
      expect(w.message).not.toContain('/srv');
      expect(w).not.toHaveProperty('field');
    }
  });

  it('maps Fastify client errors by status without their internals', () => {
    const tooBig = Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    expect(toWireError(tooBig)).toMatchObject({ status: 413, code: 'CM_ERR_PAYLOAD_TOO_LARGE' });
    const json = Object.assign(new SyntaxError('Unexpected token } in JSON at position 7'), {
      statusCode: 400,
    });
    expect(toWireError(json)).toMatchObject({
      status: 400,
      code: 'CM_ERR_BAD_REQUEST',
      message: 'bad request',
    });
  });

  it('has an entry with a valid status for every code', () => {
    for (const [code, answer] of Object.entries(ERROR_ANSWERS)) {
      expect(code).toMatch(/^CM_ERR_/);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(600);
    }
  });
});

describe('server options', () => {
  it('resolves defaults', () => {
    const o = resolveServerOptions();
    expect(o).toMatchObject({ host: '127.0.0.1', port: 8080, token: undefined, logger: false });
    expect(o.limits).toEqual(DEFAULT_LIMITS);
    expect(o.corsOrigins.size).toBe(0);
    expect(o.limits).toMatchObject({
      ingestEventsPerSecond: 10_000,
      ingestBurst: 20_000,
      requestsPerMinute: 6_000,
      rateLimitClients: 10_000,
    });
    expect(o).toMatchObject({ trustProxy: false, hsts: false });
  });

  it('accepts trustProxy as true, addresses or ranges', () => {
    for (const trustProxy of [true, '127.0.0.1', '10.0.0.0/8, ::1', ['loopback', 'fd00::/8']]) {
      expect(resolveServerOptions({ trustProxy }).trustProxy).toEqual(trustProxy);
    }
  });

  it('rejects bad values naming the option', () => {
    const bad: [Parameters<typeof resolveServerOptions>[0], string][] = [
      [{ port: 70_000 }, 'port'],
      [{ port: 1.5 }, 'port'],
      [{ token: 'short' }, 'token'],
      [{ token: 'has spaces in it' }, 'token'],
      [{ limits: { bodyBytes: 0 } }, 'limits.bodyBytes'],
      [{ limits: { nope: 1 } as never }, 'limits.nope'],
      [{ limits: { wsMessageBytes: 2_000_000 } }, 'limits.wsMessageBytes'],
      [{ statsIntervalMs: 1 }, 'statsIntervalMs'],
      [{ cors: { origins: ['*'] } }, 'cors.origins'],
      [{ host: '0.0.0.0' }, 'token'],
      [{ limits: { ingestEventsPerSecond: 0 } }, 'limits.ingestEventsPerSecond'],
      [{ limits: { ingestBurst: 999 } }, 'limits.ingestBurst'],
      [{ limits: { requestsPerMinute: 1.5 } }, 'limits.requestsPerMinute'],
      [{ limits: { rateLimitClients: 0 } }, 'limits.rateLimitClients'],
      [{ trustProxy: 'proxy.example' }, 'trustProxy'],
      [{ trustProxy: ['10.0.0.0/33'] }, 'trustProxy'],
      [{ trustProxy: 2 as never }, 'trustProxy'],
      [{ hsts: 'yes' as never }, 'hsts'],
    ];
    for (const [options, field] of bad) {
      let caught: unknown;
      try {
        resolveServerOptions(options);
      } catch (err) {
        caught = err;
      }
      expect(isMonitorError(caught, 'CM_ERR_CONFIG'), JSON.stringify(options)).toBe(true);
      expect((caught as MonitorError).field).toBe(field);
    }
  });

  it('says which option, the value given and what is allowed; never shows the token', () => {
    const message = (options: Parameters<typeof resolveServerOptions>[0]) => {
      try {
        resolveServerOptions(options);
      } catch (err) {
        return (err as MonitorError).message;
      }
      throw new Error(`accepted ${JSON.stringify(options)}`);
    };
    expect(message({ limits: { wsFrameBytes: 0 } })).toBe(
      'server option limits.wsFrameBytes=0 is not allowed: must be a whole number ≥ 1',
    );
    expect(message({ limits: { wsMessageBytes: 4096, wsFrameBytes: 1024 } })).toBe(
      'server option limits.wsMessageBytes=4096 is not allowed: must not exceed limits.wsFrameBytes (1024)',
    );
    expect(message({ limits: { ingestBurst: 500 } })).toBe(
      'server option limits.ingestBurst=500 is not allowed: must be at least limits.batchEvents (1000), or a full batch could never be accepted',
    );
    expect(() =>
      resolveServerOptions({ limits: { ingestBurst: 50, batchEvents: 50 } }),
    ).not.toThrow();
    expect(message({ port: -1 })).toMatch(/port=-1 .*whole number from 0 to 65535/);
    expect(message({ token: 'secret here' })).not.toContain('secret');
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.255.0.9', '::1', '[::1]', 'localhost', 'LOCALHOST']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '128.0.0.1',
      'localhost.evil.com',
      '127.0.0.1.nip.io',
    ]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});
