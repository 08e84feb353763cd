/**
 * A set of listeners called in turn; one that throws is reported through `onThrow` and the others
 * are still called (a subscriber's bug never reaches the code that notifies).
 */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();

  constructor(private readonly onThrow: (err: unknown) => void) {}

  get size(): number {
    return this.set.size;
  }

  /** Adds `listener`; returns the function that removes it (true when it was there). */
  add(listener: (value: T) => void): () => boolean {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  notify(value: T): void {
    for (const listener of this.set) {
      try {
        listener(value);
      } catch (err) {
        this.onThrow(err);
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}
