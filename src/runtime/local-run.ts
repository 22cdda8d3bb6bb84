import type { Plan, Task } from '../dag/index.ts';
import { sizeOf } from '../data/size.ts';
import type { ResultStore } from '../data/store.ts';
import { Emitter } from '../emitter.ts';
import { CancelledError, TaskFailedError, UnknownFunctionError } from '../errors.ts';
import type { FunctionRegistry } from './base/functions.ts';
import type {
  RunEvents,
  RunOptions,
  RunResult,
  RunState,
  RunStatus,
  TaskState,
} from './base/run-handle.ts';
import { type AttemptEnv, attempt, isPromise } from './work/attempt.ts';

export interface RunEnv {
  readonly dagId: string;
  readonly nodeId: string;
  readonly plan: Plan;
  readonly functions: FunctionRegistry;
  readonly store: ResultStore;
}

export const DEFAULT_MAX_CONCURRENCY = 16;

/**
 * Runs a validated plan on this node. A task starts once every input is in memory; its
 * result is written behind, and the run resolves only when every write has committed.
 */
export class LocalRun {
  readonly #env: RunEnv;
  readonly #maxRetries: number;
  readonly #maxConcurrency: number;
  readonly #timeout: number | undefined;
  readonly #controller = new AbortController();
  readonly #waiting = new Map<string, number>();
  readonly #values = new Map<string, unknown>();
  readonly #ready: string[] = [];
  #head = 0;
  #running = 0;
  #finished = 0;
  #writes = 0;
  #settled = false;
  #pumping = false;
  #resolve!: (result: RunResult) => void;
  #reject!: (error: unknown) => void;
  #unlisten: () => void = () => undefined;
  readonly #attemptEnv: AttemptEnv;
  readonly #states = new Map<string, { state: TaskState; failures: number }>();
  #state: RunState = 'running';
  readonly events = new Emitter<RunEvents>();
  readonly done: Promise<RunResult>;

  constructor(env: RunEnv, options: RunOptions = {}) {
    this.#env = env;
    this.#maxRetries = options.maxRetries ?? 0;
    this.#maxConcurrency = options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
    this.#timeout = options.timeout;
    this.done = new Promise<RunResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#attemptEnv = {
      dagId: env.dagId,
      nodeId: env.nodeId,
      tasks: env.plan.tasks,
      functions: env.functions,
      signal: this.#controller.signal,
      value: (taskId) => this.#values.get(taskId),
      holder: () => env.nodeId,
    };
    const { signal } = options;
    if (signal?.aborted) {
      this.#fail(new CancelledError(env.dagId, signal.reason));
      return;
    }
    if (signal !== undefined) {
      const onAbort = () => this.#fail(new CancelledError(env.dagId, signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    // Tasks that can start at once start in the order they were added.
    for (const id of env.plan.tasks.keys()) {
      const deps = env.plan.deps.get(id);
      if (deps === undefined) continue; // inline
      this.#waiting.set(id, deps.length);
      this.#states.set(id, { state: deps.length === 0 ? 'ready' : 'waiting', failures: 0 });
      if (deps.length === 0) this.#ready.push(id);
    }
    // Start on the next microtask, so whoever submitted can listen to the first events.
    queueMicrotask(() => {
      this.#maybeDone();
      this.#pump();
    });
  }

  /** Stops the run: nothing more starts and `done` rejects with `reason`. */
  abort(reason: unknown): void {
    this.#fail(reason);
  }

  /** Tasks of this run running now. */
  get running(): number {
    return this.#settled ? 0 : this.#running;
  }

  get state(): RunState {
    return this.#state;
  }

  status(): RunStatus {
    const peer = this.#env.nodeId;
    const tasks = Object.fromEntries(
      [...this.#states].map(([id, s]) => [
        id,
        {
          state: s.state,
          peer: s.state === 'waiting' || s.state === 'ready' ? undefined : peer,
          failures: s.failures,
        },
      ]),
    );
    return { dagId: this.#env.dagId, state: this.#state, tasks };
  }

  /**
   * Starts ready tasks while slots are free. A re-entrant call (a synchronous task finishing
   * inside the loop) returns at once and the running loop picks up what it made ready, so a
   * long run of synchronous tasks never deepens the call stack.
   */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (
        !this.#settled &&
        this.#running < this.#maxConcurrency &&
        this.#head < this.#ready.length
      ) {
        const id = this.#ready[this.#head++] as string;
        this.#running++;
        this.#mark(id, 'running');
        this.#execute(this.#env.plan.tasks.get(id) as Task, 1);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #execute(task: Task, attemptNo: number): void {
    let outcome: unknown;
    try {
      outcome = attempt(this.#attemptEnv, task, attemptNo, task.timeout ?? this.#timeout);
    } catch (error) {
      this.#failed(task, attemptNo, error);
      return;
    }
    if (isPromise(outcome)) {
      outcome.then(
        (value) => this.#succeeded(task, value),
        (error: unknown) => this.#failed(task, attemptNo, error),
      );
    } else {
      this.#succeeded(task, outcome);
    }
  }

  #succeeded(task: Task, value: unknown): void {
    if (this.#settled) return; // a late result of a failed or cancelled run is discarded
    const { store, dagId, plan, nodeId } = this.#env;
    this.#values.set(task.id, value);
    this.#mark(task.id, 'done');
    if (this.events.has('task:finished')) {
      this.events.emit('task:finished', { taskId: task.id, peer: nodeId, bytes: sizeOf(value) });
    }
    this.#writes++;
    store.put(dagId, task.id, value).then(
      () => {
        this.#writes--;
        this.#maybeDone();
      },
      (error: unknown) => this.#fail(error),
    );
    this.#running--;
    this.#finished++;
    for (const dependent of plan.dependents.get(task.id) ?? []) {
      const left = (this.#waiting.get(dependent) as number) - 1;
      this.#waiting.set(dependent, left);
      if (left === 0) {
        this.#ready.push(dependent);
        this.#mark(dependent, 'ready');
      }
    }
    // The last result: nothing more is coming to share the store's next commit.
    if (this.#finished === plan.scheduled.length) store.flush?.();
    this.#maybeDone();
    this.#pump();
  }

  #failed(task: Task, attemptNo: number, error: unknown): void {
    if (this.#settled) return;
    const allowed = (task.maxRetries ?? this.#maxRetries) + 1;
    const entry = this.#states.get(task.id);
    if (entry !== undefined) entry.failures = attemptNo;
    const willRetry = attemptNo < allowed && !(error instanceof UnknownFunctionError);
    if (this.events.has('task:failed')) {
      this.events.emit('task:failed', {
        taskId: task.id,
        peer: this.#env.nodeId,
        error: String(error),
        willRetry,
      });
    }
    // A missing function fails the same way every time: retrying it would only waste attempts.
    if (willRetry) {
      this.#execute(task, attemptNo + 1);
      return;
    }
    const { dagId, nodeId } = this.#env;
    this.#mark(task.id, 'failed');
    this.#fail(new TaskFailedError(dagId, task.id, nodeId, attemptNo, error));
  }

  #mark(id: string, state: TaskState): void {
    const entry = this.#states.get(id);
    if (entry !== undefined) entry.state = state;
    if (state === 'running' && this.events.has('task:started')) {
      this.events.emit('task:started', { taskId: id, peer: this.#env.nodeId });
    }
  }

  #maybeDone(): void {
    if (this.#settled || this.#writes > 0) return;
    if (this.#finished < this.#env.plan.scheduled.length) return;
    this.#settled = true;
    this.#state = 'done';
    this.#unlisten();
    const { dagId, nodeId } = this.#env;
    // fromEntries defines own properties, so even a task named `__proto__` is reported.
    this.#resolve({
      dagId,
      results: Object.fromEntries(this.#values),
      allocations: Object.fromEntries([...this.#values.keys()].map((id) => [id, nodeId])),
    });
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#state = error instanceof CancelledError ? 'cancelled' : 'failed';
    this.#unlisten();
    this.#controller.abort(error);
    this.#reject(error);
  }
}
