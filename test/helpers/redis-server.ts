/**
 * Spawns a real `redis-server` per test file on a free port, waits until it answers, and can
 * kill, pause (SIGSTOP), resume and restart it on the same port for fault tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running test Redis. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** True while the process is running (paused counts as running). */
  readonly isRunning: boolean;
  /** Stops it (SIGKILL by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the server hangs without closing connections. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Starts it again on the same port (after kill) and waits until it answers. */
  restart(): Promise<void>;
  /** Runs a redis-cli command against it and returns stdout. */
  cli(...args: string[]): Promise<string>;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /** Extra `redis-server` arguments, e.g. ['--requirepass', 'pw']. */
  args?: string[];
  /** Password for `cli()` when requirepass is set. */
  password?: string;
  /** The port to listen on. Default: a free one from {@link freePort}. */
  port?: number;
}

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `count` different free ports for Redis Cluster nodes: Redis also listens on port + 10,000 (the
 * cluster bus), so each port must be at most 55,535 and its bus port free as well.
 */
export async function freeNodePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    const taken = ports.some((p) => p === port || p + 10_000 === port || p === port + 10_000);
    if (port <= 55_535 && !taken && (await isFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function waitUntilAnswering(port: number, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      let buf = '';
      sock.setTimeout(500);
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\r\n')) {
          sock.destroy();
          resolve(buf.startsWith('+PONG') || buf.startsWith('-NOAUTH'));
        }
      });
      sock.on('error', () => resolve(false));
      sock.on('timeout', () => {
        sock.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer in time`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts a fresh `redis-server` (no persistence to disk) on a free port. */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'cm-redis-'));
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async () => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--protected-mode',
        'no',
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const p = proc;
    exited = new Promise((resolve) => p.once('exit', () => resolve()));
    await waitUntilAnswering(port);
  };
  await launch();

  const handle: TestRedis = {
    port,
    url: options.password
      ? `redis://:${options.password}@127.0.0.1:${port}`
      : `redis://127.0.0.1:${port}`,
    get isRunning() {
      return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
    },
    async kill(signal = 'SIGKILL') {
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGCONT');
        proc.kill(signal);
        await exited;
      }
    },
    pause() {
      proc?.kill('SIGSTOP');
    },
    resume() {
      proc?.kill('SIGCONT');
    },
    async restart() {
      await handle.kill();
      await launch();
    },
    async cli(...args: string[]) {
      const auth = options.password ? ['-a', options.password, '--no-auth-warning'] : [];
      return new Promise((resolve, reject) => {
        const c = spawn('redis-cli', ['-p', String(port), ...auth, ...args]);
        let out = '';
        c.stdout.on('data', (d) => (out += d.toString()));
        c.on('error', reject);
        c.on('exit', () => resolve(out.trim()));
      });
    },
    async stop() {
      await handle.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
