/**
 * monitorHttp with the real `openai` SDK (≥ 5 uses global fetch; Kimi and GLM are called through
 * it) against local OpenAI-compatible stand-ins: retries after a 429, the SDK's own timeout, and
 * streams the caller stops reading.
 */
import { waitUntil } from '../helpers/wait.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger } from '../../src/logger.js';
import type { ConnectionEvent } from '../../src/core/event.js';
import { monitorHttp, type MonitorHttpOptions } from '../../src/instrument/http.js';
import type { Disposer } from '../../src/instrument/adapter.js';
import { startOpenAiStandIn, type OpenAiStandIn } from '../helpers/openai-standin.js';
import { runTsScript } from './run-script.js';

const SECRET = 'sk-very-secret-token';
const MESSAGES = [{ role: 'user' as const, content: 'Say hello' }];

let kimi: OpenAiStandIn;
let glm: OpenAiStandIn;

beforeAll(async () => {
  [kimi, glm] = await Promise.all([startOpenAiStandIn(), startOpenAiStandIn()]);
});
afterAll(async () => {
  await Promise.all([kimi.close(), glm.close()]);
});

const disposers: Disposer[] = [];
afterEach(() => {
  while (disposers.length > 0) disposers.pop()?.();
});

function setup(extra: Partial<MonitorHttpOptions> = {}) {
  const monitor = new ConnectionMonitor({ persistence: false, logger: silentLogger });
  disposers.push(
    monitorHttp(monitor, {
      routes: [
        { type: 'kimi', host: '127.0.0.1', port: kimi.port },
        { type: 'glm', host: '127.0.0.1', port: glm.port },
      ],
      ...extra,
    }),
  );
  return monitor;
}

function client(standIn: OpenAiStandIn, options: { timeout?: number; maxRetries?: number } = {}) {
  return new OpenAI({ baseURL: standIn.baseUrl, apiKey: SECRET, maxRetries: 0, ...options });
}

/** Events of a type, oldest first. */
function events(monitor: ConnectionMonitor, type: string): ConnectionEvent[] {
  return monitor.getRecentEvents(type, 1000).reverse();
}

async function waitForKinds(monitor: ConnectionMonitor, type: string, kinds: string[]) {
  const got = () => events(monitor, type).map((e) => e.kind);
  await waitUntil(
    () => JSON.stringify(got()) === JSON.stringify(kinds),
    `${type} events ${kinds.join(',')} (got ${got().join(',')})`,
    { timeoutMs: 5_000, intervalMs: 10 },
  );
  return events(monitor, type);
}

/** The SDK's error class name (what a caller would branch on), or `none`. */
async function sdkErrorOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'none';
  } catch (err) {
    return err instanceof Error ? err.constructor.name : String(err);
  }
}

describe('monitorHttp with the openai SDK against an OpenAI-compatible stand-in', () => {
  it('records a chat completion as request + response; the stand-in echoes the model', async () => {
    const monitor = setup();
    const completion = await client(kimi).chat.completions.create({
      model: 'kimi-k2-0905-preview',
      messages: MESSAGES,
    });
    expect(completion.model).toBe('kimi-k2-0905-preview');
    expect(completion.choices[0]?.message.content).toBe('Hello from the stand-in');
    const [request, response] = await waitForKinds(monitor, 'kimi', ['request', 'response']);
    expect(request?.metadata).toEqual({
      method: 'POST',
      host: '127.0.0.1',
      path: '/v1/chat/completions',
    });
    expect(response?.error).toBeUndefined();
    expect(response?.metadata).toMatchObject({ status: 200, path: '/v1/chat/completions' });
    expect(kimi.requests.at(-1)?.authorization).toBe(`Bearer ${SECRET}`);
    expect(JSON.stringify(monitor.getRecentEvents('kimi'))).not.toContain(SECRET);
    expect(monitor.getStats('glm')).toBeNull();
  });

  it('records a stream read to the end as one response lasting to its last chunk', async () => {
    const monitor = setup();
    glm.enqueue({ kind: 'completion', firstChunkDelayMs: 250, chunkIntervalMs: 40 });
    const started = performance.now();
    const stream = await client(glm).chat.completions.create({
      model: 'glm-4.6',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    const models = new Set<string>();
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
      models.add(chunk.model);
    }
    const elapsed = performance.now() - started;
    expect(text).toBe('Hello from the stand-in');
    expect(usage).toEqual({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
    expect([...models]).toEqual(['glm-4.6']);
    const [, response] = await waitForKinds(monitor, 'glm', ['request', 'response']);
    // Headers come at once, the first chunk 250 ms later, then three more 40 ms apart.
    expect(response?.metadata?.status).toBe(200);
    expect(response?.metadata?.ttfbMs).toBeLessThan(250);
    expect(response?.durationMs).toBeGreaterThanOrEqual(250 + 3 * 40);
    expect(response?.durationMs).toBeLessThanOrEqual(elapsed);
    expect(response?.error).toBeUndefined();
  });

  // Issue 11 item 12(a): openai cancels the body of a retryable error response, then retries.
  it.each([
    ['a completion', false],
    ['a stream', true],
  ])(
    'records a 429 whose body follows its headers as an error response, and the retry as its own request (%s)',
    async (_what, isStream) => {
      const monitor = setup();
      const first = kimi.requestCount + 1;
      kimi.enqueue({ kind: 'httpError', status: 429, bodyDelayMs: 3_000, retryAfterMs: 0 });
      const result = await client(kimi, { maxRetries: 1 }).chat.completions.create({
        model: 'moonshot-v1-8k',
        messages: MESSAGES,
        stream: isStream,
      });
      if (isStream) {
        let text = '';
        for await (const chunk of result as AsyncIterable<OpenAI.ChatCompletionChunk>) {
          text += chunk.choices[0]?.delta.content ?? '';
        }
        expect(text).toBe('Hello from the stand-in');
      } else {
        expect((result as OpenAI.ChatCompletion).id).toBe(`chatcmpl-standin-${first + 1}`);
      }
      // The scenario under test: the SDK gave up on the 429's body before it came.
      expect((await kimi.waitForEnd(first)).endedBy).toBe('client');
      expect(kimi.requestCount).toBe(first + 1);
      const got = await waitForKinds(monitor, 'kimi', [
        'request',
        'response',
        'request',
        'response',
      ]);
      expect(got[1]).toMatchObject({
        kind: 'response',
        error: 'HTTP 429 Too Many Requests',
        metadata: { status: 429, path: '/v1/chat/completions' },
      });
      expect(got[3]).toMatchObject({ kind: 'response', metadata: { status: 200 } });
      expect(got[3]?.error).toBeUndefined();
      expect(monitor.getStats('kimi')?.errors).toBe(1);
    },
  );

  // Issue 11 item 12(b): the SDK arms its timer before fetch hands the request to undici.
  it('records the SDK timeout as timeout when timeoutMs equals it, on the first request of a process', async () => {
    const timeoutMs = 1_000;
    const hang = await startOpenAiStandIn({ defaultReply: { kind: 'hang' } });
    try {
      const result = await runTsScript(
        fileURLToPath(new URL('./fixtures/openai-first-request.ts', import.meta.url)),
        {
          STANDIN_BASE_URL: hang.baseUrl,
          STANDIN_PORT: String(hang.port),
          TIMEOUT_MS: String(timeoutMs),
        },
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const { events: got, sdkError } = JSON.parse(result.stdout) as {
        events: ConnectionEvent[];
        sdkError: string;
      };
      expect(sdkError).toBe('APIConnectionTimeoutError');
      expect(got.map((e) => e.kind)).toEqual(['request', 'timeout']);
      expect(got[1]?.error).toMatch(/abort/i);
      expect(got[1]?.durationMs).toBeGreaterThan(timeoutMs - 100);
      expect(hang.requestCount).toBe(1);
    } finally {
      await hang.close();
    }
  });

  it('records the SDK timeout as timeout on every request, and a caller abort before it as abort', async () => {
    const timeoutMs = 500; // the tolerance is a tenth: 50 ms
    const monitor = setup({ timeoutMs });
    const kimiSdk = client(kimi, { timeout: timeoutMs });
    for (let i = 0; i < 3; i++) {
      kimi.enqueue({ kind: 'hang' });
      const call = kimiSdk.chat.completions.create({ model: 'kimi-k2', messages: MESSAGES });
      expect(await sdkErrorOf(call)).toBe('APIConnectionTimeoutError');
    }
    const timedOut = await waitForKinds(monitor, 'kimi', [
      ...['request', 'timeout'],
      ...['request', 'timeout'],
      ...['request', 'timeout'],
    ]);
    for (const e of timedOut.filter((t) => t.kind === 'timeout')) {
      expect(e.durationMs).toBeGreaterThan(timeoutMs - 50);
    }

    // The caller's own signal, long before the SDK's timeout: an abort, not an error.
    kimi.enqueue({ kind: 'hang' });
    const reached = kimi.requestCount + 1;
    const caller = new AbortController();
    const call = kimiSdk.chat.completions.create(
      { model: 'kimi-k2', messages: MESSAGES },
      { signal: caller.signal },
    );
    await kimi.waitForRequests(reached);
    caller.abort();
    expect(await sdkErrorOf(call)).toBe('APIUserAbortError');
    const got = await waitForKinds(monitor, 'kimi', [
      ...timedOut.map((e) => e.kind),
      ...['request', 'abort'],
    ]);
    expect(got.at(-1)?.error).toBeUndefined();
    expect(got.at(-1)?.durationMs).toBeLessThan(timeoutMs - 50);
    expect(monitor.getStats('kimi')?.errors).toBe(3);
    // Each of them was cut off by the client, not answered.
    for (const { n } of kimi.requests.slice(-4)) {
      expect((await kimi.waitForEnd(n)).endedBy).toBe('client');
    }
  });

  // Issue 11 item 12(c): openai clears its timer once the headers are in; later aborts are the
  // caller's.
  it('records a stream the caller stops reading after the headers as abort, even past timeoutMs', async () => {
    const timeoutMs = 300;
    const monitor = setup({ timeoutMs });
    const content = Array.from({ length: 60 }, (_, i) => `${i} `);
    glm.enqueue({ kind: 'completion', chunkIntervalMs: 25, content });
    const n = glm.requestCount + 1;
    const started = performance.now();
    const stream = await client(glm, { timeout: timeoutMs }).chat.completions.create({
      model: 'glm-4.6',
      messages: MESSAGES,
      stream: true,
    });
    let chunks = 0;
    for await (const _chunk of stream) {
      chunks += 1;
      // Stop well past timeoutMs, long before the stream would end.
      if (performance.now() - started > timeoutMs + 200) break;
    }
    expect(chunks).toBeLessThan(content.length);
    expect((await glm.waitForEnd(n)).endedBy).toBe('client');
    const [, stopped] = await waitForKinds(monitor, 'glm', ['request', 'abort']);
    expect(stopped?.error).toBeUndefined();
    expect(stopped?.durationMs).toBeGreaterThan(timeoutMs);
    expect(stopped?.metadata).toMatchObject({ status: 200, path: '/v1/chat/completions' });
    expect(monitor.getStats('glm')?.errors).toBe(0);
  });
});
