import type { TaskOrder, TaskReport } from './messages.ts';

/** Hands one peer's gathered orders and reports over, in one go. */
export type Deliver = (peer: string, orders: TaskOrder[], reports: TaskReport[]) => void;

const key = (r: TaskReport) => `${r.dagId}\u0000${r.taskId}\u0000${r.attempt}`;

/**
 * Batches what a node sends each peer. Orders and reports leave together once per turn of the
 * event loop. `started` and `stored` reports are off every critical path: they wait up to 5 ms
 * and leave in one message, and a `started` still waiting when its task's `done` goes is dropped
 * (done implies it).
 */
export class Outbox {
  readonly #boxes = new Map<string, { orders: TaskOrder[]; reports: TaskReport[] }>();
  readonly #lazy = new Map<string, TaskReport[]>();
  #scheduled = false;
  #lazyTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly deliver: Deliver) {}

  order(peer: string, order: TaskOrder): void {
    this.#box(peer).orders.push(order);
  }

  report(peer: string, report: TaskReport): void {
    if (report.kind === 'started' || report.kind === 'stored') {
      this.#later(peer, report);
      return;
    }
    this.#box(peer).reports.push(report);
  }

  close(): void {
    clearTimeout(this.#lazyTimer);
  }

  #box(peer: string) {
    const box = this.#boxes.get(peer) ?? { orders: [], reports: [] };
    this.#boxes.set(peer, box);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
    return box;
  }

  #later(peer: string, report: TaskReport): void {
    const list = this.#lazy.get(peer) ?? [];
    this.#lazy.set(peer, list);
    list.push(report);
    this.#lazyTimer ??= setTimeout(() => {
      this.#lazyTimer = undefined;
      for (const [to, reports] of this.#lazy) {
        this.#lazy.delete(to);
        this.#box(to).reports.push(...reports);
      }
    }, 5);
  }

  #flush(): void {
    this.#scheduled = false;
    for (const [peer, { orders, reports }] of this.#boxes) {
      this.#boxes.delete(peer);
      const lazy = this.#lazy.get(peer);
      if (lazy !== undefined) {
        const done = new Set(reports.filter((r) => r.kind === 'done').map(key));
        if (done.size > 0)
          this.#lazy.set(
            peer,
            lazy.filter((r) => !(r.kind === 'started' && done.has(key(r)))),
          );
      }
      this.deliver(peer, orders, reports);
    }
  }
}
