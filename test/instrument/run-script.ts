/** Runs a TypeScript file in a fresh Node process (through tsx), bounded in time. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: scripts run there, so they resolve packages from its node_modules. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What a script run produced. */
export interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `file` with `node --import tsx` and `env` added to this process's environment.
 * @throws when the script has not exited after `timeoutMs` (it is killed first, by its PID).
 */
export function runTsScript(
  file: string,
  env: Record<string, string>,
  timeoutMs = 25_000,
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} still running after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
