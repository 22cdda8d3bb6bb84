import type { Task } from '../../dag/index.ts';
import { sizeOf } from '../../data/size.ts';
import { UnknownFunctionError } from '../../errors.ts';
import type { Run, Way } from './run.ts';
import type { Slot } from './task-table.ts';

/** How a run of one node runs its tasks on that node, in its own turn. */
export interface HerePorts {
  /**
   * Runs one attempt of `task`, its inputs read with `value`; calls `settle` once, with its
   * value or with why it failed, at once when the function returns at once.
   */
  run(
    task: Task,
    attempt: number,
    signal: AbortSignal,
    value: (taskId: string) => unknown,
    settle: (failed: boolean, outcome: unknown) => void,
  ): void;
  /** Keeps a result in this node's store; resolves once it is durable there. */
  keep(taskId: string, value: unknown): Promise<void>;
  /** Nothing more is coming to share the store's next commit. */
  flush?(): void;
}

/**
 * A run whose room is its own node: each ready task runs in the orchestrator's turn, its inputs
 * read from the results the run holds, with no order, job or report between them. The task table,
 * recovery and the run's end are those of every run: only the way to a peer is shorter.
 */
export class Here implements Way {
  readonly #controller = new AbortController();
  readonly #value: (taskId: string) => unknown;
  #pumping = false;

  constructor(
    readonly run: Run,
    readonly ports: HerePorts,
  ) {
    const { values } = run.table;
    this.#value = (taskId) => values.get(taskId);
  }

  /** A room of one: no task is pinned elsewhere (its node checked that before it submitted). */
  unplaceable(): undefined {
    return undefined;
  }

  /** Nothing goes ahead of its inputs: each task runs the moment they are all here. */
  dispatchEarly(): void {}

  /** The run ended: attempts running see their signal abort, and their outcomes are dropped. */
  abort(reason: unknown): void {
    this.#controller.abort(reason);
  }

  /**
   * Starts ready tasks while the run's limit allows. A re-entrant call (a task that ends at once,
   * inside the loop) returns at once and the running loop takes what it made ready, so a long
   * line of such tasks never deepens the call stack.
   */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      const { table, end, options } = this.run;
      const cap = options.maxConcurrency ?? Number.POSITIVE_INFINITY;
      while (end.running && table.inFlight < cap) {
        const slot = table.takeReady();
        if (slot === undefined) break;
        this.#start(slot);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #start(slot: Slot): void {
    const { table, events, ports } = this.run;
    const { self } = ports;
    const taskId = slot.task.id;
    table.place(slot, self, false);
    if (events.has('task:placed')) events.emit('task:placed', { taskId, peer: self });
    table.start(slot);
    if (events.has('task:started')) events.emit('task:started', { taskId, peer: self });
    const { attempt } = slot;
    this.ports.run(slot.task, attempt, this.#controller.signal, this.#value, (failed, outcome) => {
      // An outcome of an attempt the run has given up on (it ended, or the task went again).
      if (!this.run.end.running || slot.attempt !== attempt || slot.state !== 'running') return;
      if (failed) this.#failed(slot, outcome);
      else this.#done(slot, outcome);
    });
  }

  #done(slot: Slot, value: unknown): void {
    const { table, events, end, ports } = this.run;
    const { self } = ports;
    const taskId = slot.task.id;
    table.finish(slot);
    table.values.set(taskId, value);
    if (events.has('task:finished'))
      events.emit('task:finished', { taskId, peer: self, bytes: sizeOf(value) });
    this.ports.keep(taskId, value).then(
      () => {
        table.settle(slot);
        end.maybeFinish();
      },
      (error: unknown) => this.run.abort(error),
    );
    // Nothing more is coming now to share the store's next commit.
    if (table.inFlight === 0 && !table.hasReady) this.ports.flush?.();
    end.maybeFinish();
    this.pump();
  }

  #failed(slot: Slot, error: unknown): void {
    // A missing function fails the same way every time: retrying it would only waste attempts.
    const retryable = !(error instanceof UnknownFunctionError);
    this.run.recovery.failed(slot, this.run.ports.self, error, retryable);
  }
}
