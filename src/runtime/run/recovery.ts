import type { Plan } from '../../dag/index.ts';
import type { Emitter } from '../../emitter.ts';
import { RemoteError, TaskFailedError } from '../../errors.ts';
import type { Resources } from '../../schedule/placement.ts';
import type { AttemptKey, LostInput, TaskReport } from '../base/messages.ts';
import type { RunEvents, TaskState } from '../base/run-handle.ts';
import type { Registry } from './run-plan.ts';
import type { Slot, TaskTable } from './task-table.ts';

/**
 * Times a task may find an input gone (or its attempt vanish), or its result be lost and made
 * again, before the run gives up on it.
 */
export const MAX_LOST_INPUTS = 8;

/** What recovery needs from the run it belongs to. */
export interface RecoveryHost {
  readonly dagId: string;
  readonly plan: Plan;
  readonly table: TaskTable;
  readonly registry: Registry;
  /** An attempt on `peer` will not report: what it claimed there is free again. */
  release(peer: string, cost: Resources): void;
  readonly events: Emitter<RunEvents>;
  readonly maxRetries: number;
  /** Which run of the DAG this is. */
  epoch(): number;
  running(): boolean;
  /** The run fails with `error`. */
  fail(error: TaskFailedError): void;
  pump(): void;
  /** Sends ahead what can go before the task's inputs exist. */
  dispatchEarly(taskId: string): void;
}

/**
 * What a run does when an attempt fails: a failure of the task's own goes again while its
 * retries last; an input no holder could give, or an attempt its peer lost track of, goes
 * again at no retry's cost (up to {@link MAX_LOST_INPUTS}); past that the run fails with
 * `TaskFailedError`.
 */
export class Recovery {
  /** Times each task's result was lost and made again. */
  readonly #remade = new Map<string, number>();

  constructor(readonly host: RecoveryHost) {}

  /** A result was lost and is made again; lost again and again (its peer keeps dropping out), the run ends. */
  remade(taskId: string, peer: string): void {
    const { host } = this;
    host.events.emit('task:lost', { taskId, peer });
    const times = (this.#remade.get(taskId) ?? 0) + 1;
    this.#remade.set(taskId, times);
    if (times > MAX_LOST_INPUTS) {
      const error = new TaskFailedError(
        host.dagId,
        taskId,
        peer,
        times,
        `its result was lost ${times} times`,
      );
      queueMicrotask(() => host.fail(error));
    }
  }

  /** The task's function (or its hooks) failed on `from`. */
  failed(slot: Slot, from: string, cause: unknown, retryable: boolean): void {
    slot.failures++;
    const allowed = (slot.task.maxRetries ?? this.host.maxRetries) + 1;
    this.#after(slot, from, cause, retryable && slot.failures < allowed, slot.failures);
  }

  /**
   * The worker could not get an input from the holders it was given: they are forgotten for
   * that input, which is made again if nobody else holds it, and the task goes again.
   */
  inputLost(slot: Slot, from: string, report: Extract<TaskReport, { kind: 'failed' }>): void {
    const { argId, holders: tried } = report.lost as LostInput;
    slot.lostInputs++;
    const { code, message, stack } = report.error;
    const cause = new RemoteError(from, code, message, stack);
    const willRetry = slot.lostInputs <= MAX_LOST_INPUTS;
    this.#after(slot, from, cause, willRetry, slot.failures + 1, () => {
      const holders = this.host.registry.holders.get(argId);
      for (const peer of tried) holders?.delete(peer);
      if ((holders?.size ?? 0) === 0) this.host.table.lost(argId);
    });
  }

  /**
   * Asks the worker of each attempt not heard of for `silentMs` whether it still has it; one it
   * does not have (its order or its report went missing) goes again, so no run waits forever on
   * a peer that is there but lost track of its task. Each such loss counts as a lost input.
   */
  sweep(silentMs: number, has: (peer: string, order: AttemptKey) => Promise<boolean>): void {
    const { host } = this;
    if (!host.running()) return;
    host.pump(); // a task waiting for a pinned peer to come back fails once its grace is over
    const now = Date.now();
    for (const slot of host.table.slots.values()) {
      if (slot.state !== 'placed' && slot.state !== 'running') continue;
      if (now - slot.heardAt < silentMs) continue;
      const { peer, attempt } = slot;
      const key = { dagId: host.dagId, epoch: host.epoch(), taskId: slot.task.id, attempt };
      slot.heardAt = now; // one question at a time
      has(peer as string, key).then(
        (there) => {
          const same = slot.peer === peer && slot.attempt === attempt;
          if (there || !same || (slot.state !== 'placed' && slot.state !== 'running')) return;
          if (host.running()) this.#vanished(slot, peer as string);
        },
        () => undefined, // no answer: its leave, or the next sweep, decides
      );
    }
  }

  #vanished(slot: Slot, peer: string): void {
    slot.lostInputs++;
    const cause = new RemoteError(
      peer,
      'attempt_vanished',
      `peer ${peer} no longer has the task`,
      undefined,
    );
    this.#after(slot, peer, cause, slot.lostInputs <= MAX_LOST_INPUTS, slot.failures + 1);
  }

  /**
   * A failed attempt, reported: the task goes again (after `before`, once it is back in line) or
   * the run fails with it.
   */
  #after(
    slot: Slot,
    from: string,
    cause: unknown,
    willRetry: boolean,
    attempts: number,
    before?: () => void,
  ): void {
    const { host } = this;
    const taskId = slot.task.id;
    const error = cause instanceof Error ? cause.message : String(cause);
    host.events.emit('task:failed', { taskId, peer: from, error, willRetry });
    if (!willRetry) {
      host.release(from, slot.task.cost);
      host.table.fail(slot);
      host.fail(new TaskFailedError(host.dagId, taskId, from, attempts, cause));
      return;
    }
    host.table.requeue(slot);
    before?.();
    // Sent early and its inputs are not all there: it goes again once they are placed.
    if ((slot.state as TaskState) === 'waiting')
      for (const dep of host.plan.deps.get(taskId) ?? []) host.dispatchEarly(dep);
    host.pump();
  }
}
