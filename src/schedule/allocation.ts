/**
 * Allocation strategies: how a run's tasks are given peers. `'load-balanced'` is `place`
 * (locality, then the least loaded) and `'first-available'` is `placeFirstAvailable` (Handoff's:
 * the first peer by id with room for the task now), both in `placement.ts`; a function is the
 * caller's own allocator, asked once when the run starts (and again for the tasks of a peer that
 * left), whose answer is checked here before anything runs. Kept apart from placement so that a
 * lone node's page, which checks an allocator's answer, does not load placement. Pure.
 */
import type { Plan } from '../dag/index.ts';
import type { Resources } from '../resources.ts';
import { canEverFit, describeResources } from './fit.ts';
import type { PeerLoad } from './placement.ts';

/** A scheduled task as an allocator sees it. */
export interface AllocatorTask {
  readonly id: string;
  readonly fn: string;
  /** Its own cost; a collocation group is checked with its members' costs merged. */
  readonly cost: Resources;
  /** The peer it is pinned to (directly or through its collocation group). */
  readonly node?: string | undefined;
  /** The task its collocation group is placed with (the end of its `collocatedWith` chain). */
  readonly collocatedWith?: string | undefined;
  /** The scheduled tasks whose results it takes. */
  readonly deps: readonly string[];
}

/** A peer as an allocator sees it: what it has, what is claimed there now, how many tasks. */
export type AllocatorPeer = PeerLoad;

/**
 * The caller's allocator: a peer id for every task it is given (a record or a Map by task id; a
 * task left out fails the run). Runs on the orchestrating node, synchronously; throwing fails
 * the run with `AllocationError`.
 */
export type Allocator = (
  tasks: readonly AllocatorTask[],
  peers: readonly AllocatorPeer[],
) => Readonly<Record<string, string | undefined>> | ReadonlyMap<string, string>;

/** How a run's tasks get their peers. @default 'load-balanced' */
export type Allocation = 'load-balanced' | 'first-available' | Allocator;

/** Throws `RangeError` for an allocation that is neither a known name nor a function. */
export function checkAllocationOption(allocation: unknown): void {
  if (
    allocation !== undefined &&
    allocation !== 'load-balanced' &&
    allocation !== 'first-available' &&
    typeof allocation !== 'function'
  ) {
    throw new RangeError(
      `allocation must be 'load-balanced', 'first-available' or a function, got ${String(allocation)}`,
    );
  }
}

/** A task the allocator's answer cannot stand for, and why. */
export interface Misallocation {
  readonly taskId: string;
  readonly pinned: string | undefined;
  readonly reason: string;
}

/**
 * Asks the allocator about `tasks` and checks its answer: a peer in the room for every task,
 * pins kept, a collocation group on one peer, and no group on a peer that could never cover its
 * merged cost. Returns each group root's peer, or the first task that is misallocated.
 */
export function allocate(
  allocator: Allocator,
  tasks: readonly AllocatorTask[],
  peers: readonly PeerLoad[],
  groupCost: (root: string) => Resources,
): Map<string, string> | Misallocation {
  let answer: ReturnType<Allocator>;
  try {
    answer = allocator(tasks, peers);
  } catch (error) {
    const first = tasks[0];
    return {
      taskId: first?.id ?? '',
      pinned: first?.node,
      reason: `the allocator threw: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (typeof (answer as { then?: unknown } | null)?.then === 'function') {
    const first = tasks[0];
    const reason = 'the allocator returned a promise; it must answer synchronously';
    return { taskId: first?.id ?? '', pinned: first?.node, reason };
  }
  const peerOf = (id: string): unknown =>
    answer instanceof Map
      ? answer.get(id)
      : typeof answer === 'object' && answer !== null && Object.hasOwn(answer, id)
        ? (answer as Record<string, unknown>)[id]
        : undefined;
  const byId = new Map(peers.map((p) => [p.id, p]));
  const roots = new Map<string, string>();
  for (const task of tasks) {
    const chosen = peerOf(task.id);
    const wrong = (reason: string): Misallocation => ({
      taskId: task.id,
      pinned: task.node,
      reason,
    });
    if (typeof chosen !== 'string') return wrong('the allocator gave it no peer');
    const peer = byId.get(chosen);
    if (peer === undefined)
      return wrong(`the allocator chose peer ${chosen}, which is not in the room`);
    if (task.node !== undefined && chosen !== task.node)
      return wrong(`it is pinned to peer ${task.node}, but the allocator chose ${chosen}`);
    const root = task.collocatedWith ?? task.id;
    const withGroup = roots.get(root);
    if (withGroup !== undefined && withGroup !== chosen)
      return wrong(
        `it is collocated with ${root}, placed on ${withGroup}, but the allocator chose ${chosen}`,
      );
    const cost = groupCost(root);
    if (!canEverFit(cost, peer.capabilities))
      return wrong(
        `the allocator over-committed peer ${chosen}: its cost ${describeResources(cost)} exceeds what that peer has (${describeResources(peer.capabilities)})`,
      );
    roots.set(root, chosen);
  }
  return roots;
}

/** A scheduled task as an allocator sees it: its pin and group are its collocation root's. */
export function allocatorTask(plan: Plan, taskId: string): AllocatorTask {
  const task = plan.tasks.get(taskId);
  const root = plan.collocationRoot.get(taskId) ?? taskId;
  const pin = plan.tasks.get(root)?.node;
  return {
    id: taskId,
    fn: task?.fn ?? '',
    cost: task?.cost ?? {},
    node: typeof pin === 'string' ? pin : undefined,
    collocatedWith: root === taskId ? undefined : root,
    deps: plan.deps.get(taskId) ?? [],
  };
}
