/**
 * A line in arrival order (a task runner's jobs, a run's ready tasks). An item that cannot go
 * now may wait while later ones go, and taking one costs the same however long the line is:
 * taken items leave holes that the front skips, and the array is compacted once the holes are
 * most of it.
 */
export class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #size = 0;
  #draining = false;

  get length(): number {
    return this.#size;
  }

  push(item: T): void {
    this.#items.push(item);
    this.#size++;
  }

  /** Takes the item at the front, if any. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    while (this.#items[this.#head] === undefined) this.#head++;
    const item = this.#items[this.#head] as T;
    this.#items[this.#head] = undefined;
    this.#size--;
    this.#compact();
    return item;
  }

  /** Puts items back at the front, in their order. */
  unshift(items: readonly T[]): void {
    if (items.length === 0) return;
    this.#items = [...items, ...this.#items.slice(this.#head)];
    this.#head = 0;
    this.#size += items.length;
  }

  /**
   * Takes items in order while `more()` holds, each one `fits` accepts, and hands each to `run`.
   * A call from inside `run` returns at once: the running loop sees what it queued.
   */
  drain(more: () => boolean, fits: (item: T) => boolean, run: (item: T) => void): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let i = this.#head; i < this.#items.length && more(); i++) {
        const item = this.#items[i];
        if (item === undefined || !fits(item)) continue;
        this.#items[i] = undefined;
        this.#size--;
        run(item);
      }
    } finally {
      this.#draining = false;
      this.#compact();
    }
  }

  /** Removes and returns every item `match` accepts. */
  remove(match: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i];
      if (item === undefined || !match(item)) continue;
      this.#items[i] = undefined;
      this.#size--;
      out.push(item);
    }
    this.#compact();
    return out;
  }

  some(match: (item: T) => boolean): boolean {
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i];
      if (item !== undefined && match(item)) return true;
    }
    return false;
  }

  #compact(): void {
    if (this.#draining) return;
    const items = this.#items;
    while (this.#head < items.length && items[this.#head] === undefined) this.#head++;
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
  }
}
