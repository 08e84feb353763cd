/**
 * A local stand-in for an OpenAI-compatible API (Kimi, GLM and OpenAI itself speak the same
 * protocol), for driving the real `openai` SDK in tests: a `node:http` server on 127.0.0.1, port 0.
 *
 * `POST /v1/chat/completions` answers as the API does, non-streaming (`chat.completion`) or, with
 * `stream: true`, as server-sent events (`data: {chat.completion.chunk}` … `data: [DONE]`; with
 * `stream_options.include_usage` a last chunk with empty `choices` and `usage`). The request's
 * `model` is echoed. Each request takes the next reply from a queue
 * ({@link OpenAiStandIn.enqueue}), or the default reply when the queue is empty: a completion, an
 * HTTP error (a 429 carries `retry-after` and `x-ratelimit-*` headers, and its body can follow the
 * headers after a delay), or a hang. Delays before the headers, before the first chunk and between
 * chunks are configurable.
 * Every request is counted and logged, with how it ended (served, or the client went away).
 * Other paths answer 404 with an OpenAI-style error body.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** Answer with a chat completion (streamed when the request says `stream: true`). */
export interface CompletionReply {
  readonly kind: 'completion';
  /** Delay before the response headers, ms. Default 0. */
  readonly firstByteDelayMs?: number;
  /** Delay between the headers and the first body bytes (first SSE chunk), ms. Default 0. */
  readonly firstChunkDelayMs?: number;
  /** Delay between SSE chunks, ms. Default 0. */
  readonly chunkIntervalMs?: number;
  /** The content, one piece per SSE chunk. Default `['Hello', ' from', ' the', ' stand-in']`. */
  readonly content?: readonly string[];
  /** Streaming only: send this many content chunks, then nothing more (the stream hangs). */
  readonly stallAfterChunks?: number;
}

/** Answer with an HTTP error status and an OpenAI-style error body. */
export interface HttpErrorReply {
  readonly kind: 'httpError';
  /** The status, e.g. 429 or 500. A 429 carries `retry-after` and `x-ratelimit-*` headers. */
  readonly status: number;
  /** Delay before the response headers, ms. Default 0. */
  readonly firstByteDelayMs?: number;
  /**
   * When set, the headers are flushed first and the body follows after this many ms (a client
   * that gives up on the body in between closes the connection first). Default: body with headers.
   */
  readonly bodyDelayMs?: number;
  /** `retry-after` header, seconds (429 only). Default 0. */
  readonly retryAfterS?: number;
  /** `retry-after-ms` header (429 only; openai reads it before `retry-after`). Default: none. */
  readonly retryAfterMs?: number;
}

/** Read the request, never answer (until the client or {@link OpenAiStandIn.close} ends it). */
export interface HangReply {
  readonly kind: 'hang';
}

/** What the stand-in does with one request. */
export type StandInReply = CompletionReply | HttpErrorReply | HangReply;

/** One request the stand-in received. */
export interface StandInRequest {
  /** 1 for the first request the server received, then 2, … (also in `id` and `x-request-id`). */
  readonly n: number;
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** The request body's `model`, if any. */
  readonly model: string | undefined;
  readonly isStream: boolean;
  readonly hasIncludeUsage: boolean;
  readonly authorization: string | undefined;
  /** The reply it was given (`notFound` for paths the stand-in does not serve). */
  readonly reply: StandInReply['kind'] | 'notFound';
  /** `server` once the whole response was sent, `client` if the connection closed first. */
  endedBy: 'server' | 'client' | undefined;
}

/** Options of {@link startOpenAiStandIn}. */
export interface OpenAiStandInOptions {
  /** The reply when the queue is empty. Default `{ kind: 'completion' }`. */
  readonly defaultReply?: StandInReply;
}

/** A running stand-in. */
export interface OpenAiStandIn {
  readonly port: number;
  /** `http://127.0.0.1:<port>/v1`, the SDK's `baseURL`. */
  readonly baseUrl: string;
  /** Every request received, oldest first. */
  readonly requests: readonly StandInRequest[];
  /** How many requests were received. */
  readonly requestCount: number;
  /** Replies for the next requests, in order (then the default reply again). */
  enqueue(...replies: StandInReply[]): void;
  /** Resolves once `count` requests in total were received; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves with request `n` once its exchange ended (either side); rejects after `timeoutMs`. */
  waitForEnd(n: number, timeoutMs?: number): Promise<StandInRequest>;
  /** Closes every connection (ending hangs) and the server. */
  close(): Promise<void>;
}

const DEFAULT_CONTENT = ['Hello', ' from', ' the', ' stand-in'] as const;
const DEFAULT_WAIT_MS = 5_000;

/** Starts a stand-in on 127.0.0.1, port 0. */
export async function startOpenAiStandIn(
  options: OpenAiStandInOptions = {},
): Promise<OpenAiStandIn> {
  const defaultReply = options.defaultReply ?? { kind: 'completion' };
  const queue: StandInReply[] = [];
  const requests: StandInRequest[] = [];
  const changed = new EventEmitter();

  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const json = parseJson(body);
      const isCompletions = req.method === 'POST' && path === '/v1/chat/completions';
      const reply = isCompletions ? (queue.shift() ?? defaultReply) : undefined;
      const entry: StandInRequest = {
        n: requests.length + 1,
        method: req.method ?? '',
        path,
        model: typeof json?.model === 'string' ? json.model : undefined,
        isStream: json?.stream === true,
        hasIncludeUsage:
          isRecord(json?.stream_options) && json.stream_options.include_usage === true,
        authorization: req.headers.authorization,
        reply: reply?.kind ?? 'notFound',
        endedBy: undefined,
      };
      requests.push(entry);
      const timers = new Set<NodeJS.Timeout>();
      const end = () => {
        for (const t of timers) clearTimeout(t);
        entry.endedBy = res.writableFinished ? 'server' : 'client';
        changed.emit('change');
      };
      if (res.destroyed) end();
      else res.on('close', end);
      changed.emit('change');
      // Every later step of a reply goes through `after`: nothing is written once the client left.
      const after = (ms: number | undefined, fn: () => void) => {
        if (ms === undefined || ms <= 0) {
          if (!res.destroyed) fn();
          return;
        }
        atLeast(ms, timers, () => {
          if (!res.destroyed) fn();
        });
      };
      if (reply === undefined) {
        return sendJson(
          res,
          404,
          errorBody(`Not found: ${req.method} ${path}`, 'invalid_request_error'),
        );
      }
      serve(reply, entry, res, after);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const waitUntil = (isDone: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!isDone()) return;
        stop();
        resolve();
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`openai stand-in: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const stop = () => {
        clearTimeout(timer);
        changed.off('change', check);
      };
      changed.on('change', check);
      check();
    });

  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    get requestCount() {
      return requests.length;
    },
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    waitForRequests: (count, timeoutMs = DEFAULT_WAIT_MS) =>
      waitUntil(() => requests.length >= count, timeoutMs, `${count} request(s)`),
    waitForEnd: async (n, timeoutMs = DEFAULT_WAIT_MS) => {
      await waitUntil(
        () => requests[n - 1]?.endedBy !== undefined,
        timeoutMs,
        `request ${n} to end`,
      );
      return requests[n - 1] as StandInRequest;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type After = (ms: number | undefined, fn: () => void) => void;

function serve(reply: StandInReply, entry: StandInRequest, res: ServerResponse, after: After) {
  switch (reply.kind) {
    case 'hang':
      return;
    case 'httpError':
      return after(reply.firstByteDelayMs, () => sendError(reply, res, after));
    case 'completion':
      return after(reply.firstByteDelayMs, () =>
        entry.isStream
          ? sendStream(reply, entry, res, after)
          : sendCompletion(reply, entry, res, after),
      );
  }
}

function sendError(reply: HttpErrorReply, res: ServerResponse, after: After) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (reply.status === 429) {
    headers['retry-after'] = String(reply.retryAfterS ?? 0);
    if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
    headers['x-ratelimit-limit-requests'] = '60';
    headers['x-ratelimit-remaining-requests'] = '0';
    headers['x-ratelimit-remaining-tokens'] = '0';
    headers['x-ratelimit-reset-requests'] = `${reply.retryAfterS ?? 0}s`;
  }
  const body =
    reply.status === 429
      ? errorBody('Rate limit reached for requests', 'rate_limit_error', 'rate_limit_exceeded')
      : errorBody(`The stand-in answered ${reply.status}`, 'server_error');
  if (reply.bodyDelayMs === undefined) return sendJson(res, reply.status, body, headers);
  res.writeHead(reply.status, headers);
  res.flushHeaders();
  after(reply.bodyDelayMs, () => res.end(JSON.stringify(body)));
}

function sendCompletion(
  reply: CompletionReply,
  entry: StandInRequest,
  res: ServerResponse,
  after: After,
) {
  const content = reply.content ?? DEFAULT_CONTENT;
  const body = {
    id: `chatcmpl-standin-${entry.n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: entry.model ?? 'unknown',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: content.join('') },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: usage(content),
  };
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_${entry.n}` });
  if (reply.firstChunkDelayMs === undefined) return res.end(JSON.stringify(body));
  res.flushHeaders();
  after(reply.firstChunkDelayMs, () => res.end(JSON.stringify(body)));
}

function sendStream(
  reply: CompletionReply,
  entry: StandInRequest,
  res: ServerResponse,
  after: After,
) {
  const content = reply.content ?? DEFAULT_CONTENT;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({
      id: `chatcmpl-standin-${entry.n}`,
      object: 'chat.completion.chunk',
      created,
      model: entry.model ?? 'unknown',
      choices,
      ...extra,
    })}\n\n`;
  const delta = (d: Record<string, unknown>, finishReason: string | null = null) => [
    { index: 0, delta: d, logprobs: null, finish_reason: finishReason },
  ];
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-request-id': `req_${entry.n}`,
  });
  res.flushHeaders();
  const send = (i: number) => {
    if (reply.stallAfterChunks !== undefined && i >= reply.stallAfterChunks) return;
    if (i < content.length) {
      res.write(
        chunk(
          delta(i === 0 ? { role: 'assistant', content: content[i] } : { content: content[i] }),
        ),
      );
      return after(reply.chunkIntervalMs, () => send(i + 1));
    }
    res.write(chunk(delta({}, 'stop')));
    if (entry.hasIncludeUsage) res.write(chunk([], { usage: usage(content) }));
    res.end('data: [DONE]\n\n');
  };
  after(reply.firstChunkDelayMs, () => send(0));
}

function usage(content: readonly string[]) {
  const completionTokens = content.length;
  return {
    prompt_tokens: 5,
    completion_tokens: completionTokens,
    total_tokens: 5 + completionTokens,
  };
}

function errorBody(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  res.writeHead(status, headers);
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Runs `fn` once at least `ms` passed by the monotonic clock (a timer alone may fire early). */
function atLeast(ms: number, timers: Set<NodeJS.Timeout>, fn: () => void) {
  const until = performance.now() + ms;
  const tick = () => {
    const left = until - performance.now();
    if (left <= 0) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      tick();
    }, Math.ceil(left));
    timers.add(t);
  };
  tick();
}
