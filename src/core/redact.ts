/**
 * Hides the credentials of a URL such as `redis://user:password@host:6379/0`, safe for logs,
 * errors and status output. Works on the text as given, without parsing: a malformed URL (an
 * unencoded `/` or `@` in the password) is redacted as well as a valid one, and the rest of the
 * URL is shown exactly as written.
 *
 * Everything between `scheme://` and the last `@` before the path is the user information
 * (`@` cannot occur in a host): `user:password` becomes `user:***` (`:password` becomes `:***`), a
 * lone `user` becomes `***`.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('://');
  if (start < 0) return url;
  const from = start + 3;
  // A password that was not percent-encoded may hold '/', '?', '#' or '@', so the user
  // information ends at the last '@' (an '@' in a path or query only redacts more, never less).
  const at = url.lastIndexOf('@');
  if (at < from) return url;
  const info = url.slice(from, at);
  const colon = info.indexOf(':');
  const shown = colon >= 0 ? `${info.slice(0, colon)}:***` : '***';
  return `${url.slice(0, from)}${shown}${url.slice(at)}`;
}

/**
 * A function that cuts the password of `url` (as written or percent-decoded) out of any text, for
 * messages of errors that may quote it (a driver error echoing the URL, a server reply).
 */
export function passwordRedactor(url: string): (text: string) => string {
  let secret = '';
  try {
    const u = new URL(url);
    secret = u.password === '' ? '' : decodeURIComponent(u.password);
  } catch {
    // Not a parsable URL: nothing to cut (redactUrl still hides it in the URL itself).
  }
  return secret === '' ? (text) => text : (text) => text.split(secret).join('***');
}

/** The message of any thrown value. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
