import type { Plan, Task } from '../../dag/index.ts';
import type { Resources } from '../../schedule/placement.ts';
import { Queue } from '../base/queue.ts';
import type { TaskState } from '../base/run-handle.ts';
import type { Registry } from './run-plan.ts';

/** One scheduled task of a run, as its orchestrator tracks it. */
export interface Slot {
  readonly task: Task;
  state: TaskState;
  peer: string | undefined;
  /** Dispatch counter: a report for an older attempt is stale. */
  attempt: number;
  /**
   * Dispatches sent ahead of their inputs and called back before they ran (their producer went
   * again): not attempts, as the function and `task:ran` count them.
   */
  recalled: number;
  failures: number;
  waitingFor: number;
  /** Its result is durable where it was produced (or nothing needs it any more). */
  stored: boolean;
  /** The attempt in flight was sent before its inputs existed. */
  early: boolean;
  /** Attempts that failed because an input could not be fetched (they cost no retry). */
  lostInputs: number;
  /** When the attempt in flight was sent or last reported on (ms, `Date.now()`). */
  heardAt: number;
}

export interface TableHooks {
  /** An attempt in flight on `peer` will not report: its claim there ends. */
  release(peer: string, cost: Resources): void;
  /** A finished result was lost and will be made again. */
  lost(taskId: string, peer: string): void;
}

/**
 * The states a slot may go to from each state. Back to `waiting` or `ready`: its attempt will not
 * report (its peer left, it vanished), or an input it needs was lost and is made again.
 */
const NEXT: Readonly<Record<TaskState, readonly TaskState[]>> = {
  waiting: ['ready', 'placed'],
  ready: ['placed', 'waiting'],
  placed: ['running', 'done', 'failed', 'ready', 'waiting'],
  running: ['done', 'failed', 'ready', 'waiting'],
  done: ['waiting'],
  failed: [],
};

/**
 * The state of a run's tasks and the rules that move them back: an attempt that will not report,
 * a consumer sent ahead to wait for a producer that goes elsewhere, and a result lost with its
 * peers, made again from its inputs (its lineage) when something still needs it.
 */
export class TaskTable {
  readonly slots = new Map<string, Slot>();
  /** Results carried in reports, by task id. */
  readonly values = new Map<string, unknown>();
  /** Slots ready to place, in the order they became ready (stale ones are skipped). */
  readonly #ready = new Queue<Slot>();
  #finished = 0;
  #unstored = 0;
  #inFlight = 0;

  constructor(
    readonly plan: Plan,
    readonly registry: Registry,
    readonly collect: 'all' | 'sinks' | 'none',
    readonly hooks: TableHooks,
  ) {
    for (const id of plan.tasks.keys()) {
      const deps = plan.deps.get(id);
      if (deps === undefined) continue; // inline
      const slot: Slot = {
        task: plan.tasks.get(id) as Task,
        state: 'waiting',
        peer: undefined,
        attempt: 0,
        recalled: 0,
        failures: 0,
        waitingFor: deps.length,
        stored: false,
        early: false,
        lostInputs: 0,
        heardAt: 0,
      };
      this.slots.set(id, slot);
      if (deps.length === 0) this.makeReady(slot);
    }
  }

  /**
   * A peer left: its tasks in flight go back to be placed again, and results that lived only
   * there are made again if anything still needs them.
   */
  peerLeft(peer: string): void {
    for (const slot of this.slots.values()) {
      if (slot.peer === peer && (slot.state === 'placed' || slot.state === 'running'))
        this.requeue(slot);
    }
    const emptied: string[] = [];
    for (const [id, holders] of this.registry.holders)
      if (holders.delete(peer) && holders.size === 0) emptied.push(id);
    for (const id of emptied) this.lost(id);
    for (const slot of this.slots.values()) {
      // Its producer left before making it durable, but a peer that fetched it keeps a copy.
      if (slot.peer === peer && slot.state === 'done') this.settle(slot);
    }
  }

  /** Tasks done (their result exists somewhere). */
  get finished(): number {
    return this.#finished;
  }

  /** Results reported done whose durability is not confirmed yet. */
  get unstored(): number {
    return this.#unstored;
  }

  /** Tasks placed or running. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Every task is done and its result durable (or no longer needed). */
  get complete(): boolean {
    return this.#finished === this.slots.size && this.#unstored === 0;
  }

  /** Sent to `peer`: ready (or waiting, when sent before its inputs exist). */
  place(slot: Slot, peer: string, early: boolean): void {
    this.#move(slot, 'placed');
    slot.peer = peer;
    slot.early = early;
    slot.attempt++;
    slot.heardAt = Date.now();
    this.#inFlight++;
  }

  /** Its peer started it. */
  start(slot: Slot): void {
    this.#move(slot, 'running');
  }

  /** Its result exists on its peer; the dependents it was the last input of are ready. */
  finish(slot: Slot): void {
    this.#move(slot, 'done');
    this.#inFlight--;
    this.#unstored++;
    this.#finished++;
    for (const dependent of this.plan.dependents.get(slot.task.id) ?? []) {
      const next = this.slots.get(dependent) as Slot;
      if (--next.waitingFor === 0 && next.state === 'waiting') this.makeReady(next);
    }
  }

  /** Its last attempt failed: the run fails with it. */
  fail(slot: Slot): void {
    this.#move(slot, 'failed');
    this.#inFlight--;
  }

  makeReady(slot: Slot): void {
    this.#move(slot, 'ready');
    slot.peer = undefined;
    this.#ready.push(slot);
  }

  /** The one place a slot changes state: a move {@link NEXT} does not allow is a bug. */
  #move(slot: Slot, to: TaskState): void {
    if (!NEXT[slot.state].includes(to))
      throw new Error(`task ${slot.task.id} cannot go from ${slot.state} to ${to}`);
    slot.state = to;
  }

  get hasReady(): boolean {
    return this.#ready.length > 0;
  }

  /** The slot that has been ready longest, taken from the line. */
  takeReady(): Slot | undefined {
    for (let slot = this.#ready.shift(); slot !== undefined; slot = this.#ready.shift())
      if (slot.state === 'ready') return slot;
    return undefined;
  }

  /** Slots taken that cannot go yet go back to the front of the line, in their order. */
  putBack(slots: readonly Slot[]): void {
    this.#ready.unshift(slots);
  }

  /** An attempt in flight will not report: the task goes back to wait for its inputs or a peer. */
  requeue(slot: Slot): void {
    this.hooks.release(slot.peer as string, slot.task.cost);
    this.#inFlight--;
    if (slot.waitingFor > 0) {
      this.#move(slot, 'waiting'); // it goes again once its inputs are placed
      slot.peer = undefined;
    } else {
      this.makeReady(slot);
    }
    this.recallEarly(slot);
  }

  /**
   * A producer goes again, maybe elsewhere: consumers sent ahead to wait for it where it was go
   * back to wait for it to be placed (their stale attempts are dropped when the run ends).
   */
  recallEarly(producer: Slot): void {
    for (const dependent of this.plan.dependents.get(producer.task.id) ?? []) {
      const next = this.slots.get(dependent) as Slot;
      if (next.state === 'placed' && next.early) {
        next.recalled++;
        this.requeue(next);
      }
    }
  }

  /** No peer holds a result any more: it is made again if anything still needs it. */
  lost(id: string): void {
    const slot = this.slots.get(id);
    if (slot?.state !== 'done') return;
    this.registry.holders.delete(id);
    if (this.needed(slot)) this.recompute(slot);
    else this.settle(slot);
  }

  /** A sink, an input of an unfinished task, or a result to collect that was not carried. */
  needed(slot: Slot): boolean {
    const id = slot.task.id;
    const dependents = this.plan.dependents.get(id) ?? [];
    if (dependents.length === 0) return true;
    if (dependents.some((d) => this.slots.get(d)?.state !== 'done')) return true;
    return this.collect === 'all' ? !this.values.has(id) : false;
  }

  /** The run no longer waits for this result to be made durable. */
  settle(slot: Slot): void {
    if (slot.stored) return;
    slot.stored = true;
    this.#unstored--;
  }

  /** Makes a lost result again, and first the lost inputs it needs, recursively (its lineage). */
  recompute(slot: Slot): void {
    const id = slot.task.id;
    this.hooks.lost(id, slot.peer as string);
    this.#finished--;
    this.settle(slot);
    slot.stored = false;
    this.#move(slot, 'waiting');
    slot.peer = undefined;
    for (const dependent of this.plan.dependents.get(id) ?? []) {
      const next = this.slots.get(dependent) as Slot;
      next.waitingFor++;
      if (next.state === 'ready') this.#move(next, 'waiting');
    }
    this.recallEarly(slot);
    const deps = this.plan.deps.get(id) ?? [];
    for (const dep of deps) {
      if ((this.registry.holders.get(dep)?.size ?? 0) === 0) this.lost(dep);
    }
    slot.waitingFor = deps.filter((d) => this.slots.get(d)?.state !== 'done').length;
    if (slot.waitingFor === 0) this.makeReady(slot);
  }
}
