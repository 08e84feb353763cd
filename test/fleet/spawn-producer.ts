/**
 * Starts a fleet producer (`producer.ts`) as a child Node process through tsx and talks to it:
 * its JSON lines on stdout, `close` on stdin, SIGKILL by its child handle (its PID).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../instrument/run-script.js';
import type { ProducerConfig } from './producer.js';

const PRODUCER = fileURLToPath(new URL('./producer.ts', import.meta.url));

/** A running producer process. */
export interface ProducerProcess {
  readonly config: ProducerConfig;
  readonly pid: number;
  /** Resolves with the count of events once the producer flushed them all. */
  readonly flushed: Promise<number>;
  /** Asks for a clean `close()` and resolves once the process exited with code 0. */
  close(): Promise<void>;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** True until the process exited. */
  readonly isRunning: boolean;
}

/** Starts one producer; it fails `flushed` if it exits before flushing. */
export function spawnProducer(config: ProducerConfig): ProducerProcess {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', PRODUCER, JSON.stringify(config)],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const flushed = new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      buffered += s;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const message = JSON.parse(line) as { flushed?: number };
        if (message.flushed !== undefined) resolve(message.flushed);
      }
    });
    void exited.then((code) =>
      reject(new Error(`producer ${config.instanceId} exited (${code}) first:\n${stderr}`)),
    );
  });
  // Whoever awaits it sees the failure; this keeps an unawaited one from being "unhandled".
  flushed.catch(() => undefined);
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  return {
    config,
    pid: child.pid as number,
    flushed,
    get isRunning() {
      return isRunning();
    },
    async close() {
      child.stdin?.write('close\n');
      const code = await exited;
      if (code !== 0) throw new Error(`producer ${config.instanceId} exited ${code}:\n${stderr}`);
    },
    async kill() {
      if (isRunning()) child.kill('SIGKILL');
      await exited;
    },
  };
}
