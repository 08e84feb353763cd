/**
 * A tiny element builder. Text always goes in through `textContent` (string children become text
 * nodes), never `innerHTML`, so data from events can never become markup.
 */

/** Attributes: `class`, `text`, `data-*`, `aria-*` and any other attribute as a string. */
export type Attrs = Record<string, string | number | boolean | null | undefined>;

/** Creates `<tag>` with attributes and children (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    // Through the CSSOM, which a Content-Security-Policy without 'unsafe-inline' still allows.
    else if (key === 'style') node.style.cssText = String(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child);
  }
  return node;
}

/** Sets text only when it changed (avoids needless layout work on 1 Hz updates). */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** Finds a required element by id. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`dashboard: #${id} missing from index.html`);
  return node as T;
}
