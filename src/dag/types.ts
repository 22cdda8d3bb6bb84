/**
 * An argument of a task: the id of the producing task, or that id with conversion hooks.
 * `serialize` runs where the value was produced, `deserialize` where it is consumed; both are
 * names in the function registry and are called as `(value, ctx: EdgeContext)`.
 */
export type ArgRef = string | ArgEdge;

/** An argument with conversion hooks; see {@link ArgRef}. */
export interface ArgEdge {
  readonly from: string;
  readonly serialize?: string | undefined;
  readonly deserialize?: string | undefined;
}

/** Where a task must run: a node id, or wherever another task runs. */
export type Placement = string | { readonly collocatedWith: string };

/** One vertex of a DAG, as given to `Dag.add`. */
export interface TaskSpec extends StageSpec {
  /** Unique within the DAG; a non-empty string. */
  readonly id: string;
  /** Name of a function in the node's function registry. */
  readonly fn: string;
  /** Producer tasks whose results are passed first, in this order. @default [] */
  readonly args?: readonly ArgRef[] | undefined;
  /** Literal values passed after the producers' results. @default [] */
  readonly extraArgs?: readonly unknown[] | undefined;
  /** Resources the task occupies while it runs, by name (e.g. `{ cpu: 2 }`). @default {} */
  readonly cost?: Readonly<Record<string, number>> | undefined;
  /** Pin to a node id, or `{ collocatedWith: taskId }`. @default anywhere */
  readonly node?: Placement | undefined;
  /**
   * Evaluate inside each consumer instead of as a task of its own: never stored, scheduled or
   * reported in results. @default false
   */
  readonly inline?: boolean | undefined;
  /** Retries after the first failed attempt; overrides the run's `maxRetries`. */
  readonly maxRetries?: number | undefined;
  /** Pass the producers' results as one array (first argument) instead of one argument each. @default false */
  readonly argsAsList?: boolean | undefined;
  /**
   * Milliseconds an attempt's function may run before it fails with `TaskTimeoutError` (and its
   * `ctx.signal` aborts); overrides the run's `timeout`. A timed-out attempt counts as a failure
   * and is retried like one. @default no limit
   */
  readonly timeout?: number | undefined;
}

/**
 * An input of a pipeline (see `HandoutNode.stream`): a task with no function, fed by
 * `pipeline.push`. A DAG with inputs runs only as a pipeline.
 */
export interface InputSpec {
  readonly id: string;
  readonly input: true;
}

/**
 * How a task runs as a stage of a pipeline (see `HandoutNode.stream`); `execute` refuses a DAG
 * whose tasks use these.
 */
export interface StageSpec {
  /**
   * A registered function run once on each peer that hosts the stage, before it takes items;
   * what it returns reaches the stage's function as `ctx.state` (see `withContext`).
   */
  readonly init?: string | undefined;
  /** Items of this stage that may run at once on its peer. @default 1 */
  readonly parallelism?: number | undefined;
  /**
   * Items handed to the function at once: it gets an array (one entry per item: its argument,
   * or the array of its arguments when it takes several) and returns an array as long.
   */
  readonly batchSize?: number | undefined;
  /** Milliseconds a partial batch waits for more items. @default 5 */
  readonly batchTimeout?: number | undefined;
}

/** A task after validation: every optional field filled in, every argument an {@link ArgEdge}. */
export interface Task {
  readonly id: string;
  readonly fn: string;
  readonly args: readonly ArgEdge[];
  readonly extraArgs: readonly unknown[];
  readonly cost: Readonly<Record<string, number>>;
  readonly node: Placement | undefined;
  readonly inline: boolean;
  readonly maxRetries: number | undefined;
  readonly argsAsList: boolean;
  readonly timeout: number | undefined;
  /** A pipeline's input (no function; `fn` is empty): only given when true. */
  readonly input?: true | undefined;
  /** How it runs as a pipeline's stage; only given when the spec said so. */
  readonly stage?: StageSpec | undefined;
}
