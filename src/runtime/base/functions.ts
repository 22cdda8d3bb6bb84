/** What a running task can know about itself; see {@link withContext}. */
export interface TaskContext {
  readonly dagId: string;
  readonly taskId: string;
  /** The node running this attempt. */
  readonly nodeId: string;
  /**
   * 1 for the first attempt, 2 for the next (a retry, or the task going again after its peer was
   * lost)... A dispatch sent ahead of the task's inputs and called back before it ran is none.
   */
  readonly attempt: number;
  /** Aborts when the run is cancelled or fails; a long function should stop when it does. */
  readonly signal: AbortSignal;
  /** In a pipeline's stage: what the stage's `init` returned on this peer. */
  readonly state?: unknown;
  /** In a pipeline's stage: the item's id (undefined for a batch). */
  readonly itemId?: number | undefined;
}

/** What `serialize` and `deserialize` hooks receive as their second argument. */
export interface EdgeContext {
  readonly dagId: string;
  /** The task that produced the value. */
  readonly producerTaskId: string;
  /** The task that takes the value as an argument. */
  readonly consumerTaskId: string;
  /** Node holding the produced value (where `serialize` runs). */
  readonly producer: string;
  /** Node running the consumer (where `deserialize` runs). */
  readonly consumer: string;
  readonly signal: AbortSignal;
}

// biome-ignore lint/suspicious/noExplicitAny: task functions take whatever their DAG passes them.
export type PlainFunction = (...args: any[]) => unknown;

/** A function that asked for its {@link TaskContext}; made by {@link withContext}. */
export interface ContextFunction {
  readonly [WANTS_CONTEXT]: true;
  // biome-ignore lint/suspicious/noExplicitAny: as PlainFunction, after the context.
  (context: TaskContext, ...args: any[]): unknown;
}

/** Anything that can be registered under a name: a plain function, sync or async, or a {@link withContext} one. */
export type TaskFunction = PlainFunction | ContextFunction;

/** The named functions a node can run. Every peer registers the same names; code never travels. */
export type FunctionRegistry = Readonly<Record<string, TaskFunction>>;

const WANTS_CONTEXT: unique symbol = Symbol.for('handout.wantsContext');

/**
 * Marks a function as wanting its {@link TaskContext} as the first argument, before the
 * task's `(...args, ...extraArgs)`. Plain functions keep their plain signature.
 *
 * @example
 * const functions = {
 *   slowSquare: withContext(async (ctx, n: number) => {
 *     await sleep(100, ctx.signal); // stops when the run is cancelled
 *     return n * n;
 *   }),
 * };
 */
export function withContext<A extends unknown[], R>(
  fn: (context: TaskContext, ...args: A) => R,
): ContextFunction {
  return Object.assign(fn, { [WANTS_CONTEXT]: true as const }) as unknown as ContextFunction;
}

/** Calls a registered function the way it asked to be called. */
export function invoke(fn: TaskFunction, args: unknown[], context: () => TaskContext): unknown {
  if ((fn as Partial<ContextFunction>)[WANTS_CONTEXT] === true) {
    return (fn as ContextFunction)(context(), ...args);
  }
  return (fn as PlainFunction)(...args);
}

/**
 * Calls a `serialize` / `deserialize` hook as `(value, edge)`. A function that asked for its
 * context (a pooled one, say) gets a task context for the consumer first, and the edge without
 * its signal, so it can travel.
 */
export function callHook(fn: TaskFunction, value: unknown, edge: EdgeContext, nodeId: string) {
  if ((fn as Partial<ContextFunction>)[WANTS_CONTEXT] === true) {
    const { signal, ...plain } = edge;
    const context = { dagId: edge.dagId, taskId: edge.consumerTaskId, nodeId, attempt: 1, signal };
    return (fn as ContextFunction)(context, value, plain);
  }
  return (fn as PlainFunction)(value, edge);
}

/** Looks a name up without reaching into `Object.prototype` (`toString`, `constructor`...). */
export function lookup(registry: FunctionRegistry, name: string): TaskFunction | undefined {
  if (!Object.hasOwn(registry, name)) return undefined;
  const fn = registry[name];
  return typeof fn === 'function' ? fn : undefined;
}

/** A module's exported functions (its default export's too), by name; other exports ignored. */
export function functionsOf(module: Record<string, unknown>): FunctionRegistry {
  const exported = { ...module, ...((module.default ?? {}) as Record<string, unknown>) };
  return Object.fromEntries(
    Object.entries(exported).filter(([, fn]) => typeof fn === 'function'),
  ) as FunctionRegistry;
}
