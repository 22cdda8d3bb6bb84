import type { StreamItem } from '../base/pipeline-api.ts';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Reader {
  resolve(result: IteratorResult<StreamItem>): void;
  reject(error: unknown): void;
}

/**
 * A pipeline's two ends: admission (at most `max` items in flight; pushes past that wait in
 * order) and delivery (items come out in push order, whatever order they finish in).
 */
export class PipelineGate {
  inFlight = 0;
  readonly #waiting: Waiter[] = [];
  /** Finished items waiting for an earlier one. */
  readonly #parked = new Map<number, StreamItem>();
  /** Items ready to be read, in order. */
  readonly #out: StreamItem[] = [];
  readonly #readers: Reader[] = [];
  #next = 0;
  #refusal: unknown;
  #end: { error: unknown } | undefined;
  #idle: (() => void) | undefined;

  constructor(readonly max: number) {}

  /** Resolves once the item may enter (counted in flight then); rejects when refused. */
  admit(signal?: AbortSignal): Promise<void> {
    if (this.#refusal !== undefined) return Promise.reject(this.#refusal);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.inFlight < this.max && this.#waiting.length === 0) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** An admitted item did not enter after all. */
  leave(): void {
    this.inFlight--;
    this.#wake();
  }

  /** An item finished: it comes out once every earlier one has. */
  finish(item: StreamItem): void {
    this.inFlight--;
    if (this.#end === undefined) {
      this.#parked.set(item.id, item);
      for (let next = this.#parked.get(this.#next); next !== undefined; ) {
        this.#parked.delete(this.#next++);
        this.#deliver(next);
        next = this.#parked.get(this.#next);
      }
    }
    this.#wake();
  }

  /** Pushes waiting now, and every later one, are refused with `error`. */
  refuse(error: unknown): void {
    this.#refusal ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }

  /** No more items: readers get those ready, then the end (or `error`). */
  end(error?: unknown): void {
    if (this.#end !== undefined) return;
    this.#end = { error };
    this.#parked.clear();
    for (const reader of this.#readers.splice(0)) this.#settle(reader);
    // Nothing in flight will finish now: a drain waiting for it ends too.
    const idle = this.#idle;
    this.#idle = undefined;
    idle?.();
  }

  /** Resolves once nothing is in flight, or at the end. */
  idle(): Promise<void> {
    if (this.inFlight === 0 || this.#end !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle = resolve;
    });
  }

  next(): Promise<IteratorResult<StreamItem>> {
    const item = this.#out.shift();
    if (item !== undefined) return Promise.resolve({ done: false, value: item });
    return new Promise((resolve, reject) => {
      const reader = { resolve, reject };
      if (this.#end !== undefined) this.#settle(reader);
      else this.#readers.push(reader);
    });
  }

  #deliver(item: StreamItem): void {
    const reader = this.#readers.shift();
    if (reader === undefined) this.#out.push(item);
    else reader.resolve({ done: false, value: item });
  }

  #settle(reader: Reader): void {
    const item = this.#out.shift();
    if (item !== undefined) reader.resolve({ done: false, value: item });
    else if (this.#end?.error !== undefined) reader.reject(this.#end.error);
    else reader.resolve({ done: true, value: undefined });
  }

  #wake(): void {
    while (this.inFlight < this.max && this.#waiting.length > 0) {
      this.inFlight++;
      this.#waiting.shift()?.resolve();
    }
    if (this.inFlight === 0 && this.#idle !== undefined) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }
}
