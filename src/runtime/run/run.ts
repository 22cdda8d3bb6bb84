import type { Plan } from '../../dag/index.ts';
import { Emitter } from '../../emitter.ts';
import { CancelledError } from '../../errors.ts';
import type { Resources } from '../../schedule/placement.ts';
import type {
  RunEvents,
  RunResult,
  RunState,
  RunStatus,
  SubmitOptions,
} from '../base/run-handle.ts';
import { taskStatus } from './gather.ts';
import { Recovery } from './recovery.ts';
import { RunEnd } from './run-end.ts';
import type { Registry } from './run-plan.ts';
import { TaskTable } from './task-table.ts';

/** What every run needs from its node, wherever its tasks go. */
export interface RunPorts {
  readonly self: string;
  /** An attempt on `peer` will not report: what it claimed there is free again. */
  release(peer: string, cost: Resources): void;
  /** Tells the peers the run is over (done, failed or cancelled). */
  over(peers: readonly string[], dagId: string, epoch: number): void;
  fetch(peer: string, dagId: string, epoch: number, dataId: string): Promise<unknown>;
}

/**
 * How a run's tasks reach the peers that run them: in the run's own turn on a node alone
 * (`Here`), or as orders across a room (`Orchestrator`).
 */
export interface Way {
  /** Starts every ready task that can go now. */
  pump(): void;
  /** The run ended with `reason`: attempts running here are told. */
  abort(reason: unknown): void;
  /** Sends ahead what can go before `taskId`'s inputs exist. */
  dispatchEarly(taskId: string): void;
  /** Checked once the run may start: why some task can never be placed, if so. */
  unplaceable(): Error | undefined;
}

/**
 * One run of a DAG, on the node that submitted it, however its tasks reach their peers: the task
 * table, what a failure does (`Recovery`) and how the run ends (`RunEnd`: one collect path, one
 * cancellation path), around the {@link Way} its tasks go.
 */
export class Run<W extends Way = Way> {
  readonly events = new Emitter<RunEvents>();
  readonly registry: Registry = { holders: new Map(), bytes: new Map() };
  readonly table: TaskTable;
  readonly end: RunEnd;
  readonly recovery: Recovery;
  readonly done: Promise<RunResult>;
  readonly way: W;
  /** Which run of the DAG this is; -1 while the room is asked whether it may start. */
  #epoch = -1;

  /**
   * Starts at once with `epoch`, or once `claim` (the room's leave to run this DAG) resolves
   * with one; a claim that rejects fails the run with its error.
   */
  constructor(
    readonly dagId: string,
    readonly plan: Plan,
    readonly ports: RunPorts,
    readonly options: SubmitOptions,
    claim: number | Promise<number>,
    way: (run: Run) => W,
  ) {
    this.table = new TaskTable(plan, this.registry, options.collect ?? 'all', {
      release: (peer, cost) => ports.release(peer, cost),
      lost: (taskId, peer) => this.recovery.remade(taskId, peer),
    });
    this.end = new RunEnd({
      dagId,
      table: this.table,
      ports,
      epoch: () => this.#epoch,
      pump: () => this.pump(),
    });
    this.done = this.end.done;
    this.recovery = new Recovery({
      dagId,
      plan,
      table: this.table,
      registry: this.registry,
      release: (peer, cost) => ports.release(peer, cost),
      events: this.events,
      maxRetries: options.maxRetries ?? 0,
      epoch: () => this.#epoch,
      running: () => this.end.running,
      fail: (error) => this.abort(error),
      pump: () => this.pump(),
      dispatchEarly: (taskId) => this.way.dispatchEarly(taskId),
    });
    this.way = way(this);
    const { signal } = options;
    if (signal !== undefined) this.end.listen(signal, () => this.cancel(signal.reason));
    if (signal?.aborted) this.cancel(signal.reason);
    else if (typeof claim === 'number') this.#begin(claim);
    else
      claim.then(
        (epoch) => this.#begin(epoch),
        (error: unknown) => this.abort(error),
      );
  }

  #begin(epoch: number): void {
    if (!this.end.running) return; // cancelled while the room was asked
    this.#epoch = epoch;
    const impossible = this.way.unplaceable();
    if (impossible !== undefined) return this.abort(impossible);
    // Start on the next microtask, so whoever submitted can listen to the first events.
    queueMicrotask(() => {
      this.end.maybeFinish();
      this.pump();
    });
  }

  get state(): RunState {
    return this.end.state;
  }

  /** Which run of the DAG this is (-1 until the room let it start). */
  get epoch(): number {
    return this.#epoch;
  }

  /** Tasks of this run in flight now. */
  get running(): number {
    return this.end.running ? this.table.inFlight : 0;
  }

  status(): RunStatus {
    return { dagId: this.dagId, state: this.end.state, tasks: taskStatus(this.table) };
  }

  cancel(reason?: unknown): void {
    this.abort(new CancelledError(this.dagId, reason));
  }

  /** Ends the run with `error` (cancelled, when it is a `CancelledError`). */
  abort(error: unknown): void {
    if (!this.end.running) return;
    this.way.abort(error);
    this.end.fail(error, error instanceof CancelledError ? 'cancelled' : 'failed');
  }

  /** Starts every ready task that can go now. */
  pump(): void {
    if (this.end.running && this.#epoch >= 0 && this.table.hasReady) this.way.pump();
  }
}
