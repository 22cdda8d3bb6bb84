import type { Plan } from '../../dag/index.ts';
import { DagValidationError } from '../../errors.ts';
import type { Allocation } from '../../schedule/allocation.ts';

// The public shape of a pipeline (`node.stream`): its options, items, stats and handle.

/** Options of `HandoutNode.stream`. */
export interface StreamOptions {
  /** Items admitted and not yet finished before `push` waits. @default 64 */
  readonly maxInFlight?: number | undefined;
  /** Retries of a stage's item after its first failed attempt (a task's own `maxRetries` wins). @default 0 */
  readonly maxRetries?: number | undefined;
  /** Milliseconds one item may take in one stage before that attempt fails (a task's `timeout` wins). */
  readonly timeout?: number | undefined;
  /** How stages get their peers, as for `execute`. @default 'load-balanced' */
  readonly allocation?: Allocation | undefined;
}

/** Options of {@link Pipeline.push}. */
export interface PushOptions {
  /** Gives up waiting for room (the item is then not admitted) when it aborts. */
  readonly signal?: AbortSignal | undefined;
}

/** One item out of a pipeline, in push order: its sink's value, or why it failed. */
export type StreamItem =
  | { readonly id: number; readonly value: unknown; readonly error?: undefined }
  | { readonly id: number; readonly error: Error; readonly value?: undefined };

/** Counts of one stage, as its orchestrator saw them. */
export interface StageStats {
  /** The peer hosting it now ('' while it is being placed). */
  readonly peer: string;
  readonly done: number;
  /** Attempts that failed (retried or not). */
  readonly failed: number;
  readonly inFlight: number;
}

/** What {@link Pipeline.stats} reports. */
export interface PipelineStats {
  readonly state: 'starting' | 'running' | 'draining' | 'stopped' | 'failed';
  readonly pushed: number;
  /** Items finished with a value. */
  readonly done: number;
  /** Items finished with an error. */
  readonly failed: number;
  readonly inFlight: number;
  readonly stages: Readonly<Record<string, StageStats>>;
}

/**
 * A running pipeline, made by `HandoutNode.stream`: push items in, read them out in push order
 * (`for await`, or `results()`), stop it. An item's value is its sink's result, or an object
 * of every sink's result by task id when the DAG has several sinks.
 */
export interface Pipeline extends AsyncIterable<StreamItem> {
  readonly id: string;
  /** Resolves once every stage is placed and its `init` ran; rejects if the pipeline failed. */
  readonly ready: Promise<void>;
  /**
   * Admits one item and resolves with its id (0, 1, 2...) once admitted: waits while
   * `maxInFlight` items are in flight. With one input, `value` is that input's value; with
   * several, an object with a value for each input, by id.
   */
  push(value: unknown, options?: PushOptions): Promise<number>;
  /** The items, in push order, as an async iterator (what `for await` uses). */
  results(): AsyncIterableIterator<StreamItem>;
  /**
   * Stops the pipeline: with `drain`, after the items in flight come out; else at once (items
   * in flight are dropped, pushes waiting are refused). Frees the stages on every peer.
   */
  stop(options?: { readonly drain?: boolean | undefined }): Promise<void>;
  stats(): PipelineStats;
}

/** `execute` refuses what only a pipeline can run: inputs fed by push, stage settings. */
export function refusePipelineParts(plan: Plan): void {
  for (const task of plan.tasks.values())
    if (task.input === true || task.stage !== undefined)
      throw new DagValidationError(
        'invalid_task',
        task.id,
        `task '${task.id}' is an input or has init, parallelism or batching, which only pipelines take: run this DAG with node.stream`,
      );
}
