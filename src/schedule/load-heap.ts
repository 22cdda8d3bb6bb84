import { before } from './placement.ts';

/**
 * Peers ordered by load, least loaded first: a binary heap that knows where each peer sits, so a
 * peer whose load changed moves in O(log n) and the least loaded is read in O(1). What lets the
 * orchestrator place a task without looking at every peer. Ties go to `first`, then to the lower
 * id, as a scan would choose (`placement.ts`, `before`). Pure.
 */
export class LoadHeap<T extends { readonly id: string }> {
  readonly #items: T[] = [];
  readonly #keys: number[] = [];
  readonly #at = new Map<string, number>();

  constructor(
    readonly keyOf: (item: T) => number,
    readonly first?: string,
  ) {}

  get size(): number {
    return this.#items.length;
  }

  /** The least loaded, if any. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Every item, in no particular order. */
  values(): readonly T[] {
    return this.#items;
  }

  get(id: string): T | undefined {
    const i = this.#at.get(id);
    return i === undefined ? undefined : this.#items[i];
  }

  /** Adds the item, or moves it where its key now puts it. */
  set(item: T): void {
    const i = this.#at.get(item.id);
    if (i === undefined) {
      this.#items.push(item);
      this.#keys.push(this.keyOf(item));
      this.#at.set(item.id, this.#items.length - 1);
      this.#up(this.#items.length - 1);
      return;
    }
    this.#items[i] = item;
    const before = this.#keys[i] as number;
    this.#keys[i] = this.keyOf(item);
    if ((this.#keys[i] as number) < before) this.#up(i);
    else this.#down(i);
  }

  delete(id: string): void {
    const i = this.#at.get(id);
    if (i === undefined) return;
    const last = this.#items.length - 1;
    this.#swap(i, last);
    this.#items.pop();
    this.#keys.pop();
    this.#at.delete(id);
    if (i < last) {
      this.#up(i);
      this.#down(i);
    }
  }

  #less(a: number, b: number): boolean {
    const ka = this.#keys[a] as number;
    const kb = this.#keys[b] as number;
    return (
      ka < kb ||
      (ka === kb && before((this.#items[a] as T).id, (this.#items[b] as T).id, this.first))
    );
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    const keys = this.#keys;
    [items[a], items[b]] = [items[b] as T, items[a] as T];
    [keys[a], keys[b]] = [keys[b] as number, keys[a] as number];
    this.#at.set((items[a] as T).id, a);
    this.#at.set((items[b] as T).id, b);
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#items.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < n && this.#less(left, least)) least = left;
      if (right < n && this.#less(right, least)) least = right;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }
}
