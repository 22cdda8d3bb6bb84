import type { Plan } from '../../dag/index.ts';
import { Emitter } from '../../emitter.ts';
import { CancelledError, RemoteError, StorageError } from '../../errors.ts';
import type { AttemptKey, TaskOrder, TaskReport } from '../base/messages.ts';
import type {
  RunEvents,
  RunResult,
  RunState,
  RunStatus,
  SubmitOptions,
} from '../base/run-handle.ts';
import { ahead } from './early.ts';
import { locationsOf, taskStatus } from './gather.ts';
import { GroupPlacement } from './group-placement.ts';
import type { LoadBook } from './load-book.ts';
import { Recovery } from './recovery.ts';
import { RunEnd } from './run-end.ts';
import { hold, inlineClosure, type Registry } from './run-plan.ts';
import { type Slot, TaskTable } from './task-table.ts';

/** What an orchestrator needs from its node. */
export interface OrchestratorPorts {
  readonly self: string;
  readonly book: LoadBook;
  dispatch(peer: string, order: TaskOrder): void;
  /** Tells the peers the run is over (done, failed or cancelled). */
  over(peers: readonly string[], dagId: string, epoch: number): void;
  fetch(peer: string, dagId: string, epoch: number, dataId: string): Promise<unknown>;
}

/**
 * Runs one DAG across the room from the node that submitted it: places each ready task, sends
 * it with where its arguments live, records where its result lands, and resolves with the
 * results once every one is durably stored where it was produced.
 */
export class Orchestrator {
  readonly events = new Emitter<RunEvents>();
  readonly registry: Registry = { holders: new Map(), bytes: new Map() };
  readonly done: Promise<RunResult>;
  readonly #end: RunEnd;
  readonly #table: TaskTable;
  readonly #groups: GroupPlacement;
  readonly #recovery: Recovery;
  /** Which run of the DAG this is; -1 while the room is asked whether it may start. */
  #epoch = -1;

  /**
   * Starts at once with `epoch`, or once `claim` (the room's leave to run this DAG) resolves
   * with one; a claim that rejects fails the run with its error.
   */
  constructor(
    readonly dagId: string,
    readonly plan: Plan,
    readonly ports: OrchestratorPorts,
    readonly options: SubmitOptions = {},
    claim: number | Promise<number> = 0,
  ) {
    this.#groups = new GroupPlacement(plan, this.registry, options.allocation);
    this.#table = new TaskTable(plan, this.registry, options.collect ?? 'all', {
      release: (peer, cost) => ports.book.release(peer, cost),
      lost: (taskId, peer) => this.#recovery.remade(taskId, peer),
    });
    this.#end = new RunEnd({
      dagId,
      table: this.#table,
      ports,
      epoch: () => this.#epoch,
      pump: () => this.pump(),
    });
    this.done = this.#end.done;
    this.#recovery = new Recovery({
      dagId,
      plan,
      table: this.#table,
      registry: this.registry,
      book: ports.book,
      events: this.events,
      maxRetries: options.maxRetries ?? 0,
      epoch: () => this.#epoch,
      running: () => this.#end.running,
      fail: (error) => this.#fail(error, 'failed'),
      pump: () => this.pump(),
      dispatchEarly: (taskId) => this.#dispatchEarly(taskId),
    });
    const { signal } = options;
    if (signal?.aborted) {
      this.#fail(new CancelledError(dagId, signal.reason), 'cancelled');
      return;
    }
    if (signal !== undefined) {
      this.#end.listen(signal, () => this.cancel(signal.reason));
    }
    if (typeof claim === 'number') this.#begin(claim);
    else
      claim.then(
        (epoch) => this.#begin(epoch),
        (error: unknown) => this.#fail(error, 'failed'),
      );
  }

  #begin(epoch: number): void {
    if (!this.#end.running) return; // cancelled while the room was asked
    this.#epoch = epoch;
    const impossible = this.#groups.allocateAll(this.ports.book.peers().all());
    if (impossible !== undefined) {
      this.#fail(impossible, 'failed');
      return;
    }
    // Start on the next microtask, so whoever submitted can listen to the first events.
    queueMicrotask(() => {
      this.#end.maybeFinish();
      this.pump();
    });
  }

  get state(): RunState {
    return this.#end.state;
  }

  /** Which run of the DAG this is (-1 until the room let it start). */
  get epoch(): number {
    return this.#epoch;
  }

  status(): RunStatus {
    return { dagId: this.dagId, state: this.#end.state, tasks: taskStatus(this.#table) };
  }

  cancel(reason?: unknown): void {
    this.#fail(new CancelledError(this.dagId, reason), 'cancelled');
  }

  /** Places and dispatches every ready task that can go now. */
  pump(): void {
    if (!this.#end.running || this.#epoch < 0 || !this.#table.hasReady) return;
    const cap = this.options.maxConcurrency ?? Number.POSITIVE_INFINITY;
    const peers = this.ports.book.peers(); // live: each dispatch's claim moves its peer
    const waiting: Slot[] = [];
    // The run's own limit: the rest wait for one of its tasks to end.
    while (this.#table.inFlight < cap) {
      const slot = this.#table.takeReady();
      if (slot === undefined) break;
      const decision = this.#groups.decide(slot.task.id, peers);
      if (decision.kind === 'wait') {
        waiting.push(slot);
        continue;
      }
      if (decision.kind === 'never') {
        this.#fail(decision.error, 'failed');
        return;
      }
      this.#dispatch(slot, decision.peer);
    }
    this.#table.putBack(waiting);
  }

  onReport(from: string, report: TaskReport): void {
    const slot = this.#table.slots.get(report.taskId);
    // Only the peer it was sent to, about the attempt in flight, is heard.
    if (
      !this.#end.running ||
      slot === undefined ||
      slot.peer !== from ||
      slot.attempt !== report.attempt
    )
      return;
    slot.heardAt = Date.now();
    if (report.kind === 'stored' || report.kind === 'unstored') {
      if (slot.state === 'done') this.#stored(slot, report);
      return;
    }
    if (slot.state !== 'placed' && slot.state !== 'running') return;
    switch (report.kind) {
      case 'started':
        this.#table.start(slot);
        if (this.events.has('task:started'))
          this.events.emit('task:started', { taskId: slot.task.id, peer: from });
        return;
      case 'done':
        // `started` may not have come yet (it is sent lazily): done implies it.
        if (slot.state === 'placed' && this.events.has('task:started'))
          this.events.emit('task:started', { taskId: slot.task.id, peer: from });
        return this.#succeeded(slot, from, report);
      case 'failed':
        if (report.lost !== undefined) return this.#recovery.inputLost(slot, from, report);
        return this.#recovery.failed(
          slot,
          from,
          new RemoteError(from, report.error.code, report.error.message, report.error.stack),
          report.retryable,
        );
      default: {
        const never: never = report;
        return never;
      }
    }
  }

  /** Asks after attempts not heard of for `silentMs` (see {@link Recovery.sweep}). */
  sweep(silentMs: number, has: (peer: string, order: AttemptKey) => Promise<boolean>): void {
    this.#recovery.sweep(silentMs, has);
  }

  /**
   * A peer left: its tasks in flight go back to be placed again (costing no retry), and results
   * that lived only there are made again from their inputs if anything still needs them.
   */
  onPeerLeave(peer: string): void {
    if (!this.#end.running) return;
    this.#groups.forget(peer);
    this.#end.participants.delete(peer);
    this.#table.peerLeft(peer);
    this.#end.maybeFinish();
    this.pump();
  }

  #dispatch(slot: Slot, peer: string, early = false): void {
    const { task } = slot;
    this.#table.place(slot, peer, early);
    this.#end.participants.add(peer);
    this.ports.book.claim(peer, task.cost);
    if (this.events.has('task:placed')) this.events.emit('task:placed', { taskId: task.id, peer });
    const inline = inlineClosure(this.plan, task);
    this.ports.dispatch(peer, {
      dagId: this.dagId,
      epoch: this.#epoch,
      attempt: slot.attempt,
      task,
      inline,
      locations: locationsOf(this.#table, task.id),
      early,
      timeout: task.timeout ?? this.options.timeout,
      ttl: this.options.ttl,
    });
    if (!early) this.#dispatchEarly(task.id);
  }

  /**
   * Pinned consumers of pinned producers, and small chains and fan-outs, go out before their
   * inputs exist (see {@link ahead}): the consumer waits on its peer for the value and gets it
   * the moment it is made, so a hop costs one message instead of four.
   */
  #dispatchEarly(placed: string): void {
    const cap = this.options.maxConcurrency ?? Number.POSITIVE_INFINITY;
    const reachable = (p: string) => this.ports.book.has(p);
    for (const [slot, peer] of ahead(this.#table, placed, cap, reachable, this.#groups.assigned)) {
      this.#groups.set(slot.task.id, peer);
      this.#dispatch(slot, peer, true);
    }
  }

  #succeeded(slot: Slot, from: string, report: Extract<TaskReport, { kind: 'done' }>): void {
    const id = slot.task.id;
    this.ports.book.release(from, slot.task.cost);
    this.#table.finish(slot);
    hold(this.registry, id, from, report.bytes);
    if (report.hasValue) this.#table.values.set(id, report.value);
    for (const f of report.fetched) {
      hold(this.registry, f.argId, from, f.bytes);
      if (!this.events.has('task:fetched')) continue;
      this.events.emit('task:fetched', {
        taskId: id,
        argId: f.argId,
        from: f.from,
        to: from,
        bytes: f.bytes,
        ms: f.ms,
        lane: f.lane,
      });
    }
    if (this.events.has('task:finished'))
      this.events.emit('task:finished', { taskId: id, peer: from, bytes: report.bytes });
    this.#end.maybeFinish();
    this.pump();
  }

  #stored(slot: Slot, report: Extract<TaskReport, { kind: 'stored' | 'unstored' }>): void {
    if (report.kind === 'unstored') {
      const { code, message } = report.error;
      this.#fail(
        new StorageError(
          'put',
          this.dagId,
          slot.task.id,
          `${code} on peer ${slot.peer}: ${message}`,
        ),
        'failed',
      );
      return;
    }
    this.#table.settle(slot);
    this.#end.maybeFinish();
  }

  #fail(error: unknown, state: RunState): void {
    this.#end.fail(error, state);
  }
}
