/**
 * The package as users install it: `npm pack` of a copy of this working tree (so `prepack` builds
 * it from scratch, and the build never touches the repository's own dist/, which other test files
 * serve), installed into a scratch project, then type-checked by a strict consumer and run as an ES
 * module and as CommonJS. Slow (a full build and an npm install), hence its own timeouts.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const SETUP_TIMEOUT_MS = 300_000;
const STEP_TIMEOUT_MS = 60_000;
/** Top-level entries of the repository that are not copied: installed, built or scratch. */
const NOT_COPIED = new Set(['node_modules', 'dist', '.tmp', '.git', 'coverage']);

/** Environment for child npm and node processes: without the `npm_*` variables of `npm test`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_') && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command and returns its output; on failure the error carries all of it. */
async function run(
  file: string,
  args: readonly string[],
  cwd: string,
  env = childEnv(),
  timeout = STEP_TIMEOUT_MS,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(file, args, {
      cwd,
      env,
      timeout,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${file} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    );
  }
}

/** The version of a package this repository has installed (so the scratch install can be offline). */
function installedVersion(name: string): string {
  const pkg = JSON.parse(
    readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8'),
  ) as {
    version: string;
  };
  return pkg.version;
}

let tmp: string;
let scratch: string;
let packedFiles: string[];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cm-package-'));
  const copy = join(tmp, 'repo');
  cpSync(REPO, copy, {
    recursive: true,
    filter: (src) => {
      const rel = relative(REPO, src);
      return !NOT_COPIED.has(rel.split(sep)[0] ?? '');
    },
  });
  // Build tools come from this repository's install; prepack builds the copy's own dist/.
  symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const { stdout: packJson } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', tmp],
    copy,
    childEnv(),
    SETUP_TIMEOUT_MS / 2,
  );
  // npm prints the prepack scripts' output before the JSON array.
  const packed = JSON.parse(packJson.slice(Math.max(0, packJson.lastIndexOf('[\n  {')))) as {
    filename: string;
    files: { path: string }[];
  }[];
  const [info] = packed;
  if (info === undefined) throw new Error(`npm pack printed no package: ${packJson}`);
  packedFiles = info.files.map((f) => f.path).sort();

  scratch = join(tmp, 'consumer');
  cpSync(join(HERE, 'consumer'), scratch, { recursive: true });
  for (const file of ['trace-register.mjs', 'trace-hooks.mjs']) {
    cpSync(join(HERE, file), join(scratch, file));
  }
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }),
  );
  // @types/node is the one thing a TypeScript-on-Node consumer brings itself; pinned to the
  // version installed here so the install can come from the npm cache.
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--no-package-lock',
      join(tmp, info.filename),
      `@types/node@${installedVersion('@types/node')}`,
    ],
    scratch,
    childEnv(),
    SETUP_TIMEOUT_MS / 2,
  );
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the built library, CLI, types and dashboard, and nothing else', () => {
    for (const file of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/server/index.js',
      'dist/server/index.d.ts',
      'dist/instrument/index.js',
      'dist/instrument/index.d.ts',
      'dist/cli.js',
      'dist/dashboard/index.html',
    ]) {
      expect(packedFiles).toContain(file);
    }
    const unexpected = packedFiles.filter(
      (f) => !(f === 'package.json' || f === 'README.md' || f.startsWith('dist/')),
    );
    expect(unexpected).toEqual([]);
    // Source maps would point into src/, which is not shipped; tests are never built into dist/.
    expect(packedFiles.filter((f) => f.endsWith('.map') || /\.test\./.test(f))).toEqual([]);
  });

  it(
    'type-checks in a strict consumer (skipLibCheck: false) importing all three entry points',
    async () => {
      await run(process.execPath, [TSC, '-p', 'tsconfig.json'], scratch);
      // The CommonJS consumer really uses require(): that is what the next test runs.
      const cjs = readFileSync(join(scratch, 'out', 'cjs.cjs'), 'utf8');
      expect(cjs).toContain('require("connection-monitor")');
      expect(cjs).toContain('require("connection-monitor/server")');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'runs as an ES module: monitor, server /healthz and an adapter',
    async () => {
      const { stdout, stderr } = await run(process.execPath, [join('out', 'esm.mjs')], scratch);
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toEqual({
        eventType: 'api',
        apiEvents: 1,
        configErrorCode: 'CM_ERR_CONFIG',
        healthz: 200,
        selfResponses: 1,
        isSameAdapterFromRoot: true,
        adapters: ['function', 'function'],
        internalClient: 'Symbol(connection-monitor.internal)',
      });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'runs as CommonJS through require()',
    async () => {
      const { stdout, stderr } = await run(process.execPath, [join('out', 'cjs.cjs')], scratch);
      // No ExperimentalWarning either: require() of ES modules is plain on every Node we support.
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toEqual({ eventType: 'api', apiEvents: 1, healthz: 200 });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'loads no server code from the root entry, and the server entry does load it',
    async () => {
      const loads = async (specifier: string, id: string): Promise<string[]> => {
        const trace = join(tmp, `trace-${id}.log`);
        writeFileSync(trace, '');
        const { stdout } = await run(
          process.execPath,
          ['--import', join(scratch, 'trace-register.mjs'), 'probe-loads.mjs', specifier],
          scratch,
          childEnv({ CM_TRACE_FILE: trace }),
        );
        return JSON.parse(stdout) as string[];
      };
      const root = await loads('connection-monitor', 'root');
      expect(root).toContain('connection-monitor'); // the trace sees the package itself
      for (const name of [
        'fastify',
        'prom-client',
        'ws',
        '@fastify/websocket',
        '@fastify/static',
      ]) {
        expect(root).not.toContain(name);
      }
      // The same probe sees the server's dependencies when they are loaded, so the check above
      // can fail.
      const server = await loads('connection-monitor/server', 'server');
      expect(server).toEqual(expect.arrayContaining(['fastify', 'prom-client', 'ws']));
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'installs the connection-monitor bin',
    async () => {
      const { stdout } = await run(
        join(scratch, 'node_modules', '.bin', 'connection-monitor'),
        ['--help'],
        scratch,
      );
      expect(stdout).toContain('connection-monitor serve');
    },
    STEP_TIMEOUT_MS,
  );
});
