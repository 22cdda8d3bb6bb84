interface Entry {
  readonly dagId: string;
  readonly dataId: string;
  readonly value: unknown;
  readonly bytes: number;
  /** Read since it last came up for eviction: it gets a second chance. */
  used: boolean;
}

/** A value too big for the cache, held while its store write is under way (see `hold`). */
interface Held {
  readonly value: unknown;
  holds: number;
}

/**
 * Recent values by `[dagId, dataId]`, in memory, bounded by (estimated) bytes: the hot path in
 * front of the result store, so a value produced a moment ago is read without a transaction.
 * The oldest entries go first, but one read since it came up gets a second chance (the clock
 * approximation of least recently used); a DAG's entries go at once when its run is over.
 * Entries are found by DAG, then by data id: a read or a write joins no key string, and a DAG's
 * entries are dropped without looking at the others.
 */
export class ValueCache {
  readonly #dags = new Map<string, Map<string, Entry>>();
  /** Every entry, oldest first. */
  readonly #order = new Set<Entry>();
  readonly #held = new Map<string, Map<string, Held>>();
  #bytes = 0;

  constructor(readonly maxBytes = 64 << 20) {}

  get(dagId: string, dataId: string): { value: unknown } | undefined {
    const held = this.#held.size === 0 ? undefined : this.#held.get(dagId)?.get(dataId);
    if (held !== undefined) return { value: held.value };
    const entry = this.#dags.get(dagId)?.get(dataId);
    if (entry === undefined) return undefined;
    entry.used = true; // a read costs no reordering; eviction gives it a second chance
    return { value: entry.value };
  }

  set(dagId: string, dataId: string, value: unknown, bytes: number): void {
    const old = this.#dags.get(dagId)?.get(dataId);
    if (old !== undefined) this.#forget(old);
    if (bytes > this.maxBytes) return;
    let entries = this.#dags.get(dagId);
    if (entries === undefined) {
      entries = new Map<string, Entry>();
      this.#dags.set(dagId, entries);
    }
    const entry: Entry = { dagId, dataId, value, bytes, used: false };
    entries.set(dataId, entry);
    this.#order.add(entry);
    this.#bytes += bytes;
    // Oldest first; one read since it came up moves it to the back instead (second chance).
    for (const oldest of this.#order) {
      if (this.#bytes <= this.maxBytes) break;
      if (oldest === entry) continue; // the value just set stays
      if (oldest.used) {
        oldest.used = false;
        this.#order.delete(oldest);
        this.#order.add(oldest);
      } else this.#forget(oldest);
    }
  }

  /**
   * Keeps a value readable from memory, whatever its size, until `release`: a big value being
   * written to the store is served and found from here meanwhile, not after its write.
   */
  hold(dagId: string, dataId: string, value: unknown): void {
    const held = this.#held.get(dagId) ?? new Map<string, Held>();
    this.#held.set(dagId, held);
    held.set(dataId, { value, holds: (held.get(dataId)?.holds ?? 0) + 1 });
  }

  release(dagId: string, dataId: string): void {
    const held = this.#held.get(dagId);
    const entry = held?.get(dataId);
    if (held === undefined || entry === undefined) return;
    if (entry.holds > 1) entry.holds--;
    else this.#unhold(dagId, dataId);
  }

  delete(dagId: string, dataId: string): void {
    const entry = this.#dags.get(dagId)?.get(dataId);
    if (entry !== undefined) this.#forget(entry);
    this.#unhold(dagId, dataId);
  }

  clearDag(dagId: string): void {
    for (const entry of this.#dags.get(dagId)?.values() ?? []) {
      this.#order.delete(entry);
      this.#bytes -= entry.bytes;
    }
    this.#dags.delete(dagId);
    this.#held.delete(dagId);
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Values held. */
  get size(): number {
    return this.#order.size;
  }

  #forget(entry: Entry): void {
    const entries = this.#dags.get(entry.dagId);
    if (entries?.get(entry.dataId) !== entry) return;
    entries.delete(entry.dataId);
    if (entries.size === 0) this.#dags.delete(entry.dagId);
    this.#order.delete(entry);
    this.#bytes -= entry.bytes;
  }

  #unhold(dagId: string, dataId: string): void {
    const held = this.#held.get(dagId);
    held?.delete(dataId);
    if (held?.size === 0) this.#held.delete(dagId);
  }
}
