import { nextTask } from '../../next-task.ts';

/**
 * Gathers what goes to each peer and hands it over once per task of the event loop (never a
 * timer, which a hidden tab delays), so the items of one turn share one message.
 */
export class TurnBuffer<T> {
  readonly #byPeer = new Map<string, T[]>();
  #scheduled = false;

  constructor(readonly flush: (peer: string, items: T[]) => void) {}

  add(peer: string, item: T): void {
    const items = this.#byPeer.get(peer);
    if (items === undefined) this.#byPeer.set(peer, [item]);
    else items.push(item);
    if (this.#scheduled) return;
    this.#scheduled = true;
    nextTask(() => {
      this.#scheduled = false;
      const gathered = [...this.#byPeer];
      this.#byPeer.clear();
      for (const [peer, items] of gathered) this.flush(peer, items);
    });
  }
}
