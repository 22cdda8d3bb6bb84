import { dataKey } from './keys.ts';

interface Entry {
  readonly dagId: string;
  readonly value: unknown;
  readonly bytes: number;
  /** Read since it last came up for eviction: it gets a second chance. */
  used: boolean;
}

/**
 * Recent values by `[dagId, dataId]`, in memory, bounded by (estimated) bytes: the hot path in
 * front of the result store, so a value produced a moment ago is read without a transaction.
 * The oldest entries go first, but one read since it came up gets a second chance (the clock
 * approximation of least recently used); a DAG's entries go at once when its run is over.
 */
export class ValueCache {
  readonly #entries = new Map<string, Entry>();
  /** The keys of each DAG's entries, so dropping a DAG never scans the others. */
  readonly #byDag = new Map<string, Set<string>>();
  /** Values too big for the cache, held while their store write is under way (see `hold`). */
  readonly #held = new Map<string, { dagId: string; value: unknown; holds: number }>();
  #bytes = 0;

  constructor(readonly maxBytes = 64 << 20) {}

  get(dagId: string, dataId: string): { value: unknown } | undefined {
    const key = dataKey(dagId, dataId);
    const held = this.#held.size === 0 ? undefined : this.#held.get(key);
    if (held !== undefined) return { value: held.value };
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    entry.used = true; // a read costs no reordering; eviction gives it a second chance
    return { value: entry.value };
  }

  set(dagId: string, dataId: string, value: unknown, bytes: number): void {
    const key = dataKey(dagId, dataId);
    this.#forget(key);
    if (bytes > this.maxBytes) return;
    this.#entries.set(key, { dagId, value, bytes, used: false });
    const keys = this.#byDag.get(dagId) ?? new Set<string>();
    keys.add(key);
    this.#byDag.set(dagId, keys);
    this.#bytes += bytes;
    // Oldest first; one read since it came up moves it to the back instead (second chance).
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      if (oldest === key) continue; // the value just set stays
      if (entry.used) {
        entry.used = false;
        this.#entries.delete(oldest);
        this.#entries.set(oldest, entry);
      } else this.#forget(oldest);
    }
  }

  /**
   * Keeps a value readable from memory, whatever its size, until `release`: a big value being
   * written to the store is served and found from here meanwhile, not after its write.
   */
  hold(dagId: string, dataId: string, value: unknown): void {
    const key = dataKey(dagId, dataId);
    const held = this.#held.get(key);
    this.#held.set(key, { dagId, value, holds: (held?.holds ?? 0) + 1 });
  }

  release(dagId: string, dataId: string): void {
    const key = dataKey(dagId, dataId);
    const held = this.#held.get(key);
    if (held === undefined) return;
    if (held.holds > 1) held.holds--;
    else this.#held.delete(key);
  }

  delete(dagId: string, dataId: string): void {
    this.#forget(dataKey(dagId, dataId));
    this.#held.delete(dataKey(dagId, dataId));
  }

  clearDag(dagId: string): void {
    for (const key of this.#byDag.get(dagId) ?? []) this.#forget(key);
    for (const [key, held] of this.#held) if (held.dagId === dagId) this.#held.delete(key);
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Values held. */
  get size(): number {
    return this.#entries.size;
  }

  #forget(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    const keys = this.#byDag.get(entry.dagId);
    keys?.delete(key);
    if (keys?.size === 0) this.#byDag.delete(entry.dagId);
  }
}
