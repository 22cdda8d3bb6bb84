import { attemptKey } from '../data/keys.ts';
import { nextTask } from '../next-task.ts';
import type { RunKey, TaskOrder, TaskReport } from './base/messages.ts';

/** What one peer is sent in one turn. */
export interface Batch {
  readonly orders: TaskOrder[];
  readonly reports: TaskReport[];
  /** Runs that are over (see `Topic.batch`). */
  readonly over: RunKey[];
}

/** Hands one peer's gathered orders, reports and ends of runs over, in one go. */
export type Deliver = (peer: string, batch: Batch) => void;

const key = (r: TaskReport) => attemptKey(r.dagId, r.taskId, r.attempt);

/**
 * Batches what a node sends each peer. Orders, reports and ends of runs leave together in the
 * next task of the event loop (never a timer, which a hidden tab delays by up to a second), not
 * in a microtask: what this turn answers at once (a waiting fetch gets its value a few promise
 * steps after the value is made) leaves first, and a turn's reports share one message.
 * `started` and `stored` reports and ends of runs are off every critical path: they wait one
 * task more and leave in one message, and a `started` whose task's `done` goes with or before
 * it is dropped (done implies it).
 */
export class Outbox {
  readonly #boxes = new Map<string, Batch>();
  readonly #lazy = new Map<string, (TaskReport | RunKey)[]>();
  #scheduled = false;
  #lazyPosted = false;
  #closed = false;

  constructor(readonly deliver: Deliver) {}

  order(peer: string, order: TaskOrder): void {
    this.#box(peer).orders.push(order);
  }

  /**
   * The run is over: the peer stops its work and forgets its orchestrator. Nobody waits for it,
   * so it travels with the lazy reports.
   */
  over(peer: string, run: RunKey): void {
    this.#later(peer, run);
  }

  report(peer: string, report: TaskReport): void {
    if (report.kind === 'started' || report.kind === 'stored') {
      this.#later(peer, report);
      return;
    }
    const box = this.#box(peer);
    // A failed attempt had started (when it said so): its peer hears that first, as it happened.
    if (report.kind === 'failed') {
      const lazy = this.#lazy.get(peer) ?? [];
      const k = key(report);
      const i = lazy.findIndex((r) => 'taskId' in r && r.kind === 'started' && key(r) === k);
      if (i >= 0) box.reports.push(...(lazy.splice(i, 1) as TaskReport[]));
    }
    box.reports.push(report);
  }

  close(): void {
    this.#closed = true;
  }

  #box(peer: string) {
    const box = this.#boxes.get(peer) ?? { orders: [], reports: [], over: [] };
    this.#boxes.set(peer, box);
    if (!this.#scheduled) {
      this.#scheduled = true;
      nextTask(() => this.#flush());
    }
    return box;
  }

  #later(peer: string, item: TaskReport | RunKey): void {
    const list = this.#lazy.get(peer) ?? [];
    this.#lazy.set(peer, list);
    list.push(item);
    if (this.#lazyPosted) return;
    this.#lazyPosted = true;
    nextTask(() => {
      this.#lazyPosted = false;
      if (this.#closed) return;
      for (const [to, items] of this.#lazy) {
        this.#lazy.delete(to);
        if (items.length === 0) continue; // each went with its task's `done`
        const box = this.#box(to);
        for (const i of items)
          if ('taskId' in i) box.reports.push(i);
          else box.over.push(i);
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    for (const [peer, batch] of this.#boxes) {
      this.#boxes.delete(peer);
      const lazy = this.#lazy.get(peer);
      const started = (r: TaskReport | RunKey) => 'taskId' in r && r.kind === 'started';
      // Most tasks end in the turn they start and send no `started` at all.
      if (!batch.reports.some(started) && !(lazy?.some(started) ?? false)) {
        this.deliver(peer, batch);
        continue;
      }
      const done = new Set(batch.reports.filter((r) => r.kind === 'done').map(key));
      const moot = (r: TaskReport | RunKey) => started(r) && done.has(key(r as TaskReport));
      if (done.size === 0) {
        this.deliver(peer, batch);
        continue;
      }
      if (lazy !== undefined)
        this.#lazy.set(
          peer,
          lazy.filter((r) => !moot(r)),
        );
      this.deliver(peer, { ...batch, reports: batch.reports.filter((r) => !moot(r)) });
    }
  }
}
