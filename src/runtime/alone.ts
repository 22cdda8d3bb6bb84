import type { Dag, Plan, Task } from '../dag/index.ts';
import type { ResultStore } from '../data/store.ts';
import { Emitter } from '../emitter.ts';
import {
  AllocationError,
  DagRunningError,
  DataNotFoundError,
  NodeClosedError,
  UnknownDagError,
} from '../errors.ts';
import { type Allocation, allocate, allocatorTask } from '../schedule/allocation.ts';
import type { FunctionRegistry } from './base/functions.ts';
import type { Load } from './base/messages.ts';
import type { RunHandle, RunStatus, SubmitOptions, TaskRan } from './base/run-handle.ts';
import type { Engine } from './engine.ts';
import { Here, type HerePorts } from './run/here.ts';
import { Run } from './run/run.ts';
import { RunBook } from './run/run-book.ts';
import type { Expiry } from './serve/expiry.ts';
import { type AttemptEnv, attempt, isPromise } from './work/attempt.ts';

/** What a node alone is made of. */
export interface AloneOptions {
  readonly id: string;
  readonly functions: FunctionRegistry;
  readonly store: ResultStore;
  readonly expiry: Expiry;
}

/** Tasks of one run at once on a node alone, unless the run says otherwise. */
const DEFAULT_MAX_CONCURRENCY = 16;

/**
 * The engine of a node without a coordinator: a room of one, the orchestrator of every run and
 * the peer of every task. Each run is the room's `Run`, with {@link Here} as its way: each task
 * runs in the run's own turn, its inputs the values the run holds, its result kept in them and
 * written behind to the store; the run resolves once every write has committed.
 */
export class Alone implements Engine {
  /** Runs, the last finished ones too (for `status`, shrunk to it), and the DAGs known here. */
  readonly #runs = new RunBook<Here>();
  readonly ran = new Emitter<{ 'task:ran': TaskRan }>();

  constructor(readonly options: AloneOptions) {}

  get load(): Load {
    let tasks = 0;
    for (const run of this.#runs.running()) tasks += run.running;
    return { tasks, used: {} };
  }

  submit(dag: Dag, plan: Plan, options: SubmitOptions, fresh: boolean): RunHandle {
    const { store, expiry } = this.options;
    this.checkPlacement(plan, options.allocation);
    if (this.isBusy(dag.id)) throw new DagRunningError(dag.id);
    // A re-run starts from nothing: no value of an earlier run of this id may be read as its.
    const cleared = fresh ? undefined : store.clearDag(dag.id);
    const run = this.#start(dag.id, plan, options);
    this.#runs.add(dag.id, run);
    if (options.ttl !== undefined) {
      expiry.touch(dag.id, options.ttl);
      // As in a swarm, the time-to-live counts from the end of the run.
      const restart = () => expiry.restart(dag.id);
      run.done.then(restart, restart);
    }
    return {
      dagId: dag.id,
      done: Promise.all([cleared, run.done]).then(([, result]) => result),
      status: () => run.status(),
      on: (event, listener) => run.events.on(event, listener),
      cancel: (reason) => run.cancel(reason),
    };
  }

  async status(dagId: string): Promise<RunStatus> {
    const status = this.#runs.latest(dagId);
    if (status === undefined) throw new UnknownDagError(dagId);
    return status;
  }

  async result(dagId: string, taskId: string): Promise<unknown> {
    const { store } = this.options;
    try {
      return await store.get(dagId, taskId);
    } catch (error) {
      if (!(error instanceof DataNotFoundError)) throw error;
    }
    if (this.isBusy(dagId)) {
      throw new DataNotFoundError(dagId, taskId, 'its run has not stored it yet');
    }
    if (this.#runs.knows(dagId) || (await store.keys(dagId)).length > 0) {
      throw new DataNotFoundError(dagId, taskId);
    }
    throw new UnknownDagError(dagId);
  }

  async clear(dagId: string): Promise<void> {
    if (this.isBusy(dagId)) throw new DagRunningError(dagId);
    await this.expire(dagId);
  }

  isBusy(dagId: string): boolean {
    return this.#runs.live(dagId) !== undefined;
  }

  async expire(dagId: string): Promise<void> {
    this.options.expiry.forget(dagId);
    await this.options.store.clearDag(dagId);
    this.#runs.forget(dagId);
  }

  close(): void {
    for (const run of [...this.#runs.running()]) run.abort(new NodeClosedError(this.options.id));
  }

  /**
   * No task may be pinned elsewhere; a custom allocator, given this node alone, must answer with
   * it too. A node alone runs every task itself, so costs are not held against its capabilities.
   */
  checkPlacement(plan: Plan, allocation: Allocation | undefined): void {
    const { id } = this.options;
    if (typeof allocation === 'function') {
      const self = { id, capabilities: {}, used: {}, tasks: this.load.tasks };
      const tasks = plan.scheduled.map((taskId) => allocatorTask(plan, taskId));
      const answer = allocate(allocation, tasks, [self], () => ({}));
      if (!(answer instanceof Map))
        throw new AllocationError(answer.taskId, answer.pinned, answer.reason);
    }
    for (const task of plan.tasks.values()) {
      if (typeof task.node === 'string' && task.node !== id) {
        throw new AllocationError(
          task.id,
          task.node,
          `it is pinned to node ${task.node}, which is not this node (${id}) and no other node is reachable`,
        );
      }
    }
  }

  #start(dagId: string, plan: Plan, options: SubmitOptions): Run<Here> {
    const { id: self, store } = this.options;
    const ports = {
      self,
      release: () => undefined, // nothing is claimed on a node alone
      over: () => undefined,
      fetch: () => Promise.reject(new Error('a node alone holds every value it made')),
    };
    const limited = {
      ...options,
      maxConcurrency: options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
    };
    const here: HerePorts = {
      run: this.#runner(dagId, plan, options.timeout),
      keep: (taskId, value) => store.put(dagId, taskId, value),
      flush: () => store.flush?.(),
    };
    return new Run(dagId, plan, ports, limited, 0, (run) => new Here(run, here));
  }

  /** How a run's attempts call their functions, timed for `task:ran` when someone listens. */
  #runner(dagId: string, plan: Plan, timeout: number | undefined): HerePorts['run'] {
    const { id: nodeId, functions } = this.options;
    let env: AttemptEnv | undefined; // one for the whole run: its signal and values are the run's
    return (task: Task, no, signal, value, settle) => {
      env ??= { dagId, nodeId, tasks: plan.tasks, functions, signal, value, holder: () => nodeId };
      // Nobody listening for `task:ran`: the outcome goes straight to the run, timed by nobody.
      const started = this.ran.has('task:ran') ? performance.now() : undefined;
      const end =
        started === undefined
          ? settle
          : (failed: boolean, outcome: unknown) => {
              if (!signal.aborted) this.#ran(dagId, task, no, started, failed, outcome);
              settle(failed, outcome);
            };
      let outcome: unknown;
      try {
        outcome = attempt(env, task, no, task.timeout ?? timeout);
      } catch (error) {
        end(true, error);
        return;
      }
      if (!isPromise(outcome)) end(false, outcome);
      else
        outcome.then(
          (v) => end(false, v),
          (error: unknown) => end(true, error),
        );
    };
  }

  #ran(dagId: string, task: Task, no: number, started: number, failed: boolean, outcome: unknown) {
    this.ran.emit('task:ran', {
      dagId,
      taskId: task.id,
      fn: task.fn,
      attempt: no,
      ms: performance.now() - started,
      ...(failed ? { error: outcome instanceof Error ? outcome.message : String(outcome) } : {}),
    });
  }
}
