import { DagValidationError } from '../errors.ts';
import { type Plan, planDag } from './plan.ts';
import { normalizeTask } from './task.ts';
import type { InputSpec, Task, TaskSpec } from './types.ts';

/**
 * A graph of tasks with an id that scopes every piece of data the run produces.
 *
 * @example
 * const dag = new Dag();
 * dag.add({ id: 'src', fn: 'identity', extraArgs: [42] });
 * dag.add({ id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2] });
 */
/** DAGs whose id `new Dag()` generated: no run of that id can have happened before. */
const generated = new WeakSet<Dag>();

/** Whether the DAG's id was generated (rather than given by the caller). */
export function hasGeneratedId(dag: Dag): boolean {
  return generated.has(dag);
}

export class Dag {
  /** `crypto.randomUUID()` unless given; a caller who gives one owns its uniqueness. */
  readonly id: string;
  readonly #tasks = new Map<string, Task>();
  #plan: Plan | undefined;

  constructor(given?: string) {
    const id = given ?? crypto.randomUUID();
    if (given === undefined) generated.add(this);
    if (typeof id !== 'string' || id.length === 0 || id.startsWith('\u0000')) {
      throw new DagValidationError(
        'invalid_task',
        '',
        'a DAG id must be a non-empty string not starting with NUL (those are Handout’s own)',
      );
    }
    this.id = id;
  }

  /**
   * Adds a task. Throws {@link DagValidationError} (`duplicate_task`, `invalid_task`) at once;
   * relations between tasks are checked by {@link Dag.validate}, so tasks may come in any order.
   */
  add(spec: TaskSpec | InputSpec): this {
    const task = normalizeTask(spec);
    if (this.#tasks.has(task.id)) {
      throw new DagValidationError(
        'duplicate_task',
        task.id,
        `DAG ${this.id} already has a task '${task.id}'`,
      );
    }
    this.#tasks.set(task.id, task);
    this.#plan = undefined;
    return this;
  }

  /** The tasks, in the order they were added. */
  get tasks(): ReadonlyMap<string, Task> {
    return this.#tasks;
  }

  get size(): number {
    return this.#tasks.size;
  }

  /**
   * Checks dependencies, cycles and placements, and returns the execution plan.
   * Throws {@link DagValidationError}.
   */
  validate(): Plan {
    this.#plan ??= planDag(this.#tasks);
    return this.#plan;
  }
}
