import type { Plan, Task } from '../dag/index.ts';
import { Emitter } from '../emitter.ts';
import {
  AllocationError,
  CancelledError,
  RemoteError,
  StorageError,
  TaskFailedError,
} from '../errors.ts';
import { place, type Resources } from '../schedule/placement.ts';
import type { LoadBook } from './load-book.ts';
import type { RunResult } from './local-run.ts';
import { isLoss, type LostInput, type TaskOrder, type TaskReport } from './messages.ts';
import type { RunEvents, RunState, RunStatus, SubmitOptions, TaskState } from './run-handle.ts';
import { groupCosts, hold, inlineClosure, inputBytes, pinOf, type Registry } from './run-plan.ts';

/** What an orchestrator needs from its node. */
export interface OrchestratorPorts {
  readonly self: string;
  readonly book: LoadBook;
  dispatch(peer: string, order: TaskOrder): void;
  cancel(peers: readonly string[], dagId: string): void;
  fetch(peer: string, dagId: string, dataId: string): Promise<unknown>;
}

interface Slot {
  readonly task: Task;
  state: TaskState;
  peer: string | undefined;
  /** Dispatch counter: a report for an older attempt is stale. */
  attempt: number;
  failures: number;
  waitingFor: number;
  /** Its result is durable where it was produced (or nothing needs it any more). */
  stored: boolean;
  /** The attempt in flight was sent before its inputs existed. */
  early: boolean;
  /** Attempts that failed because an input could not be fetched (they cost no retry). */
  lostInputs: number;
}

/** A producer feeding at most this many tasks takes them along when they go early. */
const EARLY_FAN_OUT = 4;
/** Times a task may find an input gone before the run gives up on it. */
const MAX_LOST_INPUTS = 8;

/**
 * Runs one DAG across the room from the node that submitted it: places each ready task, sends
 * it with where its arguments live, records where its result lands, and resolves with the
 * results once every one is durably stored where it was produced.
 */
export class Orchestrator {
  readonly events = new Emitter<RunEvents>();
  readonly registry: Registry = { holders: new Map(), bytes: new Map() };
  readonly done: Promise<RunResult>;
  readonly #slots = new Map<string, Slot>();
  readonly #values = new Map<string, unknown>();
  readonly #groupPeer = new Map<string, string>();
  readonly #groupCosts: Map<string, Resources>;
  /** Slots ready to place, in the order they became ready. */
  #ready: Slot[] = [];
  readonly #participants = new Set<string>();
  readonly #maxRetries: number;
  #state: RunState = 'running';
  #finished = 0;
  /** Results reported done whose durability is not confirmed yet. */
  #unstored = 0;
  /** Tasks of this run placed or running. */
  #inFlight = 0;
  /** Results are being gathered; a loss meanwhile sends the run back to work. */
  #collecting = false;
  /** Early attempts were abandoned: workers are told to drop them when the run ends. */
  #stragglers = false;
  #resolve!: (result: RunResult) => void;
  #reject!: (error: unknown) => void;
  #unlisten: () => void = () => undefined;

  constructor(
    readonly dagId: string,
    readonly plan: Plan,
    readonly ports: OrchestratorPorts,
    readonly options: SubmitOptions = {},
  ) {
    this.#maxRetries = options.maxRetries ?? 0;
    this.#groupCosts = groupCosts(plan);
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    for (const id of plan.tasks.keys()) {
      const deps = plan.deps.get(id);
      if (deps === undefined) continue; // inline
      const task = plan.tasks.get(id) as Task;
      const slot: Slot = {
        task,
        state: 'waiting',
        peer: undefined,
        attempt: 0,
        failures: 0,
        waitingFor: deps.length,
        stored: false,
        early: false,
        lostInputs: 0,
      };
      this.#slots.set(id, slot);
      if (deps.length === 0) this.#makeReady(slot);
    }
    const { signal } = options;
    if (signal?.aborted) {
      this.#fail(new CancelledError(dagId, signal.reason), 'cancelled');
      return;
    }
    if (signal !== undefined) {
      const onAbort = () => this.cancel(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    const impossible = this.#checkPlaceable();
    if (impossible !== undefined) {
      this.#fail(impossible, 'failed');
      return;
    }
    // Start on the next microtask, so whoever submitted can listen to the first events.
    queueMicrotask(() => {
      this.#maybeFinish();
      this.pump();
    });
  }

  get state(): RunState {
    return this.#state;
  }

  status(): RunStatus {
    const tasks = Object.fromEntries(
      [...this.#slots].map(([id, s]) => [
        id,
        { state: s.state, peer: s.peer, failures: s.failures },
      ]),
    );
    return { dagId: this.dagId, state: this.#state, tasks };
  }

  cancel(reason?: unknown): void {
    this.#fail(new CancelledError(this.dagId, reason), 'cancelled');
  }

  /** Places and dispatches every ready task that can go now. */
  pump(): void {
    if (this.#state !== 'running' || this.#ready.length === 0) return;
    let peers = this.ports.book.peers();
    const ready = this.#ready;
    this.#ready = [];
    const cap = this.options.maxConcurrency ?? Number.POSITIVE_INFINITY;
    for (const slot of ready) {
      if (slot.state !== 'ready') continue;
      if (this.#inFlight >= cap) {
        this.#ready.push(slot); // the run's own limit: wait for one of its tasks to end
        continue;
      }
      const { task } = slot;
      const root = this.plan.collocationRoot.get(task.id) ?? task.id;
      let peer = this.#groupPeer.get(root);
      if (peer === undefined) {
        const decision = place(
          {
            cost: this.#groupCosts.get(root) ?? {},
            pinned: pinOf(this.plan, root),
            inputBytes: inputBytes(this.plan, this.registry, task.id),
          },
          peers,
        );
        if (decision.kind === 'wait') {
          this.#ready.push(slot);
          continue;
        }
        if (decision.kind === 'never') {
          this.#fail(
            new AllocationError(task.id, pinOf(this.plan, root), decision.reason),
            'failed',
          );
          return;
        }
        peer = decision.peer;
        this.#groupPeer.set(root, peer);
      }
      this.#dispatch(slot, peer);
      peers = this.ports.book.peers(); // our claim changed that peer's load
    }
  }

  #makeReady(slot: Slot): void {
    slot.state = 'ready';
    slot.peer = undefined;
    this.#ready.push(slot);
  }

  onReport(from: string, report: TaskReport): void {
    const slot = this.#slots.get(report.taskId);
    // Only the peer it was sent to, about the attempt in flight, is heard.
    if (
      this.#state !== 'running' ||
      slot === undefined ||
      slot.peer !== from ||
      slot.attempt !== report.attempt
    )
      return;
    if (report.kind === 'stored' || report.kind === 'unstored') {
      if (slot.state === 'done') this.#stored(slot, report);
      return;
    }
    if (slot.state !== 'placed' && slot.state !== 'running') return;
    switch (report.kind) {
      case 'started':
        slot.state = 'running';
        this.events.emit('task:started', { taskId: slot.task.id, peer: from });
        return;
      case 'done':
        // `started` may not have come yet (it is sent lazily): done implies it.
        if (slot.state === 'placed')
          this.events.emit('task:started', { taskId: slot.task.id, peer: from });
        return this.#succeeded(slot, from, report);
      case 'failed':
        if (report.lost !== undefined) return this.#inputLost(slot, from, report);
        return this.#failed(
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

  /**
   * A peer left: its tasks in flight go back to be placed again (costing no retry), and results
   * that lived only there are made again from their inputs if anything still needs them.
   */
  onPeerLeave(peer: string): void {
    if (this.#state !== 'running') return;
    for (const [root, chosen] of this.#groupPeer)
      if (chosen === peer && pinOf(this.plan, root) === undefined) this.#groupPeer.delete(root);
    this.#participants.delete(peer);
    for (const slot of this.#slots.values()) {
      if (slot.peer === peer && (slot.state === 'placed' || slot.state === 'running'))
        this.#requeue(slot);
    }
    const emptied: string[] = [];
    for (const [id, holders] of this.registry.holders)
      if (holders.delete(peer) && holders.size === 0) emptied.push(id);
    for (const id of emptied) this.#lost(id);
    for (const slot of this.#slots.values()) {
      // Its producer left before making it durable, but a peer that fetched it keeps a copy.
      if (slot.peer === peer && slot.state === 'done') this.#settle(slot);
    }
    this.#maybeFinish();
    this.pump();
  }

  /** An attempt in flight will not report: the task goes back to wait for its inputs or a peer. */
  #requeue(slot: Slot): void {
    this.ports.book.release(slot.peer as string, slot.task.cost);
    this.#inFlight--;
    if (slot.early) this.#stragglers = true;
    if (slot.waitingFor > 0) {
      slot.state = 'waiting'; // it goes again once its inputs are placed
      slot.peer = undefined;
    } else {
      this.#makeReady(slot);
    }
    this.#recallEarly(slot);
  }

  /**
   * A producer goes again, maybe elsewhere: consumers sent ahead to wait for it where it was go
   * back to wait for it to be placed (their stale attempts are dropped when the run ends).
   */
  #recallEarly(producer: Slot): void {
    for (const dependent of this.plan.dependents.get(producer.task.id) ?? []) {
      const next = this.#slots.get(dependent) as Slot;
      if (next.state === 'placed' && next.early) this.#requeue(next);
    }
  }

  /** No peer holds a result any more: it is made again if anything still needs it. */
  #lost(id: string): void {
    const slot = this.#slots.get(id);
    if (slot?.state !== 'done') return;
    this.registry.holders.delete(id);
    if (this.#needed(slot)) this.#recompute(slot);
    else this.#settle(slot);
  }

  /** A sink, an input of an unfinished task, or a result to collect that was not carried. */
  #needed(slot: Slot): boolean {
    const id = slot.task.id;
    const dependents = this.plan.dependents.get(id) ?? [];
    if (dependents.length === 0) return true;
    if (dependents.some((d) => this.#slots.get(d)?.state !== 'done')) return true;
    return this.options.collect === undefined || this.options.collect === 'all'
      ? !this.#values.has(id)
      : false;
  }

  /** The run no longer waits for this result to be made durable. */
  #settle(slot: Slot): void {
    if (slot.stored) return;
    slot.stored = true;
    this.#unstored--;
  }

  /** Makes a lost result again, and first the lost inputs it needs, recursively (its lineage). */
  #recompute(slot: Slot): void {
    const id = slot.task.id;
    this.events.emit('task:lost', { taskId: id, peer: slot.peer as string });
    this.#finished--;
    this.#settle(slot);
    slot.stored = false;
    slot.state = 'waiting';
    slot.peer = undefined;
    for (const dependent of this.plan.dependents.get(id) ?? []) {
      const next = this.#slots.get(dependent) as Slot;
      next.waitingFor++;
      if (next.state === 'ready') next.state = 'waiting';
    }
    this.#recallEarly(slot);
    const deps = this.plan.deps.get(id) ?? [];
    for (const dep of deps) {
      if ((this.registry.holders.get(dep)?.size ?? 0) === 0) this.#lost(dep);
    }
    slot.waitingFor = deps.filter((d) => this.#slots.get(d)?.state !== 'done').length;
    if (slot.waitingFor === 0) this.#makeReady(slot);
  }

  #dispatch(slot: Slot, peer: string, early = false): void {
    const { task } = slot;
    slot.state = 'placed';
    slot.peer = peer;
    slot.early = early;
    slot.attempt++;
    this.#inFlight++;
    this.#participants.add(peer);
    this.ports.book.claim(peer, task.cost);
    const locations: Record<string, string[]> = {};
    for (const dep of this.plan.deps.get(task.id) ?? []) {
      const holders = [...(this.registry.holders.get(dep) ?? [])];
      const producer = this.#slots.get(dep)?.peer;
      locations[dep] = holders.length > 0 || producer === undefined ? holders : [producer];
    }
    this.events.emit('task:placed', { taskId: task.id, peer });
    const inline = inlineClosure(this.plan, task);
    this.ports.dispatch(peer, {
      dagId: this.dagId,
      attempt: slot.attempt,
      task,
      inline,
      locations,
      early,
      timeout: task.timeout ?? this.options.timeout,
      ttl: this.options.ttl,
    });
    this.#dispatchEarly(task.id);
  }

  /**
   * Pinned consumers of pinned producers go out before their inputs exist: the producer's peer is
   * known and can never change, so the consumer waits there for the value and gets it the moment
   * it is made: a hop along a pinned chain costs one message instead of four.
   */
  #dispatchEarly(placed: string): void {
    const cap = this.options.maxConcurrency ?? Number.POSITIVE_INFINITY;
    for (const dependent of this.plan.dependents.get(placed) ?? []) {
      const slot = this.#slots.get(dependent) as Slot;
      if (slot.state !== 'waiting' || this.#inFlight >= cap) continue;
      if (slot.task.args.some((a) => a.serialize !== undefined)) continue;
      const peer = this.#earlyPeer(slot);
      if (peer === undefined || !this.ports.book.has(peer)) continue;
      this.#groupPeer.set(slot.task.id, peer);
      this.#dispatch(slot, peer, true);
    }
  }

  /**
   * Where a task can go before its inputs exist, if anywhere: a pinned task whose producers are
   * all pinned, or a plain task (no pin, no cost) whose producers all sit on one peer and feed
   * few others: chains and small fan-outs follow their producer, so a small DAG runs on one peer
   * in one message. A producer's retries stay on its peer, so the wait cannot be in vain.
   */
  #earlyPeer(slot: Slot): string | undefined {
    const deps = (this.plan.deps.get(slot.task.id) ?? []).map((d) => this.#slots.get(d) as Slot);
    if (deps.some((dep) => dep.peer === undefined || dep.state === 'failed')) return undefined;
    const pin = slot.task.node;
    if (typeof pin === 'string') {
      return deps.every((dep) => typeof dep.task.node === 'string') ? pin : undefined;
    }
    if (pin !== undefined || Object.keys(slot.task.cost).length > 0) return undefined;
    const peers = new Set(deps.map((dep) => dep.peer));
    const small = deps.every(
      (dep) => (this.plan.dependents.get(dep.task.id)?.length ?? 0) <= EARLY_FAN_OUT,
    );
    return peers.size === 1 && small ? (deps[0]?.peer as string) : undefined;
  }

  #succeeded(slot: Slot, from: string, report: Extract<TaskReport, { kind: 'done' }>): void {
    const id = slot.task.id;
    this.ports.book.release(from, slot.task.cost);
    this.#inFlight--;
    slot.state = 'done';
    this.#unstored++;
    hold(this.registry, id, from, report.bytes);
    if (report.hasValue) this.#values.set(id, report.value);
    for (const f of report.fetched) {
      hold(this.registry, f.argId, from, f.bytes);
      this.events.emit('task:fetched', {
        taskId: id,
        argId: f.argId,
        from: f.from,
        to: from,
        bytes: f.bytes,
        ms: f.ms,
      });
    }
    this.events.emit('task:finished', { taskId: id, peer: from, bytes: report.bytes });
    this.#finished++;
    for (const dependent of this.plan.dependents.get(id) ?? []) {
      const next = this.#slots.get(dependent) as Slot;
      if (--next.waitingFor === 0 && next.state === 'waiting') this.#makeReady(next);
    }
    this.#maybeFinish();
    this.pump();
  }

  #failed(slot: Slot, from: string, cause: RemoteError, retryable: boolean): void {
    this.ports.book.release(from, slot.task.cost);
    this.#inFlight--;
    slot.failures++;
    const allowed = (slot.task.maxRetries ?? this.#maxRetries) + 1;
    const willRetry = retryable && slot.failures < allowed;
    this.events.emit('task:failed', {
      taskId: slot.task.id,
      peer: from,
      error: cause.message,
      willRetry,
    });
    if (willRetry) {
      this.#recallEarly(slot);
      if (slot.waitingFor > 0) {
        // It went out early and its inputs are not all there: it goes again once they are placed.
        slot.state = 'waiting';
        slot.peer = undefined;
        for (const dep of this.plan.deps.get(slot.task.id) ?? []) this.#dispatchEarly(dep);
      } else {
        this.#makeReady(slot);
      }
      this.pump();
      return;
    }
    slot.state = 'failed';
    this.#fail(new TaskFailedError(this.dagId, slot.task.id, from, slot.failures, cause), 'failed');
  }

  /**
   * The worker could not get an input from the holders it was given: they are forgotten for
   * that input, which is made again if nobody else holds it, and the task goes again.
   */
  #inputLost(slot: Slot, from: string, report: Extract<TaskReport, { kind: 'failed' }>): void {
    const { argId, holders: tried } = report.lost as LostInput;
    slot.lostInputs++;
    const cause = new RemoteError(
      from,
      report.error.code,
      report.error.message,
      report.error.stack,
    );
    const willRetry = slot.lostInputs <= MAX_LOST_INPUTS;
    this.events.emit('task:failed', {
      taskId: slot.task.id,
      peer: from,
      error: cause.message,
      willRetry,
    });
    if (!willRetry) {
      this.ports.book.release(from, slot.task.cost);
      this.#inFlight--;
      slot.state = 'failed';
      const error = new TaskFailedError(this.dagId, slot.task.id, from, slot.failures + 1, cause);
      this.#fail(error, 'failed');
      return;
    }
    this.#requeue(slot);
    const holders = this.registry.holders.get(argId);
    for (const peer of tried) holders?.delete(peer);
    if ((holders?.size ?? 0) === 0) this.#lost(argId);
    if ((slot.state as TaskState) === 'waiting')
      for (const dep of this.plan.deps.get(slot.task.id) ?? []) this.#dispatchEarly(dep);
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
    if (!slot.stored) {
      slot.stored = true;
      this.#unstored--;
    }
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (
      this.#state !== 'running' ||
      this.#collecting ||
      this.#finished < this.#slots.size ||
      this.#unstored > 0
    )
      return;
    this.#collecting = true;
    void this.#collect().then(
      (result) => {
        this.#collecting = false;
        if (this.#state !== 'running') return;
        // A result was lost while gathering: the run goes back to work and gathers again later.
        if (result === undefined || this.#finished < this.#slots.size || this.#unstored > 0) {
          this.#maybeFinish();
          this.pump();
          return;
        }
        this.#state = 'done';
        this.#unlisten();
        // Workers hear the run is over when they have something to do about it: drop abandoned
        // early attempts, or start the data's time-to-live.
        if (this.#stragglers || this.options.ttl !== undefined)
          this.ports.cancel([...this.#participants], this.dagId);
        this.#resolve(result);
      },
      (error: unknown) => {
        this.#collecting = false;
        this.#fail(error, 'failed');
      },
    );
  }

  /**
   * Every result is durable where it was produced: gathers what was asked for, from any peer
   * holding each. Undefined when some result turned out to be lost (it is being made again).
   */
  async #collect(): Promise<RunResult | undefined> {
    const collect = this.options.collect ?? 'all';
    const wanted =
      collect === 'none'
        ? []
        : [...this.#slots.keys()].filter(
            (id) => collect === 'all' || (this.plan.dependents.get(id)?.length ?? 0) === 0,
          );
    let complete = true;
    const results = await Promise.all(
      wanted.map(async (id): Promise<[string, unknown]> => {
        if (this.#values.has(id)) return [id, this.#values.get(id)];
        const holders = [...(this.registry.holders.get(id) ?? [])];
        for (const holder of holders) {
          try {
            return [id, await this.ports.fetch(holder, this.dagId, id)];
          } catch (error) {
            if (!isLoss(error)) throw error;
            this.registry.holders.get(id)?.delete(holder);
          }
        }
        complete = false;
        if (this.#state === 'running') this.#lost(id);
        return [id, undefined];
      }),
    );
    if (!complete) return undefined;
    const allocations = [...this.#slots].map(([id, s]) => [id, s.peer as string]);
    return {
      dagId: this.dagId,
      results: Object.fromEntries(results),
      allocations: Object.fromEntries(allocations),
    };
  }

  #fail(error: unknown, state: RunState): void {
    if (this.#state !== 'running') return;
    this.#state = state;
    this.#unlisten();
    for (const slot of this.#slots.values()) {
      if (slot.state === 'placed' || slot.state === 'running')
        this.ports.book.release(slot.peer as string, slot.task.cost);
    }
    if (this.#participants.size > 0) this.ports.cancel([...this.#participants], this.dagId);
    this.#reject(error);
  }

  /** Fails now rather than later if some task could never be placed in this room. */
  #checkPlaceable(): AllocationError | undefined {
    const peers = this.ports.book.peers().map((p) => ({ ...p, used: {}, tasks: 0 }));
    for (const slot of this.#slots.values()) {
      const root = this.plan.collocationRoot.get(slot.task.id) ?? slot.task.id;
      const decision = place(
        { cost: this.#groupCosts.get(root) ?? {}, pinned: pinOf(this.plan, root) },
        peers,
      );
      if (decision.kind === 'never')
        return new AllocationError(slot.task.id, pinOf(this.plan, root), decision.reason);
    }
    return undefined;
  }
}
