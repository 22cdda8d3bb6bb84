import { dagPrefix, dataKey } from '../../data/keys.ts';
import type { ResultStore, StagedParts } from '../../data/store.ts';
import type { ValueCache } from '../../data/value-cache.ts';
import { Emitter } from '../../emitter.ts';
import { AllocationError } from '../../errors.ts';
import { errorInfo } from '../../net/rpc.ts';
import {
  addCosts,
  canEverFit,
  fitsNow,
  isFree,
  type Resources,
  subtractCosts,
} from '../../schedule/placement.ts';
import type { Epochs } from '../base/epochs.ts';
import type { FunctionRegistry } from '../base/functions.ts';
import type { AttemptKey, Load, TaskOrder, TaskReport } from '../base/messages.ts';
import { Queue } from '../base/queue.ts';
import type { TaskRan } from '../base/run-handle.ts';
import type { ArgumentPorts } from './arguments.ts';
import { Arrivals } from './arrivals.ts';
import {
  AttemptAbort,
  type AttemptHost,
  type DistributiveReport,
  type Job,
  prefetch,
  runAttempt,
} from './attempt-run.ts';
import { Making } from './making.ts';
import { type Origin, RunOrigins } from './run-origins.ts';

/** How a task runner reaches the rest of the swarm: fetch and locate values, report, advertise. */
export interface RunnerPorts extends Pick<ArgumentPorts, 'fetch' | 'locate' | 'laneTo'> {
  report(orchestrator: string, report: TaskReport): void;
  loadChanged(load: Load): void;
}

export interface RunnerOptions {
  readonly id: string;
  readonly functions: FunctionRegistry;
  readonly store: ResultStore;
  readonly cache: ValueCache;
  /** Which run of each DAG this node's data belongs to. */
  readonly epochs: Epochs;
  readonly capabilities: Resources;
  /** Tasks running at once here, whatever their cost. @default 64 */
  readonly maxConcurrency?: number | undefined;
  readonly ports: RunnerPorts;
}

/**
 * Runs tasks for any orchestrator, never more than its capacity allows (the rest queue, whoever
 * sent them), resolving each argument from memory, its own store, or straight from the peer that
 * holds it, and keeping every result in its own store under `[dagId, taskId]`.
 */
export class TaskRunner {
  readonly #queue = new Queue<Job>();
  /** Attempts running, by their job. */
  readonly #running = new Map<Job, AttemptAbort>();
  readonly #origins = new RunOrigins();
  /** Early tasks waiting for their inputs, by `dataKey(dagId, taskId)`. */
  readonly #waiting = new Map<string, { order: TaskOrder; controller: AbortController }>();
  readonly #making = new Making();
  #used: Resources = {};
  /** Each task this runner ran to an outcome (not one cancelled). */
  readonly ran = new Emitter<{ 'task:ran': TaskRan }>();
  readonly #arrivals: Arrivals;
  readonly #host: AttemptHost;

  constructor(readonly options: RunnerOptions) {
    const { id, cache, store, ports } = options;
    this.#arrivals = new Arrivals(cache, store, (dagId, dataId) => this.#making.has(dagId, dataId));
    const argumentPorts: ArgumentPorts = {
      id,
      cache,
      store,
      fetch: ports.fetch,
      locate: ports.locate,
      ...(ports.laneTo === undefined ? {} : { laneTo: ports.laneTo }),
      keep: (dagId, epoch, dataId, value, bytes, staged) =>
        this.#keep(dagId, epoch, dataId, value, bytes, staged) ?? Promise.resolve(),
      waitFor: (dagId, dataId, signal) => this.waitFor(dagId, dataId, signal),
    };
    this.#host = {
      id,
      functions: options.functions,
      argumentPorts,
      ended: (order) => this.#isEnded(order),
      ran: (order, started, error) => this.#ran(order, started, error),
      keep: (order, value, bytes) =>
        this.#keep(order.dagId, order.epoch, order.task.id, value, bytes),
      report: (job, fields) => this.#report(job.from, job.order, fields),
      finished: (job) => this.#finished(job),
    };
  }

  get load(): Load {
    return { used: this.#used, tasks: this.#running.size + this.#queue.length };
  }

  /** Holds resources for a pipeline's stage hosted here (until `unhold`): tasks see less room. */
  hold(cost: Resources, held = true): void {
    if (isFree(cost)) return;
    this.#used = held ? addCosts(this.#used, cost) : subtractCosts(this.#used, cost);
    this.#pump();
  }

  accept(from: string, orders: readonly TaskOrder[]): void {
    for (const order of orders) {
      // A later run of the DAG first wipes what this node holds of earlier ones; an order of
      // an earlier run than the one here is dropped.
      const epoch = this.options.epochs.check(order.dagId, order.epoch);
      if (epoch === 'stale') continue;
      if (epoch !== 'current') {
        epoch.then(
          (e) => e === 'current' && this.accept(from, [order]),
          (error: unknown) =>
            this.#report(from, order, { kind: 'failed', error: errorInfo(error), retryable: true }),
        );
        continue;
      }
      if (this.#isEnded(order)) continue;
      this.#origins.saw(order.dagId, { from, epoch: order.epoch });
      const cost = order.task.cost;
      if (!canEverFit(cost, this.options.capabilities)) {
        const error = new AllocationError(
          order.task.id,
          this.options.id,
          `its cost never fits on peer ${this.options.id}`,
        );
        this.#report(from, order, { kind: 'failed', error: errorInfo(error), retryable: false });
        continue;
      }
      const job: Job = { from, order, cost };
      this.#making.hold(job);
      if (order.early) void this.#prefetch(job);
      else this.#queue.push(job);
    }
    this.#pump();
  }

  /**
   * An early task waits for its inputs before it queues for capacity, so a task waiting for a
   * value never holds the room a producer on this same runner needs.
   */
  async #prefetch(job: Job): Promise<void> {
    const controller = new AbortController();
    const key = dataKey(job.order.dagId, job.order.task.id);
    this.#waiting.get(key)?.controller.abort(new Error('replaced by a newer attempt'));
    this.#waiting.set(key, { order: job.order, controller });
    const ready = await prefetch(this.#host, job, controller);
    if (this.#waiting.get(key)?.controller === controller) this.#waiting.delete(key);
    if (!ready) {
      this.#making.release(job);
      return;
    }
    this.#queue.push(job);
    this.#pump();
  }

  /** Resolves when a value is here (see {@link Arrivals.waitFor}). */
  waitFor(dagId: string, dataId: string, signal?: AbortSignal): Promise<unknown> {
    return this.#arrivals.waitFor(dagId, dataId, signal);
  }

  /**
   * A run is over (cancelled, failed or done), or the DAG's data is going: drops the queued
   * tasks of that run (of every run up to `epoch`; of all when it is not given) and aborts its
   * running ones; their results are not kept.
   */
  cancel(dagId: string, epoch = Number.MAX_SAFE_INTEGER, ended = true): void {
    const ends = (order: TaskOrder) => order.dagId === dagId && order.epoch <= epoch;
    this.#origins.stop(dagId, epoch, ended);
    for (const job of this.#queue.remove((job) => ends(job.order))) this.#making.release(job);
    const reason = new Error(`run of DAG ${dagId} was cancelled`);
    for (const [job, abort] of this.#running) {
      if (ends(job.order)) abort.abort(reason);
    }
    for (const { order, controller } of this.#waiting.values()) {
      if (ends(order)) controller.abort(reason);
    }
    if (this.#origins.get(dagId) === undefined) this.#arrivals.drop(dagId, reason);
    this.options.ports.loadChanged(this.load);
  }

  /** The orchestrator of a DAG's run going on here, and which run it is. */
  origin(dagId: string): Origin | undefined {
    return this.#origins.get(dagId);
  }

  /** Whether this runner has the attempt: queued, waiting for its inputs, or running. */
  has({ dagId, epoch, taskId, attempt }: AttemptKey): boolean {
    const same = (o: TaskOrder) =>
      o.dagId === dagId && o.epoch === epoch && o.task.id === taskId && o.attempt === attempt;
    if (this.#queue.some((job) => same(job.order))) return true;
    for (const job of this.#running.keys()) if (same(job.order)) return true;
    for (const { order } of this.#waiting.values()) if (same(order)) return true;
    return false;
  }

  /** Whether the order's run ended here already. */
  #isEnded(order: TaskOrder): boolean {
    return this.#origins.ended(order.dagId, order.epoch);
  }

  /** Whether the DAG's run is going on (its orchestrator is here and has not ended it). */
  busyWith(dagId: string): boolean {
    const prefix = dagPrefix(dagId);
    return (
      this.#origins.has(dagId) ||
      this.#queue.some((job) => job.order.dagId === dagId) ||
      [...this.#running.keys()].some((job) => job.order.dagId === dagId) ||
      [...this.#waiting.keys()].some((key) => key.startsWith(prefix))
    );
  }

  /**
   * An orchestrator left: nobody will collect its runs' work, so it stops; its data stays. The
   * run is not ended here: only its link may have dropped, and orders it sends once it is back
   * (over WebRTC after a broken lane, say) are taken.
   */
  forget(orchestrator: string): void {
    for (const [dagId, { epoch }] of this.#origins.of(orchestrator))
      this.cancel(dagId, epoch, false);
  }

  #pump(): void {
    const max = this.options.maxConcurrency ?? 64;
    this.#queue.drain(
      () => this.#running.size < max,
      (job) => fitsNow(job.cost, this.options.capabilities, this.#used),
      (job) => void this.#run(job),
    );
    this.options.ports.loadChanged(this.load);
  }

  #run(job: Job): void {
    const abort = new AttemptAbort();
    this.#running.set(job, abort);
    if (!isFree(job.cost)) this.#used = addCosts(this.#used, job.cost);
    runAttempt(this.#host, job, abort);
  }

  /** The attempt is over, whatever its outcome: its place is free. */
  #finished(job: Job): void {
    this.#running.delete(job);
    this.#making.release(job);
    if (!isFree(job.cost)) this.#used = subtractCosts(this.#used, job.cost);
    this.#pump();
    // Nothing left to do here: no more results are coming to share the store's next commit.
    if (this.#running.size === 0 && this.#queue.length === 0 && this.#waiting.size === 0)
      this.options.store.flush?.();
  }

  #ran(order: TaskOrder, started: number, error?: unknown): void {
    if (!this.ran.has('task:ran')) return;
    this.ran.emit('task:ran', {
      dagId: order.dagId,
      taskId: order.task.id,
      fn: order.task.fn,
      attempt: order.tries ?? order.attempt,
      ms: performance.now() - started,
      ...(error === undefined
        ? {}
        : { error: error instanceof Error ? error.message : String(error) }),
    });
  }

  /**
   * Stores a value of run `epoch` here: in the hot cache at once, in the store behind it (by
   * committing its staging, if it was written as it arrived). Not at all (undefined, and its
   * staging aborted) when this node holds a later run of the DAG by now.
   */
  #keep(
    dagId: string,
    epoch: number,
    dataId: string,
    value: unknown,
    bytes: number,
    staged?: StagedParts,
  ): Promise<void> | undefined {
    const here = this.options.epochs.known(dagId) ?? 0;
    if (here !== epoch && !(here === 0 && epoch > 0)) {
      void staged?.abort();
      return undefined;
    }
    return this.#arrivals.keep(dagId, dataId, value, bytes, staged);
  }

  #report(orchestrator: string, order: TaskOrder, fields: DistributiveReport): void {
    this.options.ports.report(orchestrator, {
      dagId: order.dagId,
      taskId: order.task.id,
      attempt: order.attempt,
      ...fields,
    } as TaskReport);
  }
}
