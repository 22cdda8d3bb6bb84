import {
  addCosts,
  isFree,
  type PeerLoad,
  type Resources,
  subtractCosts,
} from '../../schedule/placement.ts';
import type { Load } from '../base/messages.ts';

/**
 * What this node knows of every peer's load, for placing the tasks it orchestrates: the load
 * each peer last advertised (covering every orchestrator's tasks there), and the tasks this node
 * dispatched itself and has not heard the end of. Shared by all the runs this node orchestrates,
 * so their claims add up.
 */
export class LoadBook {
  readonly #capabilities = new Map<string, Resources>();
  readonly #advertised = new Map<string, Load>();
  readonly #claims = new Map<string, { used: Resources; tasks: number }>();

  setPeer(id: string, capabilities: Resources): void {
    this.#capabilities.set(id, capabilities);
  }

  removePeer(id: string): void {
    this.#capabilities.delete(id);
    this.#advertised.delete(id);
    this.#claims.delete(id);
  }

  has(id: string): boolean {
    return this.#capabilities.has(id);
  }

  advertise(id: string, load: Load): void {
    if (this.#capabilities.has(id)) this.#advertised.set(id, load);
  }

  /** What a peer last said of its load, if anything. */
  advertised(id: string): Load | undefined {
    return this.#advertised.get(id);
  }

  claim(id: string, cost: Resources): void {
    const current = this.#claims.get(id) ?? { used: {}, tasks: 0 };
    const used = isFree(cost) ? current.used : addCosts(current.used, cost);
    this.#claims.set(id, { used, tasks: current.tasks + 1 });
  }

  release(id: string, cost: Resources): void {
    const current = this.#claims.get(id);
    if (current === undefined) return;
    const used = isFree(cost) ? current.used : subtractCosts(current.used, cost);
    this.#claims.set(id, { used, tasks: Math.max(0, current.tasks - 1) });
  }

  /** Every peer's load as placement sees it: the larger of what it said and what we sent it. */
  peers(): PeerLoad[] {
    return [...this.#capabilities].map(([id, capabilities]) => {
      const advertised = this.#advertised.get(id) ?? { used: {}, tasks: 0 };
      const own = this.#claims.get(id) ?? { used: {}, tasks: 0 };
      const used: Record<string, number> = { ...advertised.used };
      for (const [k, v] of Object.entries(own.used)) used[k] = Math.max(used[k] ?? 0, v);
      return { id, capabilities, used, tasks: Math.max(advertised.tasks, own.tasks) };
    });
  }
}
