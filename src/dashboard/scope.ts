/**
 * The instance picker: "All instances" (the fleet) or one instance. Until someone picks, the
 * default follows what is known: the fleet when more than one instance is known, otherwise this
 * instance. `?instance=<id>` (or `?instance=all`) in the page URL picks at load, and picking
 * writes it back, so a link shows the same scope.
 */
import { el } from './dom.js';
import type { InstanceInfo, Scope } from './types.js';

/** `?instance=` value meaning the whole fleet. */
const ALL = 'all';

/** True when `a` and `b` are the same scope. */
export function sameScope(a: Scope, b: Scope): boolean {
  return a.kind === b.kind && (a.kind === 'fleet' || a.id === (b as { id: string }).id);
}

/** The `instance` query parameter of a read in `scope` (undefined: the whole fleet). */
export function instanceParam(scope: Scope): string | undefined {
  return scope.kind === 'instance' ? scope.id : undefined;
}

/** The picker (a `<select>`) and the scope it stands for. */
export class ScopePicker {
  private current: Scope | null = null;
  /** What `?instance=` or a person asked for; null while the default applies. */
  private chosen: Scope | null;
  private ownId = '';
  /** The options rendered last (rebuilt only when they change, not on every update). */
  private optionsKey = '';

  constructor(
    private readonly select: HTMLSelectElement,
    private readonly onChange: (scope: Scope) => void,
  ) {
    const wanted = new URLSearchParams(location.search).get('instance');
    this.chosen =
      wanted === null || wanted === ''
        ? null
        : wanted === ALL
          ? { kind: 'fleet' }
          : { kind: 'instance', id: wanted };
    select.addEventListener('change', () => {
      const value = select.value;
      this.pick(value === '' ? { kind: 'fleet' } : { kind: 'instance', id: value });
    });
  }

  /** The scope shown; this instance until the first {@link update}. */
  get scope(): Scope {
    return this.current ?? { kind: 'instance', id: this.ownId };
  }

  /** Picks `scope` (a person chose it): remembered, written to the URL, announced. */
  pick(scope: Scope): void {
    this.chosen = scope;
    const url = new URL(location.href);
    url.searchParams.set('instance', scope.kind === 'fleet' ? ALL : scope.id);
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    this.apply(scope);
  }

  /**
   * Refreshes the choices from the known instances (`ownId`: this service's own) and applies the
   * default rule while nothing was chosen.
   */
  update(instances: readonly InstanceInfo[], ownId: string): void {
    this.ownId = ownId;
    const ids = new Set(instances.map((i) => i.id));
    ids.add(ownId);
    const chosenId = this.chosen?.kind === 'instance' ? this.chosen.id : null;
    if (chosenId !== null) ids.add(chosenId);
    const states = new Map(instances.map((i) => [i.id, i.state]));
    const options = [
      el('option', { value: '', text: `All instances (${ids.size})` }),
      ...[...ids].sort().map((id) => {
        const state = states.get(id);
        const notes = [id === ownId ? 'this service' : '', state && state !== 'alive' ? state : '']
          .filter(Boolean)
          .join(', ');
        return el('option', { value: id, text: notes ? `${id} (${notes})` : id });
      }),
    ];
    const scope =
      this.chosen ?? (ids.size > 1 ? { kind: 'fleet' } : { kind: 'instance', id: ownId });
    const texts = options.map((o) => `${o.value}=${o.text}`).join('|');
    if (this.optionsKey !== texts) {
      this.select.replaceChildren(...options);
      this.optionsKey = texts;
    }
    this.apply(scope);
  }

  private apply(scope: Scope): void {
    this.select.value = scope.kind === 'fleet' ? '' : scope.id;
    this.select.dataset.scope = scope.kind === 'fleet' ? ALL : scope.id;
    if (this.current !== null && sameScope(this.current, scope)) return;
    this.current = scope;
    this.onChange(scope);
  }
}
