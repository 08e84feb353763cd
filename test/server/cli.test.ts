import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const TOKEN = 'cli-test-token-123456';
const tmp = mkdtempSync(join(tmpdir(), 'cm-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The environment without any of our variables, so the host's settings cannot leak in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(REDIS_|MONITOR_)/.test(k)) env[k] = v;
  }
  return { ...env, REDIS_PERSISTENCE_ENABLED: 'false', ...extra };
}

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  firstLine: Promise<string>;
}

function run(args: string[], env = cleanEnv()): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let resolveLine: (l: string) => void = () => {};
  const firstLine = new Promise<string>((resolve) => (resolveLine = resolve));
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout.push(d.toString());
    buf += d.toString();
    const nl = buf.indexOf('\n');
    if (nl >= 0) resolveLine(buf.slice(0, nl));
  });
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  void exited.then(() => resolveLine(''));
  return { child, stdout, stderr, exited, firstLine };
}

function urlOf(line: string): string {
  const m = /listening on (http:\/\/\S+)/.exec(line);
  if (m === null) throw new Error(`no URL in startup line: ${line}`);
  return m[1] as string;
}

describe('connection-monitor serve', () => {
  it('prints one startup line, serves, and exits 0 on SIGTERM', async () => {
    const r = run(['serve', '--port', '0']);
    const line = await r.firstLine;
    expect(line).toMatch(
      /^connection-monitor listening on http:\/\/127\.0\.0\.1:\d+ · redis redis:\/\/127\.0\.0\.1:6379 · persistence off: in memory only · auth off/,
    );
    const url = urlOf(line);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const res = await fetch(`${url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'cli', kind: 'connect' }),
    });
    expect(res.status).toBe(202);
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
    expect(r.stdout.join('').trim().split('\n')).toHaveLength(1);
  });

  it('exits 0 on SIGINT too with --demo running, and reads --env-file without printing secrets', async () => {
    const envFile = join(tmp, 'test.env');
    writeFileSync(
      envFile,
      `MONITOR_TOKEN=${TOKEN}\nREDIS_URL=redis://:hunter2@127.0.0.1:1\nMONITOR_INSTANCE_ID=cli-test\n`,
    );
    const r = run(['serve', '--port', '0', '--env-file', envFile, '--demo']);
    const line = await r.firstLine;
    expect(line).toContain('demo traffic on (Redis not reachable');
    expect(line).toContain('redis redis://:***@127.0.0.1:1');
    expect(line).toContain('auth: bearer token required');
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain(TOKEN);
    const url = urlOf(line);
    expect((await fetch(`${url}/api/status`)).status).toBe(401);
    const ok = await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const status = (await ok.json()) as { instance: string };
    expect(status.instance).toBe('cli-test');
    expect(JSON.stringify(status)).not.toContain('hunter2');
    const deadline = Date.now() + 10_000;
    let types: string[] = [];
    while (types.length < 5 && Date.now() < deadline) {
      const stats = await fetch(`${url}/api/stats`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      types = Object.keys((await stats.json()) as object);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(types.sort()).toEqual(['glm', 'kimi', 'redis', 'supabase', 'websocket']);
    r.child.kill('SIGINT');
    expect(await r.exited).toBe(0);
    expect(r.stderr.join('')).not.toContain('hunter2');
  });

  it('stops with one line naming a bad variable', async () => {
    const r = run(['serve'], cleanEnv({ REDIS_BATCH_SIZE: 'lots' }));
    expect(await r.exited).toBe(1);
    const lines = r.stderr.join('').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/REDIS_BATCH_SIZE="lots" is not allowed/);
  });

  it('refuses a non-loopback host without a token', async () => {
    const r = run(['serve', '--host', '0.0.0.0', '--port', '0']);
    expect(await r.exited).toBe(1);
    expect(r.stderr.join('')).toMatch(
      /refusing to listen on non-loopback host 0\.0\.0\.0 without a token/,
    );
  });

  it('rejects unknown flags and commands, and prints --help', async () => {
    const flag = run(['serve', '--bogus']);
    expect(await flag.exited).toBe(2);
    expect(flag.stderr.join('')).toMatch(/--bogus/);
    const cmd = run(['start']);
    expect(await cmd.exited).toBe(2);
    // Node 20 itself checks a missing --env-file anywhere in argv (exit 9) before our check runs.
    const missing = run(['serve', '--env-file', join(tmp, 'nope.env')]);
    expect(await missing.exited).not.toBe(0);
    expect(missing.stderr.join('')).toMatch(/nope\.env.*(ENOENT|not found)/);
    const help = run(['--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout.join('')).toMatch(/^Usage: connection-monitor serve/);
  });
});
