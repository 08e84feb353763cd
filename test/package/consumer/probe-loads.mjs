/* global process, console */
// `node --import ../trace-register.mjs probe-loads.mjs SPECIFIER`: imports SPECIFIER and prints, as
// JSON, the names of the packages (under node_modules) the process loaded: from the loader trace
// (ES modules) and from require.cache (CommonJS, which the trace may not see).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const specifier = process.argv[2];
await import(specifier);

const traced = readFileSync(process.env.CM_TRACE_FILE, 'utf8').split('\n').filter(Boolean);
const required = Object.keys(createRequire(import.meta.url).cache).map(
  (p) => pathToFileURL(p).href,
);
const packages = new Set();
for (const url of [...traced, ...required]) {
  const match = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (match) packages.add(match[1]);
}
console.log(JSON.stringify([...packages].sort()));
