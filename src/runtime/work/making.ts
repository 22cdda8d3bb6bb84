import { dataKey } from '../../data/keys.ts';
import type { Job } from './attempt-run.ts';

/**
 * The values about to be made on this peer: how many jobs held here (waiting for inputs, queued
 * or running) make each `<dagId, dataId>`. A wait for a value nobody here makes can end at once.
 */
export class Making {
  readonly #count = new Map<string, number>();

  has(dagId: string, dataId: string): boolean {
    return this.#count.has(dataKey(dagId, dataId));
  }

  hold(job: Job): void {
    const key = dataKey(job.order.dagId, job.order.task.id);
    this.#count.set(key, (this.#count.get(key) ?? 0) + 1);
  }

  /** The job is over; a second release of one job counts nothing. */
  release(job: Job): void {
    if (job.released === true) return;
    job.released = true;
    const key = dataKey(job.order.dagId, job.order.task.id);
    const left = (this.#count.get(key) ?? 1) - 1;
    if (left > 0) this.#count.set(key, left);
    else this.#count.delete(key);
  }
}
