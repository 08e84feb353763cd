import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';

/** Name of the dashboard session cookie. */
export const SESSION_COOKIE = 'cm_session';

/** How a request proved it knows the token. */
export type Credential = 'header' | 'query' | 'cookie';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Bearer-token checks. Candidates are hashed first so `timingSafeEqual` always compares 32 bytes:
 * the time taken does not depend on where (or whether) a guess differs, nor on its length.
 */
export class TokenAuth {
  private readonly tokenHash: Buffer;
  private readonly cookieHash: Buffer;
  /** The cookie value: an HMAC of the token, so the cookie never carries the token itself. */
  private readonly cookieValue: string;

  constructor(token: string) {
    this.tokenHash = sha256(token);
    this.cookieValue = createHmac('sha256', token)
      .update('connection-monitor session')
      .digest('hex');
    this.cookieHash = sha256(this.cookieValue);
  }

  /** Constant-time check of a presented token. */
  isValidToken(candidate: string): boolean {
    return timingSafeEqual(sha256(candidate), this.tokenHash);
  }

  /** Constant-time check of a presented session cookie. */
  isValidCookie(candidate: string): boolean {
    return timingSafeEqual(sha256(candidate), this.cookieHash);
  }

  /**
   * Which credential of the request is valid, or null. `allowCookie` is false for WebSocket
   * upgrades from a foreign origin (a cookie rides along with cross-site requests; a header or
   * query token does not).
   */
  check(req: FastifyRequest, allowCookie: boolean): Credential | null {
    const header = req.headers.authorization;
    if (typeof header === 'string') {
      const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
      if (m !== null && this.isValidToken(m[1] as string)) return 'header';
    }
    const query = (req.query as Record<string, unknown> | undefined)?.token;
    if (typeof query === 'string' && this.isValidToken(query)) return 'query';
    if (allowCookie) {
      // Parsed by @fastify/cookie (registered before the guard).
      const cookie = req.cookies[SESSION_COOKIE];
      if (cookie !== undefined && this.isValidCookie(cookie)) return 'cookie';
    }
    return null;
  }

  /** The dashboard session cookie for `reply.setCookie` (HttpOnly, SameSite=Strict). */
  sessionCookie(isSecure: boolean): { value: string; options: CookieSerializeOptions } {
    return {
      value: this.cookieValue,
      options: { path: '/', httpOnly: true, sameSite: 'strict', secure: isSecure },
    };
  }
}

/** True when a browser `Origin` header names the host the request was sent to. */
export function isSameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * The path of a request URL: up to the first `?` or `#`, where Fastify's router (find-my-way)
 * ends it too (it reads `/a#token=x` as path `/a` with query `token=x`).
 */
export function urlPath(url: string): string {
  return url.split(/[?#]/, 1)[0] ?? '';
}

/** Most rounds of percent-decoding of a parameter name (`%2574` → `%74` → `t`). */
const MAX_DECODE_ROUNDS = 4;

/**
 * True when a raw parameter name names the token however it is spelled: percent-encoded (also
 * twice), `+` for a space, in any case, or with other characters around (`access_token`). Wider
 * than what the query parser reads as `token`, on purpose: a client that sent such a name meant
 * the token, and redacting a harmless value costs nothing.
 */
function isTokenName(raw: string): boolean {
  let name = raw;
  for (let i = 0; i < MAX_DECODE_ROUNDS; i++) {
    // Byte by byte, so a malformed escape cannot throw (only ASCII letters matter here).
    const decoded = name.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) =>
      String.fromCharCode(parseInt(hex, 16)),
    );
    if (decoded === name) break;
    name = decoded;
  }
  return name
    .replace(/[^a-zA-Z]/g, '')
    .toLowerCase()
    .includes('token');
}

/**
 * Masks the value of every token parameter of a URL (see `isTokenName`) before it is logged or
 * shown: `?tok%65n=abc&x=1` → `?tok%65n=***&x=1`. Parameters are taken to start after any of
 * `? # & ;`, more places than the query parser reads (`?`, `#`, then `&`), so nothing it reads
 * as the token is ever missed.
 */
export function redactTokenInUrl(url: string): string {
  return url.replace(/([?#&;])([^?#&;=]*)=[^?#&;]*/g, (param, separator: string, name: string) =>
    isTokenName(name) ? `${separator}${name}=***` : param,
  );
}

/** The sign-in page's only style; allowed by its hash in {@link LOGIN_PAGE_CSP}. */
const LOGIN_STYLE = `body{font:16px system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;background:#0f172a;color:#e2e8f0}
form{display:grid;gap:.75rem;padding:2rem;border-radius:.5rem;background:#1e293b;min-width:18rem}
input,button{font:inherit;padding:.5rem;border-radius:.25rem;border:1px solid #475569}button{cursor:pointer}`;

/** The tiny self-contained page asking for the token (no scripts, no external assets). */
export const LOGIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>connection-monitor: sign in</title>
<style>${LOGIN_STYLE}</style>
</head><body><form method="get" action="/">
<label for="token">Token for this connection-monitor (MONITOR_TOKEN)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open dashboard</button></form></body></html>
`;

/**
 * CSP directives of the sign-in page: nothing but its own inline style (by its SHA-256, so no
 * `'unsafe-inline'`) and its form, which sends the token to `/`.
 */
export const LOGIN_PAGE_CSP: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'none'"],
  'style-src': [`'sha256-${createHash('sha256').update(LOGIN_STYLE, 'utf8').digest('base64')}'`],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
});
