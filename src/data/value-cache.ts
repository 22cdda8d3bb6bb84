/**
 * Recent values by `[dagId, dataId]`, in memory, bounded by (estimated) bytes: the hot path in
 * front of the result store, so a value produced a moment ago is read without a transaction.
 * Least recently used entries go first.
 */
export class ValueCache {
  readonly #entries = new Map<string, { dagId: string; value: unknown; bytes: number }>();
  #bytes = 0;

  constructor(readonly maxBytes = 64 << 20) {}

  get(dagId: string, dataId: string): { value: unknown } | undefined {
    const key = keyOf(dagId, dataId);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key); // re-insert: most recently used last
    this.#entries.set(key, entry);
    return { value: entry.value };
  }

  set(dagId: string, dataId: string, value: unknown, bytes: number): void {
    const key = keyOf(dagId, dataId);
    this.#forget(key);
    if (bytes > this.maxBytes) return;
    this.#entries.set(key, { dagId, value, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  delete(dagId: string, dataId: string): void {
    this.#forget(keyOf(dagId, dataId));
  }

  clearDag(dagId: string): void {
    for (const [key, entry] of this.#entries) if (entry.dagId === dagId) this.#forget(key);
  }

  get bytes(): number {
    return this.#bytes;
  }

  #forget(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}

// JSON keeps the two ids apart whatever characters they hold.
const keyOf = (dagId: string, dataId: string) => JSON.stringify([dagId, dataId]);
