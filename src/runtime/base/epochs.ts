import type { ResultStore } from '../../data/store.ts';
import { RUNS_DAG } from './reserved.ts';

/** Epochs kept in memory at most; older ones are read back from the store when needed. */
const MAX_REMEMBERED = 10_000;

/**
 * Which run of each DAG this node's data belongs to.
 *
 * Every run of a dagId has an epoch, assigned by its orchestrator: 0 for the first run of an id
 * `new Dag()` generated (nothing of an earlier run can exist anywhere), else a number above every
 * epoch the room knows for that id. Whatever a node keeps, looks up or serves for a DAG belongs
 * to one epoch. Hearing of a later epoch (an order, a request) first wipes this node's data of
 * the DAG (store, cache, waits), then records the new epoch, in memory and in the store (so a
 * reloaded tab still knows what its data is). Anything of an earlier epoch is refused from then
 * on. A DAG with no recorded epoch has data of epoch 0, or none.
 */
export class Epochs {
  readonly #known = new Map<string, number>();
  /** Waits for a run to reach this node (see {@link Epochs.reached}). */
  readonly #awaited = new Map<string, { epoch: number; resolve: () => void }[]>();
  /** Adoptions in progress, so concurrent messages of one new run wait for one wipe. */
  readonly #adopting = new Map<string, { epoch: number; done: Promise<void> }>();

  constructor(
    readonly store: ResultStore,
    /** Removes this node's data of the DAG and stops its work of runs before `epoch`. */
    readonly wipe: (dagId: string, epoch: number) => Promise<void>,
  ) {}

  /** The DAG's epoch here if it is in memory (undefined: unknown without asking the store). */
  known(dagId: string): number | undefined {
    return this.#known.get(dagId);
  }

  /** The DAG's epoch here: the data this node holds for it belongs to that run. */
  async current(dagId: string): Promise<number> {
    const known = this.#known.get(dagId);
    if (known !== undefined) return known;
    const pending = this.#adopting.get(dagId);
    if (pending !== undefined) {
      await pending.done;
      return this.current(dagId);
    }
    try {
      const stored = (await this.store.get(RUNS_DAG, dagId)) as { epoch?: unknown } | undefined;
      const epoch = typeof stored?.epoch === 'number' ? stored.epoch : 0;
      if (epoch > 0) this.#remember(dagId, epoch);
      return epoch;
    } catch {
      return 0; // none recorded (or unreadable): epoch 0
    }
  }

  /**
   * The DAG's epoch here, as needed to answer about run `epoch`: from memory when it knows, and
   * 0 without reading the store for a run of epoch 0 (a generated id's first run: no record of a
   * later run can exist), so the hot path of such runs never waits for a store read.
   */
  here(dagId: string, epoch: number): number | Promise<number> {
    const known = this.#known.get(dagId);
    if (known !== undefined && !this.#adopting.has(dagId)) return known;
    if (epoch === 0 && known === undefined && !this.#adopting.has(dagId)) return 0;
    return this.current(dagId);
  }

  /**
   * Whether something of run `epoch` of the DAG may be kept, used or served here: `current`
   * (after adopting it first if it is later than what is here) or `stale` (an earlier run). Sync
   * when memory can tell, which is always so on the hot path.
   */
  check(dagId: string, epoch: number): 'current' | 'stale' | Promise<'current' | 'stale'> {
    const known = this.#known.get(dagId);
    if (known === epoch && !this.#adopting.has(dagId)) return 'current';
    if (known !== undefined && epoch < known) return 'stale';
    // First run of a generated id: nothing older can be here, nothing to record.
    if (epoch === 0 && known === undefined && !this.#adopting.has(dagId)) return 'current';
    return this.#checkSlow(dagId, epoch);
  }

  /**
   * Resolves once this node holds run `epoch` of the DAG (or a later one): its order came.
   * Rejects when `signal` aborts. For a request that waits for a value of a run whose first
   * order here is still on its way.
   */
  async reached(dagId: string, epoch: number, signal: AbortSignal): Promise<void> {
    if ((await this.current(dagId)) >= epoch) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = { epoch, resolve };
      this.#awaited.set(dagId, [...(this.#awaited.get(dagId) ?? []), waiter]);
      signal.addEventListener(
        'abort',
        () => {
          const rest = (this.#awaited.get(dagId) ?? []).filter((w) => w !== waiter);
          if (rest.length > 0) this.#awaited.set(dagId, rest);
          else this.#awaited.delete(dagId);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /**
   * The DAG was cleared or expired here, its data gone. Its epoch (or `at`, the clearing peer's,
   * if later) is not forgotten but marked cleared: a peer that was away during the clear comes
   * back holding that run's values, and they must never read as a result (see `findResult`).
   * The mark is that run's epoch, not one past it, nor the clock's time: the next run's epoch is
   * above it, as a claim goes above every epoch it hears of, and so is the epoch of a run
   * claimed just before whose orders are still on their way (a mark above that would have this
   * node refuse them as stale).
   */
  async cleared(dagId: string, at = 0): Promise<number> {
    await this.#adopting.get(dagId)?.done;
    const epoch = Math.max(at, await this.current(dagId));
    await this.store.put(RUNS_DAG, dagId, { epoch, cleared: true }).catch(() => undefined);
    this.#remember(dagId, epoch);
    return epoch;
  }

  /** Whether the DAG's data here was cleared, with no run of it since. */
  async isCleared(dagId: string): Promise<boolean> {
    try {
      const stored = (await this.store.get(RUNS_DAG, dagId)) as { cleared?: unknown } | undefined;
      return stored?.cleared === true;
    } catch {
      return false;
    }
  }

  async #checkSlow(dagId: string, epoch: number): Promise<'current' | 'stale'> {
    for (;;) {
      const pending = this.#adopting.get(dagId);
      if (pending === undefined) break;
      await pending.done;
    }
    const here = await this.current(dagId);
    if (epoch === here) return 'current';
    if (epoch < here) return 'stale';
    const pending = this.#adopting.get(dagId);
    if (pending !== undefined) {
      await pending.done;
      return this.check(dagId, epoch);
    }
    const done = (async () => {
      await this.wipe(dagId, epoch);
      await this.store.put(RUNS_DAG, dagId, { epoch });
      this.#remember(dagId, epoch);
      const waiting = this.#awaited.get(dagId) ?? [];
      const rest = waiting.filter((w) => w.epoch > epoch);
      if (rest.length > 0) this.#awaited.set(dagId, rest);
      else this.#awaited.delete(dagId);
      for (const w of waiting) if (w.epoch <= epoch) w.resolve();
    })();
    this.#adopting.set(dagId, { epoch, done });
    try {
      await done;
    } finally {
      this.#adopting.delete(dagId);
    }
    return 'current';
  }

  #remember(dagId: string, epoch: number): void {
    this.#known.delete(dagId);
    this.#known.set(dagId, epoch);
    if (this.#known.size > MAX_REMEMBERED)
      this.#known.delete(this.#known.keys().next().value as string);
  }
}
