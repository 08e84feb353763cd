/**
 * Starts fleet producers (test/dashboard/fleet-producer.ts) as separate Node processes through
 * tsx and waits until each has recorded and flushed its events. Each is stopped by its own PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProducerPlan } from './fleet-producer.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A running producer. */
export interface Producer {
  readonly id: string;
  readonly child: ChildProcess;
  /** SIGKILL (a crash: no last heartbeat) and waits for the exit. */
  crash(): Promise<void>;
  /** SIGTERM (a clean close: its last heartbeat says `stopped`) and waits for the exit. */
  stop(): Promise<void>;
  /** Kills it if still running (teardown). */
  close(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts one producer with instance id `id` recording `plan` into `redisUrl` under `prefix`, its
 * clock `skewMs` ahead of the real one; resolves once it printed `ready` (within `timeoutMs`).
 */
export function startProducer(
  redisUrl: string,
  prefix: string,
  id: string,
  plan: ProducerPlan,
  skewMs = 0,
  timeoutMs = 20_000,
): Promise<Producer> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/dashboard/fleet-producer.ts',
      redisUrl,
      prefix,
      id,
      JSON.stringify(plan),
      String(skewMs),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited(child);
  };
  const producer: Producer = {
    id,
    child,
    crash: () => kill('SIGKILL'),
    stop: () => kill('SIGTERM'),
    close: () => kill('SIGKILL'),
  };
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      void producer.close();
      reject(new Error(`producer ${id} not ready within ${timeoutMs} ms\n${out}\n${err}`));
    }, timeoutMs);
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve(producer);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`producer ${id} exited (${code}) before ready\n${out}\n${err}`));
    });
  });
}
