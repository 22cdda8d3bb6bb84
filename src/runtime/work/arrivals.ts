import { dagPrefix, dataKey } from '../../data/keys.ts';
import { findValue, type ResultStore, type StagedParts } from '../../data/store.ts';
import type { ValueCache } from '../../data/value-cache.ts';

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The values a task runner keeps, and the waits for them (an early task's input, a fetch
 * served before its producer finished): each wait ends when the value is kept here, or is
 * found in the store.
 */
export class Arrivals {
  /** Callers waiting for a value to be kept here, by `dataKey`. */
  readonly #waiters = new Map<string, Waiter[]>();

  constructor(
    readonly cache: ValueCache,
    readonly store: ResultStore,
    /** Whether this node is about to make the value (a job of its task is held here). */
    readonly making: (dagId: string, dataId: string) => boolean = () => false,
  ) {}

  /**
   * Resolves when a value is here: in memory now, in the store, or kept later (produced or
   * fetched). Rejects when `signal` aborts or its DAG is dropped. The waiter is registered
   * before the store is asked, so a value kept meanwhile is never missed, and a slow store never
   * delays it.
   */
  waitFor(dagId: string, dataId: string, signal?: AbortSignal): Promise<unknown> {
    const hot = this.cache.get(dagId, dataId);
    if (hot !== undefined) return Promise.resolve(hot.value);
    return new Promise((resolve, reject) => {
      const key = dataKey(dagId, dataId);
      const waiter = { resolve, reject };
      this.#waiters.set(key, [...(this.#waiters.get(key) ?? []), waiter]);
      // A value being made here arrives through `kept`; only one that is not may already be
      // in the store (no timer: a hidden tab would run it a second late). A read there queues
      // behind pending writes, so it is not made for values about to come anyway.
      const stillWaiting = () => (this.#waiters.get(key) ?? []).includes(waiter);
      if (!this.making(dagId, dataId)) {
        findValue(this.store, dagId, dataId).then(
          (found) => {
            if (found === undefined || !stillWaiting()) return;
            this.#remove(key, waiter);
            resolve(found.value);
          },
          () => undefined, // a failing store: the value may still be kept later
        );
      }
      signal?.addEventListener(
        'abort',
        () => {
          this.#remove(key, waiter);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /**
   * Keeps a value here: in the hot cache at once (whoever waits for it has it), in the store
   * behind it. A value too big for the cache is held while it is written, so it is found and
   * served meanwhile; one the store refuses leaves the cache (it is not kept: not served). A
   * value written to the store as it arrived is kept by committing its staging.
   */
  keep(
    dagId: string,
    dataId: string,
    value: unknown,
    bytes: number,
    staged?: StagedParts,
  ): Promise<void> {
    const { cache, store } = this;
    cache.set(dagId, dataId, value, bytes);
    const held = bytes > cache.maxBytes;
    if (held) cache.hold(dagId, dataId, value);
    this.kept(dagId, dataId, value);
    const write = staged === undefined ? store.put(dagId, dataId, value) : staged.commit();
    write.then(
      () => held && cache.release(dagId, dataId),
      () => {
        if (held) cache.release(dagId, dataId);
        cache.delete(dagId, dataId);
      },
    );
    return write;
  }

  /** A value was kept here: whoever waits for it has it. */
  kept(dagId: string, dataId: string, value: unknown): void {
    if (this.#waiters.size === 0) return;
    const key = dataKey(dagId, dataId);
    const waiters = this.#waiters.get(key);
    if (waiters === undefined) return;
    this.#waiters.delete(key);
    for (const w of waiters) w.resolve(value);
  }

  /** The DAG's run is over here: its waits fail with `reason`. */
  drop(dagId: string, reason: unknown): void {
    const prefix = dagPrefix(dagId);
    for (const [key, list] of this.#waiters) {
      if (!key.startsWith(prefix)) continue;
      this.#waiters.delete(key);
      for (const w of list) w.reject(reason);
    }
  }

  #remove(key: string, waiter: Waiter): void {
    const rest = (this.#waiters.get(key) ?? []).filter((w) => w !== waiter);
    if (rest.length > 0) this.#waiters.set(key, rest);
    else this.#waiters.delete(key);
  }
}
