/**
 * The README's example for monitorHttp runs as written (only the package import mapped to the
 * source) in a fresh Node process without a global WebSocket — Node 20, or a newer Node with it
 * removed — against a local PostgREST-like stand-in, and its supabase-js query is recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConnectionEvent } from '../../src/core/event.js';
import { startSupabaseStandIn, type SupabaseStandIn } from '../helpers/supabase-standin.js';
import { REPO_ROOT, runTsScript } from './run-script.js';

const SECTION = '### Outgoing HTTP: Supabase, Kimi, GLM';
const ANON_KEY = 'anon-key-for-tests';
const TODOS = [
  { id: 1, title: 'watch the 429s', done: false },
  { id: 2, title: 'count the timeouts', done: true },
];

/** The first `ts` code block of the README section titled `SECTION`. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(SECTION));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!readme.includes(SECTION) || block === undefined) {
    throw new Error(`README has no ts example under "${SECTION}"`);
  }
  return block;
}

/** `text` with `from` replaced by `to`, which must occur exactly once. */
function replaceOnce(text: string, from: string, to: string): string {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`expected "${from}" once in the README example`);
  return parts.join(to);
}

let supabase: SupabaseStandIn;
const dir = join(REPO_ROOT, '.tmp');
const script = join(dir, `readme-http-example-${process.pid}.ts`);

beforeAll(async () => {
  supabase = await startSupabaseStandIn({ todos: TODOS });
  await mkdir(dir, { recursive: true });
});
afterAll(async () => {
  await supabase.close();
  await rm(script, { force: true });
});

describe("README's monitorHttp example", () => {
  it('runs without a global WebSocket and records the supabase-js query as supabase events', async () => {
    const src = (file: string) => pathToFileURL(join(REPO_ROOT, file)).href;
    const example = replaceOnce(
      await readmeExample(),
      "from 'connection-monitor/instrument'",
      `from '${src('src/instrument/index.ts')}'`,
    );
    await writeFile(
      script,
      [
        // *.supabase.co resolves to the stand-in on 127.0.0.1; every other name fails.
        `import '${src('test/instrument/fixtures/loopback-dns.ts')}';`,
        `import { ConnectionMonitor as TestMonitor } from '${src('src/index.ts')}';`,
        // As on Node 20 (on Node 20 this removes nothing).
        `delete (globalThis as { WebSocket?: unknown }).WebSocket;`,
        `const monitor = new TestMonitor({ persistence: false });`,
        `await monitor.start();`,
        example,
        `const deadline = Date.now() + 5_000;`,
        `while (!monitor.getRecentEvents('supabase').some((e) => e.kind === 'response')) {`,
        `  if (Date.now() > deadline) break;`,
        `  await new Promise((r) => setTimeout(r, 10));`,
        `}`,
        `console.log(JSON.stringify({ todos, events: monitor.getRecentEvents('supabase').reverse() }));`,
        `stop();`,
        `await monitor.close();`,
      ].join('\n'),
    );
    const result = await runTsScript(script, {
      // A project URL on the real domain, so the example's route RegExp is the one tested.
      SUPABASE_URL: `http://demo-project.supabase.co:${supabase.port}`,
      SUPABASE_ANON_KEY: ANON_KEY,
      KIMI_API_KEY: 'sk-test',
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { todos, events } = JSON.parse(result.stdout) as {
      todos: unknown;
      events: ConnectionEvent[];
    };
    expect(todos).toEqual(TODOS.map(({ id, title }) => ({ id, title })));
    expect(supabase.requests).toEqual([
      { method: 'GET', path: '/rest/v1/todos', apikey: ANON_KEY },
    ]);
    expect(events.map((e) => e.kind)).toEqual(['request', 'response']);
    expect(events[1]).toMatchObject({
      kind: 'response',
      metadata: {
        method: 'GET',
        host: 'demo-project.supabase.co',
        path: '/rest/v1/todos',
        status: 200,
      },
    });
    expect(events[1]?.error).toBeUndefined();
    expect(JSON.stringify(events)).not.toContain(ANON_KEY);
  });
});
