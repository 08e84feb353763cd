/**
 * vitest globalSetup: builds the dashboard (`vite build`) when dist/dashboard is missing or older
 * than any of its sources, so browser tests on a fresh clone test the current code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'dist', 'dashboard', 'index.html');
const SOURCES = [join(ROOT, 'src', 'dashboard'), join(ROOT, 'vite.dashboard.config.ts')];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** True when the build is missing or a source is newer than it. */
export function isDashboardStale(): boolean {
  if (!existsSync(OUT)) return true;
  const built = statSync(OUT).mtimeMs;
  return SOURCES.some((s) => existsSync(s) && newestMtime(s) > built);
}

export default function setup(): void {
  if (!isDashboardStale()) return;
  const res = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      'vite.dashboard.config.ts',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (res.status !== 0) throw new Error(`dashboard build failed (exit ${res.status})`);
}
