import type { Plan } from '../../dag/index.ts';
import { RemoteError, StorageError } from '../../errors.ts';
import type { AttemptKey, TaskOrder, TaskReport } from '../base/messages.ts';
import type { SubmitOptions } from '../base/run-handle.ts';
import { ahead } from './early.ts';
import { locationsOf } from './gather.ts';
import { GroupPlacement } from './group-placement.ts';
import type { LoadBook } from './load-book.ts';
import { Run, type RunPorts, type Way } from './run.ts';
import { hold, inlineClosure } from './run-plan.ts';
import type { Slot } from './task-table.ts';

/** What an orchestrator needs from its node: a run's ports, the peers' loads, a way to send. */
export interface OrchestratorPorts extends Omit<RunPorts, 'release'> {
  readonly book: LoadBook;
  dispatch(peer: string, order: TaskOrder): void;
}

/**
 * Starts a run of `plan` across the room (see {@link Orchestrator}): at once with `claim` when it
 * is an epoch, or once the room's leave to run this DAG resolves with one.
 */
export function orchestrate(
  dagId: string,
  plan: Plan,
  ports: OrchestratorPorts,
  options: SubmitOptions = {},
  claim: number | Promise<number> = 0,
): Run<Orchestrator> {
  const { book } = ports;
  const runPorts = { ...ports, release: book.release.bind(book) };
  return new Run(dagId, plan, runPorts, options, claim, (run) => new Orchestrator(run, ports));
}

/**
 * How a run's tasks reach a room: places each ready task, sends it with where its arguments
 * live, and hears its reports (where its result lands, and when it is durably stored there).
 * The run's table, recovery and end are the {@link Run}'s.
 */
export class Orchestrator implements Way {
  readonly #groups: GroupPlacement;

  constructor(
    readonly run: Run,
    readonly ports: OrchestratorPorts,
  ) {
    this.#groups = new GroupPlacement(run.plan, run.registry, run.options.allocation);
  }

  unplaceable(): Error | undefined {
    return this.#groups.allocateAll(this.ports.book.peers().all());
  }

  abort(): void {} // attempts on peers hear it from the run's end (`over`)

  /** Places and dispatches every ready task that can go now. */
  pump(): void {
    const { table } = this.run;
    const cap = this.run.options.maxConcurrency ?? Number.POSITIVE_INFINITY;
    const peers = this.ports.book.peers(); // live: each dispatch's claim moves its peer
    const waiting: Slot[] = [];
    // The run's own limit: the rest wait for one of its tasks to end.
    while (table.inFlight < cap) {
      const slot = table.takeReady();
      if (slot === undefined) break;
      const decision = this.#groups.decide(slot.task.id, peers);
      if (decision.kind === 'wait') {
        waiting.push(slot);
        continue;
      }
      if (decision.kind === 'never') return this.run.abort(decision.error);
      this.#dispatch(slot, decision.peer);
    }
    table.putBack(waiting);
  }

  onReport(from: string, report: TaskReport): void {
    const slot = this.run.table.slots.get(report.taskId);
    // Only the peer it was sent to, about the attempt in flight, is heard.
    if (!this.run.end.running || slot?.peer !== from || slot.attempt !== report.attempt) return;
    slot.heardAt = Date.now();
    if (report.kind === 'stored' || report.kind === 'unstored') {
      if (slot.state === 'done') this.#stored(slot, report);
      return;
    }
    if (slot.state !== 'placed' && slot.state !== 'running') return;
    switch (report.kind) {
      case 'started':
        this.run.table.start(slot);
        if (this.run.events.has('task:started'))
          this.run.events.emit('task:started', { taskId: slot.task.id, peer: from });
        return;
      case 'done':
        // `started` may not have come yet (it is sent lazily): done implies it.
        if (slot.state === 'placed' && this.run.events.has('task:started'))
          this.run.events.emit('task:started', { taskId: slot.task.id, peer: from });
        return this.#succeeded(slot, from, report);
      case 'failed':
        if (report.lost !== undefined) return this.run.recovery.inputLost(slot, from, report);
        return this.run.recovery.failed(
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
    this.run.recovery.sweep(silentMs, has);
  }

  /**
   * A peer left: its tasks in flight go back to be placed again (costing no retry), and results
   * that lived only there are made again from their inputs if anything still needs them.
   */
  onPeerLeave(peer: string): void {
    if (!this.run.end.running) return;
    this.#groups.forget(peer);
    this.run.end.participants.delete(peer);
    this.run.table.peerLeft(peer);
    this.run.end.maybeFinish();
    this.run.pump();
  }

  #dispatch(slot: Slot, peer: string, early = false): void {
    const { task } = slot;
    this.run.table.place(slot, peer, early);
    this.run.end.participants.add(peer);
    this.ports.book.claim(peer, task.cost);
    if (this.run.events.has('task:placed'))
      this.run.events.emit('task:placed', { taskId: task.id, peer });
    const inline = inlineClosure(this.run.plan, task);
    const order: TaskOrder = {
      dagId: this.run.dagId,
      epoch: this.run.epoch,
      attempt: slot.attempt,
      task,
      inline,
      locations: locationsOf(this.run.table, task.id),
      early,
      timeout: task.timeout ?? this.run.options.timeout,
      ttl: this.run.options.ttl,
    };
    // Tries differ from dispatches only after a call-back: only then does the order say so.
    this.ports.dispatch(
      peer,
      slot.recalled === 0 ? order : { ...order, tries: slot.attempt - slot.recalled },
    );
    if (!early) this.dispatchEarly(task.id);
  }

  /**
   * Pinned consumers of pinned producers, and small chains and fan-outs, go out before their
   * inputs exist (see {@link ahead}): the consumer waits on its peer for the value and gets it
   * the moment it is made, so a hop costs one message instead of four.
   */
  dispatchEarly(placed: string): void {
    const cap = this.run.options.maxConcurrency ?? Number.POSITIVE_INFINITY;
    const reachable = (p: string) => this.ports.book.has(p);
    const assigned = this.#groups.assigned;
    for (const [slot, peer] of ahead(this.run.table, placed, cap, reachable, assigned)) {
      this.#groups.set(slot.task.id, peer);
      this.#dispatch(slot, peer, true);
    }
  }

  #succeeded(slot: Slot, from: string, report: Extract<TaskReport, { kind: 'done' }>): void {
    const id = slot.task.id;
    this.ports.book.release(from, slot.task.cost);
    this.run.table.finish(slot);
    hold(this.run.registry, id, from, report.bytes);
    if (report.hasValue) this.run.table.values.set(id, report.value);
    for (const f of report.fetched) {
      hold(this.run.registry, f.argId, from, f.bytes);
      if (!this.run.events.has('task:fetched')) continue;
      this.run.events.emit('task:fetched', {
        taskId: id,
        argId: f.argId,
        from: f.from,
        to: from,
        bytes: f.bytes,
        ms: f.ms,
        lane: f.lane,
      });
    }
    if (this.run.events.has('task:finished'))
      this.run.events.emit('task:finished', { taskId: id, peer: from, bytes: report.bytes });
    this.run.end.maybeFinish();
    this.run.pump();
  }

  #stored(slot: Slot, report: Extract<TaskReport, { kind: 'stored' | 'unstored' }>): void {
    if (report.kind === 'unstored') {
      const { code, message } = report.error;
      const where = `${code} on peer ${slot.peer}: ${message}`;
      return this.run.abort(new StorageError('put', this.run.dagId, slot.task.id, where));
    }
    this.run.table.settle(slot);
    this.run.end.maybeFinish();
  }
}
