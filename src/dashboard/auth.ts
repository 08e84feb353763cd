import { el } from './dom.js';

const STORAGE_KEY = 'connection-monitor.token';

/** Window event fired when the user entered a new token (the live connection retries at once). */
export const TOKEN_CHANGED = 'connection-monitor:token-changed';

/** The access token, kept in `sessionStorage` (gone when the tab closes). */
export const tokenStore = {
  get(): string | null {
    try {
      return sessionStorage.getItem(STORAGE_KEY);
    } catch {
      return null;
    }
  },
  set(token: string): void {
    try {
      sessionStorage.setItem(STORAGE_KEY, token);
    } catch {
      // Storage disabled: the token lives only as long as this page.
    }
  },
  clear(): void {
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // ignore
    }
  },
};

/**
 * Moves a `?token=` from the page URL into sessionStorage and removes it from the address bar, so
 * a link like `/?token=…` logs in without leaving the secret in the history.
 */
export function adoptTokenFromUrl(): void {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token === null) return;
  if (token !== '') tokenStore.set(token);
  url.searchParams.delete('token');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

let pending: Promise<void> | null = null;

/**
 * Shows the token form and resolves once the user submitted a token (stored in sessionStorage).
 * Concurrent callers share one prompt.
 */
export function promptForToken(wasRejected: boolean): Promise<void> {
  pending ??= new Promise<void>((resolve) => {
    const input = el('input', {
      id: 'token-input',
      type: 'password',
      name: 'token',
      autocomplete: 'current-password',
      required: true,
      spellcheck: 'false',
    });
    const hint = el('p', {
      id: 'token-hint',
      class: 'token-hint',
      text: wasRejected
        ? 'The service rejected the token. Check it and try again.'
        : 'This service requires an access token (MONITOR_TOKEN).',
    });
    input.setAttribute('aria-describedby', 'token-hint');
    const form = el(
      'form',
      { class: 'token-form', 'aria-labelledby': 'token-title' },
      el('h2', { id: 'token-title', text: 'Sign in to Connection Monitor' }),
      hint,
      el('label', { for: 'token-input', text: 'Access token' }),
      input,
      el('button', { type: 'submit', class: 'primary', text: 'Continue' }),
    );
    const overlay = el(
      'div',
      { class: 'overlay', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'token-title' },
      form,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const token = input.value.trim();
      if (token === '') return;
      tokenStore.set(token);
      window.dispatchEvent(new Event(TOKEN_CHANGED));
      overlay.remove();
      pending = null;
      resolve();
    });
    document.body.append(overlay);
    input.focus();
  });
  return pending;
}
