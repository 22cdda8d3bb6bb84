import { DagValidationError } from '../errors.ts';
import type { Task } from './types.ts';

/** A validated DAG, with what a scheduler needs precomputed. */
export interface Plan {
  readonly tasks: ReadonlyMap<string, Task>;
  /** Every task, producers before consumers. */
  readonly order: readonly string[];
  /** The tasks that are scheduled (not inline), producers before consumers. */
  readonly scheduled: readonly string[];
  /** Scheduled task -> the distinct scheduled tasks it waits for, seen through inline tasks. */
  readonly deps: ReadonlyMap<string, readonly string[]>;
  /** Scheduled task -> the scheduled tasks waiting for it. */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
  /** Task -> the task at the end of its `collocatedWith` chain (itself when not collocated). */
  readonly collocationRoot: ReadonlyMap<string, string>;
}

/** Checks a DAG's relations and precomputes its {@link Plan}. Throws {@link DagValidationError}. */
export function planDag(tasks: ReadonlyMap<string, Task>): Plan {
  const consumers = new Map<string, string[]>();
  for (const task of tasks.values()) consumers.set(task.id, []);
  for (const task of tasks.values()) {
    for (const { from } of task.args) {
      const list = consumers.get(from);
      if (list === undefined) {
        throw new DagValidationError(
          'missing_dependency',
          task.id,
          `task '${task.id}' takes an argument from '${from}', which is not in the DAG`,
        );
      }
      list.push(task.id);
    }
  }
  const order = topologicalOrder(tasks, consumers);
  const collocationRoot = collocation(tasks);
  for (const task of tasks.values()) {
    if (task.inline && consumers.get(task.id)?.length === 0) {
      throw new DagValidationError(
        'invalid_task',
        task.id,
        `task '${task.id}' is inline but nothing consumes it, so it would never run`,
      );
    }
  }
  const { deps, dependents } = scheduledDeps(tasks, order);
  const scheduled = order.filter((id) => !tasks.get(id)?.inline);
  return { tasks, order, scheduled, deps, dependents, collocationRoot };
}

/** Reverse post-order of a depth-first walk; reports the first cycle met as a full path. */
function topologicalOrder(
  tasks: ReadonlyMap<string, Task>,
  consumers: ReadonlyMap<string, readonly string[]>,
): string[] {
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: finished
  const post: string[] = [];
  for (const start of tasks.keys()) {
    if (state.has(start)) continue;
    // An explicit stack: a chain of many thousand tasks must not overflow the call stack.
    const stack: { id: string; next: number }[] = [{ id: start, next: 0 }];
    state.set(start, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: string; next: number };
      const out = consumers.get(top.id) ?? [];
      const child = out[top.next++];
      if (child === undefined) {
        state.set(top.id, 2);
        post.push(top.id);
        stack.pop();
      } else if (state.get(child) === 1) {
        const from = stack.findIndex((frame) => frame.id === child);
        const cycle = [...stack.slice(from).map((frame) => frame.id), child];
        throw new DagValidationError(
          'cycle',
          child,
          `cycle: ${cycle.join(' -> ')} (each task feeds the next)`,
          cycle,
        );
      } else if (!state.has(child)) {
        state.set(child, 1);
        stack.push({ id: child, next: 0 });
      }
    }
  }
  return post.reverse();
}

function collocation(tasks: ReadonlyMap<string, Task>): Map<string, string> {
  const roots = new Map<string, string>();
  for (const task of tasks.values()) {
    const chain = [task.id];
    let current = task;
    while (current.node !== undefined && typeof current.node === 'object') {
      const targetId = current.node.collocatedWith;
      const target = tasks.get(targetId);
      if (target === undefined) {
        throw new DagValidationError(
          'missing_dependency',
          current.id,
          `task '${current.id}' is collocated with '${targetId}', which is not in the DAG`,
        );
      }
      if (target.inline) {
        throw new DagValidationError(
          'invalid_task',
          current.id,
          `task '${current.id}' is collocated with '${targetId}', which is inline and runs nowhere of its own`,
        );
      }
      if (chain.includes(targetId)) {
        const cycle = [...chain.slice(chain.indexOf(targetId)), targetId];
        throw new DagValidationError(
          'cycle',
          targetId,
          `collocation cycle: ${cycle.join(' -> ')}`,
          cycle,
        );
      }
      chain.push(targetId);
      current = target;
    }
    roots.set(task.id, current.id);
  }
  return roots;
}

function scheduledDeps(tasks: ReadonlyMap<string, Task>, order: readonly string[]) {
  // In topological order each producer's own needs are known before its consumers ask.
  const needs = new Map<string, readonly string[]>();
  const deps = new Map<string, readonly string[]>();
  const dependents = new Map<string, string[]>();
  for (const id of order) {
    const task = tasks.get(id) as Task;
    const set = new Set<string>();
    for (const { from } of task.args) {
      const producer = tasks.get(from) as Task;
      if (producer.inline) for (const dep of needs.get(from) ?? []) set.add(dep);
      else set.add(from);
    }
    const list = [...set];
    needs.set(id, list);
    if (task.inline) continue;
    deps.set(id, list);
    dependents.set(id, []);
    for (const dep of list) dependents.get(dep)?.push(id);
  }
  return { deps, dependents };
}
