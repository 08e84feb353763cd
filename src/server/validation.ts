/**
 * Route schemas are zod schemas: Fastify compiles each route's `querystring` / `body` schema
 * through {@link zodValidatorCompiler}, which parses with `parseWith` (the one bridge from zod to
 * `MonitorError`), so handlers receive parsed, typed input and never call zod themselves.
 *
 * Why not `fastify-type-provider-zod` 7: its peer dependencies `@fastify/swagger` and
 * `openapi-types` are not optional (npm would install them), and its validation errors are
 * Fastify's AJV-shaped `validation` arrays, which we would have to turn back into our
 * `{ code, message, field }`. This file is the part of it we need.
 */
import type { FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import type { z } from 'zod';
import type { ErrorCode } from '../core/errors.js';
import { parseWith } from '../core/validate.js';

/** Lets route handlers see the output type of their zod schemas (`req.query`, `req.body`). */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

/** How a bad part of a request is named in the error: code and what the field is part of. */
const PARTS: Record<string, { code: ErrorCode; what: string }> = {
  querystring: { code: 'CM_ERR_INVALID_QUERY', what: 'query' },
  body: { code: 'CM_ERR_BAD_REQUEST', what: 'body' },
  params: { code: 'CM_ERR_BAD_REQUEST', what: 'path' },
  headers: { code: 'CM_ERR_BAD_REQUEST', what: 'headers' },
};

/**
 * Fastify validator compiler for zod schemas. A failed parse becomes a `MonitorError` (400 with
 * `CM_ERR_INVALID_QUERY` for the query string, `CM_ERR_BAD_REQUEST` otherwise) naming the field,
 * or the unknown parameter for a typo; the error handler answers it like any other.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part = PARTS[httpPart ?? 'body'] ?? { code: 'CM_ERR_BAD_REQUEST', what: 'request' };
  return (data: unknown) => {
    try {
      return { value: parseWith(schema, data, part.code, part.what) };
    } catch (error) {
      return { error: error as Error };
    }
  };
};
