/* global process */
/** Loader hooks registered by trace-register.mjs (they run on the loader thread). */
import { appendFileSync } from 'node:fs';

const file = process.env.CM_TRACE_FILE;

/** Resolves as the next hook does, then records the resolved URL. */
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (file) appendFileSync(file, `${result.url}\n`);
  return result;
}
