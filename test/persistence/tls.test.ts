import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { closeAfterTest } from '../helpers/after-test.js';
import { capturingLogger, redisMonitor } from '../helpers/monitor.js';

let redis: TestRedis;
let tlsPort: number;
let dir: string;
let ca: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cm-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(join(dir, 'cert.pem'));
  tlsPort = await freePort();
  redis = await startRedis({
    args: [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      join(dir, 'cert.pem'),
      '--tls-key-file',
      join(dir, 'key.pem'),
      '--tls-ca-cert-file',
      join(dir, 'cert.pem'),
      '--tls-auth-clients',
      'no',
      '--requirepass',
      'tls-secret-pw',
    ],
    password: 'tls-secret-pw',
  });
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('rediss:// (TLS) with a password', () => {
  it('persists over TLS and never shows the password', async () => {
    const logger = capturingLogger();
    const m = closeAfterTest(
      redisMonitor(`rediss://:tls-secret-pw@localhost:${tlsPort}`, {
        logger,
        redisOptions: { tls: { ca } },
      }),
    );
    await m.start();
    expect(m.getStatus().persistence).toMatchObject({ circuit: 'closed', recovered: true });
    for (let i = 0; i < 10; i++) m.recordEvent('supabase', { kind: 'response', durationMs: i });
    await m.flush();
    expect(Number(await redis.cli('ZCARD', `${m.options.keyPrefix}:supabase:events`))).toBe(10);
    expect(m.getStatus().persistence.redisUrl).toBe(`rediss://:***@localhost:${tlsPort}`);
    expect(JSON.stringify([m.getStatus(), logger.lines])).not.toContain('tls-secret-pw');
  });

  it('an untrusted certificate fails closed: memory mode, circuit open, no secret in the error', async () => {
    const logger = capturingLogger();
    const m = closeAfterTest(
      redisMonitor(`rediss://:tls-secret-pw@localhost:${tlsPort}`, { logger }),
    );
    await m.start();
    expect(m.getStatus().persistence.circuit).toBe('open');
    expect(JSON.stringify([m.getStatus(), logger.lines])).not.toContain('tls-secret-pw');
  });
});
