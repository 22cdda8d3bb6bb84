import type { Plan, Task } from '../../dag/index.ts';
import { addCosts, type Resources } from '../../schedule/placement.ts';

/** Where each result lives: `[dagId, taskId] -> holders and size`, for one DAG. */
export interface Registry {
  readonly holders: Map<string, Set<string>>;
  readonly bytes: Map<string, number>;
}

/** Records that `peer` holds `dataId`. */
export function hold(registry: Registry, dataId: string, peer: string, bytes: number): void {
  const holders = registry.holders.get(dataId) ?? new Set();
  holders.add(peer);
  registry.holders.set(dataId, holders);
  registry.bytes.set(dataId, bytes);
}

/** The peer a collocation group's root is pinned to, if any. */
export function pinOf(plan: Plan, root: string): string | undefined {
  const node = plan.tasks.get(root)?.node;
  return typeof node === 'string' ? node : undefined;
}

/** Each collocation group's cost, its members' costs merged (as Handoff does), by root. */
export function groupCosts(plan: Plan): Map<string, Resources> {
  const out = new Map<string, Resources>();
  for (const [id, root] of plan.collocationRoot) {
    const task = plan.tasks.get(id);
    if (task === undefined || task.inline) continue;
    const sum = out.get(root);
    out.set(root, sum === undefined ? task.cost : addCosts(sum, task.cost));
  }
  return out;
}

/** Bytes of a task's inputs each peer holds. */
export function inputBytes(plan: Plan, registry: Registry, taskId: string): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const dep of plan.deps.get(taskId) ?? []) {
    const size = registry.bytes.get(dep) ?? 0;
    for (const holder of registry.holders.get(dep) ?? [])
      bytes.set(holder, (bytes.get(holder) ?? 0) + size);
  }
  return bytes;
}

/** The inline tasks a task evaluates itself, through inline chains. */
export function inlineClosure(plan: Plan, task: Task): Task[] {
  // Most tasks have no inline producer: they cost no map.
  if (!task.args.some(({ from }) => plan.tasks.get(from)?.inline === true)) return [];
  const out = new Map<string, Task>();
  const visit = (t: Task) => {
    for (const { from } of t.args) {
      const producer = plan.tasks.get(from) as Task;
      if (producer.inline && !out.has(from)) {
        out.set(from, producer);
        visit(producer);
      }
    }
  };
  visit(task);
  return [...out.values()];
}
