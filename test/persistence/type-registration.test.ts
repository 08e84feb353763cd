/**
 * The types set is written apart from the batches, rarely; when Redis may have lost data it is
 * written again at once with every type this process wrote, until that succeeds (found by the
 * chaos suite: after a restart without data, a new process recovered nothing). Real redis-server.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { resolveOptions } from '../../src/options.js';
import { createRedisClient } from '../../src/persistence/client.js';
import { TypeRegistration } from '../../src/persistence/type-registration.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const KEY = 'cm_reg:types';
const RETENTION_MS = 3_600_000;

async function registration(): Promise<TypeRegistration> {
  await redis.cli('DEL', KEY);
  const client = createRedisClient(resolveOptions({ redisUrl: redis.url, logger: silentLogger }));
  onTestFinished(() => client.disconnect());
  await client.connect();
  return new TypeRegistration(client, KEY, RETENTION_MS, () => {});
}

async function listed(): Promise<string> {
  return (await redis.cli('SMEMBERS', KEY)).split('\n').sort().join();
}

async function expectListed(types: string): Promise<void> {
  await waitUntil(async () => (await listed()) === types, `types set = ${types}`);
}

describe('types set registration', () => {
  it('adds every type this process wrote again when Redis may have lost data, idle ones included', async () => {
    const r = await registration();
    const now = Date.now();
    r.register(['glm', 'kimi'], now);
    await expectListed('glm,kimi');

    await redis.cli('DEL', KEY);
    r.register(['glm'], now + 1_000);
    // Nothing says data was lost: a quarter of the retention before the next add.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await listed()).toBe('');

    // glm's keys created again: kimi, not written since, is listed again too.
    r.register(['glm'], now + 2_000, { created: ['glm'], hadConnectionFailure: false });
    await expectListed('glm,kimi');

    // A lost reply may hide that answer: a connection-level failure relists as well.
    await redis.cli('DEL', KEY);
    r.register(['kimi'], now + 3_000, { created: [], hadConnectionFailure: true });
    await expectListed('glm,kimi');

    // A new type's first keys are no sign of loss.
    await redis.cli('DEL', KEY);
    r.register(['supabase'], now + 4_000, { created: ['supabase'], hadConnectionFailure: false });
    await expectListed('supabase');
  });

  it('keeps relisting at each write until it succeeds', async () => {
    const r = await registration();
    const now = Date.now();
    r.register(['glm', 'kimi'], now);
    await expectListed('glm,kimi');
    await redis.kill();
    r.register(['glm'], now + 1_000, { created: [], hadConnectionFailure: true });
    await redis.restart(); // empty: --save ''
    await waitUntil(
      async () => {
        r.register([], Date.now());
        return (await listed()) === 'glm,kimi';
      },
      'both types listed once Redis is back',
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  });
});
