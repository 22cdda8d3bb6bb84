import type { Job } from './attempt-run.ts';

/**
 * The values about to be made on this peer: how many jobs held here (waiting for inputs, queued
 * or running) make each `<dagId, dataId>`. A wait for a value nobody here makes can end at once.
 * Counted by DAG, then by data id: no key string is joined per job.
 */
export class Making {
  readonly #count = new Map<string, Map<string, number>>();

  has(dagId: string, dataId: string): boolean {
    return this.#count.get(dagId)?.has(dataId) ?? false;
  }

  hold(job: Job): void {
    const { dagId, task } = job.order;
    let counts = this.#count.get(dagId);
    if (counts === undefined) {
      counts = new Map();
      this.#count.set(dagId, counts);
    }
    counts.set(task.id, (counts.get(task.id) ?? 0) + 1);
  }

  /** The job is over; a second release of one job counts nothing. */
  release(job: Job): void {
    if (job.released === true) return;
    job.released = true;
    const { dagId, task } = job.order;
    const counts = this.#count.get(dagId);
    if (counts === undefined) return;
    const left = (counts.get(task.id) ?? 1) - 1;
    if (left > 0) counts.set(task.id, left);
    else counts.delete(task.id);
    if (counts.size === 0) this.#count.delete(dagId);
  }
}
