import type { ResultStore } from '../data/store.ts';
import type { ValueCache } from '../data/value-cache.ts';

/** A wait for a value lasting longer than this also looks in the store. */
const STORE_CHECK_MS = 50;

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The values a worker waits for (an early task's input, a fetch served before its producer
 * finished): each wait ends when the value is kept here, or is found in the store.
 */
export class Arrivals {
  /** Callers waiting for a value to be kept here, by `dagId\0dataId`. */
  readonly #waiters = new Map<string, Waiter[]>();

  constructor(
    readonly cache: ValueCache,
    readonly store: ResultStore,
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
      const key = `${dagId}\u0000${dataId}`;
      const waiter = { resolve, reject };
      this.#waiters.set(key, [...(this.#waiters.get(key) ?? []), waiter]);
      // Usually the value is being made right now and arrives through `kept`; only a wait that
      // lasts asks the store (a read there queues behind pending writes).
      const stillWaiting = () => (this.#waiters.get(key) ?? []).includes(waiter);
      setTimeout(() => {
        if (!stillWaiting()) return;
        this.store.has(dagId, dataId).then(
          async (has) => {
            if (!has || !stillWaiting()) return;
            const value = await this.store.get(dagId, dataId);
            this.#remove(key, waiter);
            resolve(value);
          },
          () => undefined, // a failing store: the value may still be kept later
        );
      }, STORE_CHECK_MS);
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

  /** A value was kept here: whoever waits for it has it. */
  kept(dagId: string, dataId: string, value: unknown): void {
    const key = `${dagId}\u0000${dataId}`;
    const waiters = this.#waiters.get(key);
    if (waiters === undefined) return;
    this.#waiters.delete(key);
    for (const w of waiters) w.resolve(value);
  }

  /** The DAG's run is over here: its waits fail with `reason`. */
  drop(dagId: string, reason: unknown): void {
    for (const [key, list] of this.#waiters) {
      if (!key.startsWith(`${dagId}\u0000`)) continue;
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
