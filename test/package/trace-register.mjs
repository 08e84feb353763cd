/**
 * `node --import <this file>`: appends the URL of every module the process resolves through the ES
 * module loader (static `import` and `import()`) to the file named by CM_TRACE_FILE, one per line.
 * `module.register` hooks are used rather than `registerHooks` because they exist on every Node we
 * support (20.6+) and chain after tsx's. They do not see every `require()` made by CommonJS code,
 * so readers of the trace also look at `require.cache`.
 */
import { register } from 'node:module';

register('./trace-hooks.mjs', import.meta.url);
