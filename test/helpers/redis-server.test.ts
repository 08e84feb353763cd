import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from './redis-server.js';

describe('test redis helper', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('starts, answers, restarts on the same port', async () => {
    expect(await redis.cli('PING')).toBe('PONG');
    await redis.cli('SET', 'k', 'v');
    await redis.kill();
    expect(redis.isRunning).toBe(false);
    await redis.restart();
    expect(await redis.cli('PING')).toBe('PONG');
    expect(await redis.cli('GET', 'k')).toBe('');
  });
});
