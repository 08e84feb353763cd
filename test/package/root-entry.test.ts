/**
 * The root entry point (`src/index.ts`, `connection-monitor`) is the library alone: importing it must
 * not load the service's packages. Fast, against the sources; the package test checks the same on
 * the packed package.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const SERVER_PACKAGES = ['fastify', 'prom-client', 'ws', '@fastify/websocket', '@fastify/static'];
const tmp = mkdtempSync(join(tmpdir(), 'cm-root-entry-'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The packages (under node_modules) a fresh Node process loads to import `file` through tsx. */
async function packagesLoadedBy(file: string): Promise<string[]> {
  const trace = join(tmp, `${file.replace(/\W/g, '_')}.log`);
  writeFileSync(trace, '');
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      pathToFileURL(join(HERE, 'trace-register.mjs')).href,
      join(HERE, 'consumer', 'probe-loads.mjs'),
      pathToFileURL(join(REPO, file)).href,
    ],
    { cwd: REPO, env: { ...process.env, CM_TRACE_FILE: trace }, timeout: 20_000 },
  );
  return JSON.parse(stdout) as string[];
}

describe('root entry point', () => {
  it('loads the library without fastify, prom-client or ws', async () => {
    const loaded = await packagesLoadedBy('src/index.ts');
    expect(loaded).toContain('zod'); // the probe sees what the library does load
    for (const name of SERVER_PACKAGES) expect(loaded).not.toContain(name);
    // Redis persistence is loaded by a monitor's start(), not by the import.
    expect(loaded).not.toContain('ioredis');
    expect(loaded).not.toContain('cockatiel');
  });

  it('is what keeps the server out: its entry point does load them', async () => {
    const loaded = await packagesLoadedBy('src/server/index.ts');
    expect(loaded).toEqual(expect.arrayContaining(['fastify', 'prom-client', 'ws']));
  });
});
