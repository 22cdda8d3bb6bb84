import type { ArgEdge, Task } from '../../dag/index.ts';
import { TaskTimeoutError, UnknownFunctionError } from '../../errors.ts';
import {
  callHook,
  type EdgeContext,
  type FunctionRegistry,
  invoke,
  lookup,
  type TaskContext,
  type TaskFunction,
} from '../base/functions.ts';

/** What one attempt of a task needs from the run around it. */
export interface AttemptEnv {
  readonly dagId: string;
  readonly nodeId: string;
  /** The task and the inline producers it evaluates; a producer missing here is scheduled. */
  readonly tasks: ReadonlyMap<string, Task>;
  readonly functions: FunctionRegistry;
  readonly signal: AbortSignal;
  /**
   * The result of a scheduled (non-inline) producer, as this edge receives it: raw, or already
   * passed through the edge's `serialize` where the value lives (see `serializedRemotely`).
   */
  value(taskId: string, edge: ArgEdge): unknown;
  /** True when `value` for this edge already ran `serialize` on the producer's node. */
  serializedRemotely?(taskId: string, edge: ArgEdge): boolean;
  /** Node holding a scheduled producer's result. */
  holder(taskId: string): string;
}

/**
 * Runs one attempt of a task: resolves its arguments (evaluating inline producers once for
 * this consumer and applying serialize/deserialize hooks), then calls its function.
 */
export function attempt(
  env: AttemptEnv,
  task: Task,
  attemptNo: number,
  timeoutMs = task.timeout,
): unknown {
  if (timeoutMs === undefined) return attemptNow(env, task, attemptNo);
  return deadline(timeoutMs, env.signal, task.id, (signal) =>
    attemptNow({ ...env, signal }, task, attemptNo),
  );
}

function attemptNow(env: AttemptEnv, task: Task, attemptNo: number): unknown {
  const fn = resolveFunction(env, task, task.fn);
  const inlineValues = new Map<string, unknown>();
  const args = resolveArgs(env, task, inlineValues);
  if (isPromise(args)) {
    return args.then((values) => call(env, task, fn, values, attemptNo));
  }
  return call(env, task, fn, args, attemptNo);
}

function call(env: AttemptEnv, task: Task, fn: TaskFunction, values: unknown[], no: number) {
  const args = task.argsAsList ? [values, ...task.extraArgs] : [...values, ...task.extraArgs];
  const context = (): TaskContext => ({
    dagId: env.dagId,
    taskId: task.id,
    nodeId: env.nodeId,
    attempt: no,
    signal: env.signal,
  });
  return invoke(fn, args, context);
}

/**
 * Calls `run` with a signal that aborts when `parent` does or when `ms` pass, whichever is
 * first; past the deadline the outcome rejects with `TaskTimeoutError` whether or not the
 * function heeds its signal. A function that blocks the thread cannot be interrupted: its
 * outcome is refused once it returns late.
 */
export function deadline(
  ms: number,
  parent: AbortSignal,
  taskId: string,
  run: (signal: AbortSignal) => unknown,
): unknown {
  const controller = new AbortController();
  const onParent = () => controller.abort(parent.reason);
  if (parent.aborted) onParent();
  else parent.addEventListener('abort', onParent, { once: true });
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cleanup = () => {
    clearTimeout(timer);
    parent.removeEventListener('abort', onParent);
  };
  let outcome: unknown;
  try {
    outcome = run(controller.signal);
  } catch (error) {
    cleanup();
    throw error;
  }
  if (!isPromise(outcome)) {
    cleanup();
    if (performance.now() - started > ms) throw new TaskTimeoutError(taskId, ms);
    return outcome;
  }
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TaskTimeoutError(taskId, ms);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  return Promise.race([outcome, expired]).finally(cleanup);
}

/** Synchronous when nothing on the way is async, so trivial tasks cost no extra promise. */
function resolveArgs(
  env: AttemptEnv,
  consumer: Task,
  inlineValues: Map<string, unknown>,
): unknown[] | Promise<unknown[]> {
  const values: unknown[] = new Array(consumer.args.length);
  let pending: Promise<void>[] | undefined;
  consumer.args.forEach((edge, i) => {
    const value = resolveEdge(env, consumer, edge, inlineValues);
    if (isPromise(value)) {
      pending ??= [];
      pending.push(
        value.then((v) => {
          values[i] = v;
        }),
      );
    } else {
      values[i] = value;
    }
  });
  return pending === undefined ? values : Promise.all(pending).then(() => values);
}

function resolveEdge(
  env: AttemptEnv,
  consumer: Task,
  edge: ArgEdge,
  inlineValues: Map<string, unknown>,
): unknown {
  const known = env.tasks.get(edge.from);
  const inline = known?.inline === true;
  let value = inline
    ? evaluateInline(env, known as Task, inlineValues)
    : env.value(edge.from, edge);
  if (edge.serialize === undefined && edge.deserialize === undefined) return value;
  const remote = !inline && env.serializedRemotely?.(edge.from, edge) === true;

  const context: EdgeContext = {
    dagId: env.dagId,
    producerTaskId: edge.from,
    consumerTaskId: consumer.id,
    producer: inline ? env.nodeId : env.holder(edge.from),
    consumer: env.nodeId,
    signal: env.signal,
  };
  for (const hook of [remote ? undefined : edge.serialize, edge.deserialize]) {
    if (hook === undefined) continue;
    const fn = resolveFunction(env, consumer, hook);
    const run = (v: unknown) => callHook(fn, v, context, env.nodeId);
    value = isPromise(value) ? value.then(run) : run(value);
  }
  return value;
}

/** Evaluates an inline task inside one consumer, once however many times the consumer uses it. */
function evaluateInline(env: AttemptEnv, task: Task, inlineValues: Map<string, unknown>): unknown {
  if (inlineValues.has(task.id)) return inlineValues.get(task.id);
  const fn = resolveFunction(env, task, task.fn);
  const args = resolveArgs(env, task, inlineValues);
  const value = isPromise(args)
    ? args.then((values) => call(env, task, fn, values, 1))
    : call(env, task, fn, args, 1);
  inlineValues.set(task.id, value);
  return value;
}

function resolveFunction(env: AttemptEnv, task: Task, name: string): TaskFunction {
  const fn = lookup(env.functions, name);
  if (fn === undefined) throw new UnknownFunctionError(name, task.id, env.nodeId);
  return fn;
}

export function isPromise(value: unknown): value is Promise<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
