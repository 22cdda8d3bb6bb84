import type { ResultStore } from '../../data/store.ts';

/** Where a node keeps its DAGs' expiry times: a DAG id no `Dag` can have (see `Dag`). */
export const EXPIRY_DAG = '\u0000handout:expiry';

/** An expiry moved by less than this is not written again. */
const REWRITE_MS = 1000;
/** setTimeout's longest wait. */
const MAX_WAIT_MS = 2 ** 31 - 1;

export interface ExpiryPorts {
  /** Whether the DAG still has work here (it is then looked at again one `ttl` later). */
  busy(dagId: string): boolean;
  /** Removes the DAG's data here. */
  expire(dagId: string): Promise<void>;
}

/**
 * The time-to-live of each DAG's data on this node: set when the DAG is run or worked for here,
 * kept in the node's own store (so it survives a reload) and enforced by one timer for the
 * earliest expiry.
 */
export class Expiry {
  readonly #at = new Map<string, { at: number; ttl: number }>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    readonly store: ResultStore,
    readonly ports: ExpiryPorts,
  ) {}

  /** Reads the expiries a previous session of this node left, and enforces them. */
  async load(): Promise<void> {
    for (const dagId of await this.store.keys(EXPIRY_DAG)) {
      const entry = await this.store.get(EXPIRY_DAG, dagId).catch(() => undefined);
      const { at, ttl } = (entry ?? {}) as { at?: unknown; ttl?: unknown };
      if (typeof at === 'number' && typeof ttl === 'number') this.#at.set(dagId, { at, ttl });
    }
    this.#schedule();
  }

  /** The DAG's data here expires `ttl` ms from now (a later use pushes it back). */
  touch(dagId: string, ttl: number): void {
    if (this.#closed) return;
    const at = Date.now() + ttl;
    const current = this.#at.get(dagId);
    if (current !== undefined && Math.abs(current.at - at) < REWRITE_MS) return;
    this.#at.set(dagId, { at, ttl });
    this.store.put(EXPIRY_DAG, dagId, { at, ttl }).catch(() => undefined); // kept in memory still
    this.#schedule();
  }

  /** Counts the DAG's ttl from now again, if it has one. */
  restart(dagId: string): void {
    const current = this.#at.get(dagId);
    if (current !== undefined) this.touch(dagId, current.ttl);
  }

  /** The DAG was cleared: nothing to expire. */
  forget(dagId: string): void {
    if (!this.#at.delete(dagId)) return;
    this.store.delete(EXPIRY_DAG, dagId).catch(() => undefined);
    this.#schedule();
  }

  /** When the DAG's data here expires (ms since the epoch), if it does. */
  expiresAt(dagId: string): number | undefined {
    return this.#at.get(dagId)?.at;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed || this.#at.size === 0) return;
    let next = Number.POSITIVE_INFINITY;
    for (const { at } of this.#at.values()) next = Math.min(next, at);
    const wait = Math.min(MAX_WAIT_MS, Math.max(0, next - Date.now()));
    this.#timer = setTimeout(() => void this.#sweep(), wait);
    (this.#timer as { unref?: () => void }).unref?.(); // never keeps a Node.js process alive
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    for (const [dagId, { at, ttl }] of [...this.#at]) {
      if (at > now || this.#closed) continue;
      if (this.ports.busy(dagId)) {
        this.#at.delete(dagId);
        this.touch(dagId, ttl);
        continue;
      }
      this.#at.delete(dagId);
      try {
        await this.ports.expire(dagId);
        await this.store.delete(EXPIRY_DAG, dagId);
      } catch {
        // a failing store: the data stays and is tried again at the next sweep
        if (!this.#closed) this.#at.set(dagId, { at: now + ttl, ttl });
      }
    }
    this.#schedule();
  }
}
