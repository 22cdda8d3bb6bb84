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
export interface TaskSpec {
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
}
