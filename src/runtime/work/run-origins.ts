/** Runs whose orchestrator is remembered at most (it is told to drop their work if it leaves). */
const MAX_ORIGINS = 10_000;
/** Ended runs remembered, so late work of theirs is discarded. */
const MAX_ENDED = 1000;

/** A run a task runner works for: who orchestrates it, and which run of its DAG it is. */
export interface Origin {
  readonly from: string;
  readonly epoch: number;
}

/**
 * What a task runner remembers of the runs it works for: each DAG's current run and its
 * orchestrator (until the run is over), and the last run of each DAG that ended here, so late
 * orders and results of it are dropped. Both are bounded: the oldest go first.
 */
export class RunOrigins {
  readonly #origins = new Map<string, Origin>();
  readonly #ended = new Map<string, number>();

  /** An order of run `epoch` of the DAG came from `from`. */
  saw(dagId: string, origin: Origin): void {
    const known = this.#origins.get(dagId);
    if (known !== undefined && known.epoch === origin.epoch) return;
    this.#origins.set(dagId, origin);
    // Bounded: a run is normally over with a word from its orchestrator.
    if (this.#origins.size > MAX_ORIGINS)
      this.#origins.delete(this.#origins.keys().next().value as string);
  }

  get(dagId: string): Origin | undefined {
    return this.#origins.get(dagId);
  }

  has(dagId: string): boolean {
    return this.#origins.has(dagId);
  }

  /** The runs `from` orchestrates here, as `[dagId, origin]`. */
  of(from: string): [string, Origin][] {
    return [...this.#origins].filter(([, origin]) => origin.from === from);
  }

  /** Work for runs of the DAG up to `epoch` stops; `ended` also drops their late work. */
  stop(dagId: string, epoch: number, ended: boolean): void {
    if (ended) {
      this.#ended.delete(dagId);
      this.#ended.set(dagId, Math.max(epoch, this.#ended.get(dagId) ?? 0));
      if (this.#ended.size > MAX_ENDED)
        this.#ended.delete(this.#ended.keys().next().value as string);
    }
    const origin = this.#origins.get(dagId);
    if (origin !== undefined && origin.epoch <= epoch) this.#origins.delete(dagId);
  }

  /** Whether run `epoch` of the DAG ended here already. */
  ended(dagId: string, epoch: number): boolean {
    return (this.#ended.get(dagId) ?? -1) >= epoch;
  }
}
