import { nextTask } from '../next-task.ts';
import type { RunKey, TaskOrder, TaskReport } from './messages.ts';

/** What one peer is sent in one turn. */
export interface Batch {
  readonly orders: TaskOrder[];
  readonly reports: TaskReport[];
  /** Runs that are over (see `Topic.batch`). */
  readonly over: RunKey[];
}

/** Hands one peer's gathered orders, reports and ends of runs over, in one go. */
export type Deliver = (peer: string, batch: Batch) => void;

const key = (r: TaskReport) => `${r.dagId}\u0000${r.taskId}\u0000${r.attempt}`;

/**
 * Batches what a node sends each peer. Orders, reports and ends of runs leave together once per
 * turn of the event loop (a microtask). `started` and `stored` reports and ends of runs are off
 * every critical path: they wait for the next task (never a timer, which a hidden tab delays by
 * up to a second) and leave in one message, and a `started` still waiting when its task's `done`
 * goes is dropped (done implies it).
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
    this.#box(peer).reports.push(report);
  }

  close(): void {
    this.#closed = true;
  }

  #box(peer: string) {
    const box = this.#boxes.get(peer) ?? { orders: [], reports: [], over: [] };
    this.#boxes.set(peer, box);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
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
      const { reports } = batch;
      this.#boxes.delete(peer);
      const lazy = this.#lazy.get(peer);
      if (lazy !== undefined) {
        const done = new Set(reports.filter((r) => r.kind === 'done').map(key));
        if (done.size > 0)
          this.#lazy.set(
            peer,
            lazy.filter((r) => !('taskId' in r && r.kind === 'started' && done.has(key(r)))),
          );
      }
      this.deliver(peer, batch);
    }
  }
}
