import { LoadHeap } from '../../schedule/load-heap.ts';
import {
  addCosts,
  fitsNow,
  idlestOf,
  isFree,
  loadOf,
  type PeerLoad,
  type PeerView,
  type Resources,
  subtractCosts,
} from '../../schedule/placement.ts';
import type { Load } from '../base/messages.ts';

const NONE = { used: {}, tasks: 0 } as const;

/**
 * What this node knows of every peer's load, for placing the tasks it orchestrates: the load
 * each peer last advertised (covering every orchestrator's tasks there), and the tasks this node
 * dispatched itself and has not heard the end of. Shared by all the runs this node orchestrates,
 * so their claims add up.
 */
export class LoadBook implements PeerView {
  readonly #capabilities = new Map<string, Resources>();
  readonly #advertised = new Map<string, Load>();
  readonly #claims = new Map<string, { used: Resources; tasks: number }>();
  /** Every peer's load as placement sees it, least loaded first, updated on every change. */
  readonly #byLoad: LoadHeap<PeerLoad>;

  /** `self`: the orchestrating node, which takes a task when it is as idle as the idlest. */
  constructor(readonly self?: string) {
    this.#byLoad = new LoadHeap<PeerLoad>(loadOf, self);
  }

  setPeer(id: string, capabilities: Resources): void {
    this.#capabilities.set(id, capabilities);
    this.#refresh(id);
  }

  removePeer(id: string): void {
    this.#capabilities.delete(id);
    this.#advertised.delete(id);
    this.#claims.delete(id);
    this.#byLoad.delete(id);
  }

  has(id: string): boolean {
    return this.#capabilities.has(id);
  }

  advertise(id: string, load: Load): void {
    if (!this.#capabilities.has(id)) return;
    this.#advertised.set(id, load);
    this.#refresh(id);
  }

  /** What a peer last said of its load, if anything. */
  advertised(id: string): Load | undefined {
    return this.#advertised.get(id);
  }

  claim(id: string, cost: Resources): void {
    const current = this.#claims.get(id) ?? { used: {}, tasks: 0 };
    const used = isFree(cost) ? current.used : addCosts(current.used, cost);
    this.#claims.set(id, { used, tasks: current.tasks + 1 });
    this.#refresh(id);
  }

  release(id: string, cost: Resources): void {
    const current = this.#claims.get(id);
    if (current === undefined) return;
    const used = isFree(cost) ? current.used : subtractCosts(current.used, cost);
    this.#claims.set(id, { used, tasks: Math.max(0, current.tasks - 1) });
    this.#refresh(id);
  }

  /** The peers as placement reads them: this book, live. */
  peers(): PeerView {
    return this;
  }

  get(id: string): PeerLoad | undefined {
    return this.#byLoad.get(id);
  }

  /** The least loaded with room now: the top of the heap, or (when it has no room) a scan. */
  idlest(cost: Resources): PeerLoad | undefined {
    const top = this.#byLoad.peek();
    if (top === undefined || fitsNow(cost, top.capabilities, top.used)) return top;
    return idlestOf(this.#byLoad.values(), cost, this.self);
  }

  /** Every peer, in the order they joined. */
  all(): PeerLoad[] {
    const out: PeerLoad[] = [];
    for (const id of this.#capabilities.keys()) {
      const p = this.#byLoad.get(id);
      if (p !== undefined) out.push(p);
    }
    return out;
  }

  /** A peer's load as placement sees it: the larger of what it said and what we sent it. */
  #refresh(id: string): void {
    const capabilities = this.#capabilities.get(id);
    if (capabilities === undefined) return;
    const advertised = this.#advertised.get(id) ?? NONE;
    const own = this.#claims.get(id) ?? NONE;
    let used = advertised.used;
    if (!isFree(own.used)) {
      const merged: Record<string, number> = { ...advertised.used };
      for (const [k, v] of Object.entries(own.used)) merged[k] = Math.max(merged[k] ?? 0, v);
      used = merged;
    }
    this.#byLoad.set({ id, capabilities, used, tasks: Math.max(advertised.tasks, own.tasks) });
  }
}
