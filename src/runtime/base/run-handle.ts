import { type Allocation, checkAllocationOption } from '../../schedule/allocation.ts';
/** Options of one run; see `HandoutNode.execute`. */
export interface RunOptions {
  /** Retries after a task's first failed attempt, unless the task sets its own. @default 0 */
  readonly maxRetries?: number | undefined;
  /** How many of the run's tasks may be running at once on this node. @default 16 */
  readonly maxConcurrency?: number | undefined;
  /**
   * Milliseconds an attempt's function may run before it fails with `TaskTimeoutError`, unless
   * the task sets its own `timeout`. @default no limit
   */
  readonly timeout?: number | undefined;
  /** Cancels the run: queued tasks never start, running ones see `ctx.signal` abort. */
  readonly signal?: AbortSignal | undefined;
}

/** What a finished run resolves to. */
export interface RunResult {
  readonly dagId: string;
  /** Every scheduled task's result by task id (inline tasks have none). */
  readonly results: Readonly<Record<string, unknown>>;
  /** The node id each scheduled task ran on. */
  readonly allocations: Readonly<Record<string, string>>;
}

export type TaskState = 'waiting' | 'ready' | 'placed' | 'running' | 'done' | 'failed';

export interface TaskStatus {
  readonly state: TaskState;
  /** The peer it is placed on, runs on, or ran on. */
  readonly peer: string | undefined;
  /** Attempts that failed so far. */
  readonly failures: number;
}

export type RunState = 'running' | 'done' | 'failed' | 'cancelled';

export interface RunStatus {
  readonly dagId: string;
  readonly state: RunState;
  /** Scheduled tasks only: inline ones run inside their consumers. */
  readonly tasks: Readonly<Record<string, TaskStatus>>;
}

/** Progress of a run, as its orchestrator sees it. */
/** A task this node ran as a worker in the room, for its own run or another peer's. */
export interface TaskRan {
  readonly dagId: string;
  readonly taskId: string;
  readonly fn: string;
  readonly attempt: number;
  /** The function's own time, after its arguments were resolved. */
  readonly ms: number;
  /** The error's message when the function threw (or timed out). */
  readonly error?: string | undefined;
}

export interface RunEvents {
  'task:placed': { readonly taskId: string; readonly peer: string };
  'task:started': { readonly taskId: string; readonly peer: string };
  'task:finished': { readonly taskId: string; readonly peer: string; readonly bytes: number };
  /** A worker fetched an argument straight from a peer holding it. */
  'task:fetched': {
    readonly taskId: string;
    readonly argId: string;
    readonly from: string;
    readonly to: string;
    readonly bytes: number;
    readonly ms: number;
    /** The pipe it came over: 'same-browser' (a MessagePort), 'webrtc' or 'memory'. */
    readonly lane: string;
  };
  /** A finished task's result was lost with the peers holding it and will be made again. */
  'task:lost': { readonly taskId: string; readonly peer: string };
  'task:failed': {
    readonly taskId: string;
    readonly peer: string;
    readonly error: string;
    readonly willRetry: boolean;
  };
}

/** Options of `submit` and `execute`. */
export interface SubmitOptions extends RunOptions {
  /**
   * Which results `done` resolves with: every scheduled task's, only the sinks' (tasks nothing
   * consumes), or none (they stay where they were produced; read them with `node.result`).
   * @default 'all'
   */
  readonly collect?: 'all' | 'sinks' | 'none' | undefined;
  /**
   * Milliseconds the run's data is kept on each peer after its last use there; then it is
   * removed as by `clear`. Survives reloads. @default the node's `ttl`, else until cleared
   */
  readonly ttl?: number | undefined;
  /**
   * How tasks get their peers: `'load-balanced'` (the inputs' holder, then the least loaded),
   * `'first-available'` (the first peer by id with room now, as Handoff's), or your own
   * allocator `(tasks, peers) => ({ [taskId]: peerId })`, asked when the run starts and again for
   * the tasks of a peer that left; an answer that names a peer not in the room, breaks a pin or a
   * collocation group, or puts a task on a peer that could never cover its cost fails the run
   * with `AllocationError` naming the task. @default 'load-balanced'
   */
  readonly allocation?: Allocation | undefined;
}

/** A run in progress. Made by `node.submit`. */
export interface RunHandle {
  readonly dagId: string;
  /** Resolves like `execute`; rejects with the run's typed error. */
  readonly done: Promise<RunResult>;
  status(): RunStatus;
  on<E extends keyof RunEvents>(event: E, listener: (event: RunEvents[E]) => void): () => void;
  /** Stops the run: `done` rejects with `CancelledError`, workers drop its tasks. */
  cancel(reason?: unknown): void;
}

/** Throws `RangeError` for a run option out of range. */
export function checkRunOptions({
  maxRetries,
  maxConcurrency,
  timeout,
  ttl,
  allocation,
}: SubmitOptions): void {
  checkAllocationOption(allocation);
  if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0)) {
    throw new RangeError(`ttl must be a positive number of milliseconds, got ${ttl}`);
  }
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
    throw new RangeError(`timeout must be a positive number of milliseconds, got ${timeout}`);
  }
  if (maxRetries !== undefined && !(Number.isInteger(maxRetries) && maxRetries >= 0)) {
    throw new RangeError(`maxRetries must be a non-negative integer, got ${maxRetries}`);
  }
  if (
    maxConcurrency !== undefined &&
    !(
      maxConcurrency === Number.POSITIVE_INFINITY ||
      (Number.isInteger(maxConcurrency) && maxConcurrency >= 1)
    )
  ) {
    throw new RangeError(
      `maxConcurrency must be an integer >= 1 or Infinity, got ${maxConcurrency}`,
    );
  }
}
