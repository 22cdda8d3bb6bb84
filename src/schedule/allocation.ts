/**
 * Allocation strategies: how a run's tasks are given peers. `'load-balanced'` is
 * {@link place} (locality, then the least loaded); `'first-available'` is Handoff's (the first
 * peer by id with room for the task now); a function is the caller's own allocator, asked once
 * when the run starts (and again for the tasks of a peer that left), whose answer is checked
 * before anything runs. Pure.
 */
import type { Resources } from '../resources.ts';
import {
  canEverFit,
  describeResources,
  fitsNow,
  type PeerLoad,
  type PlaceDecision,
  type PlacementQuery,
} from './placement.ts';

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

/** Handoff's `:first_available`: the first peer by id that could take the task now. */
export function placeFirstAvailable(
  query: PlacementQuery,
  peers: readonly PeerLoad[],
): PlaceDecision {
  const { cost, pinned } = query;
  if (pinned !== undefined) {
    const peer = peers.find((p) => p.id === pinned);
    if (peer === undefined)
      return { kind: 'never', reason: `it is pinned to peer ${pinned}, which is not in the room` };
    if (!canEverFit(cost, peer.capabilities))
      return {
        kind: 'never',
        reason: `its cost ${describeResources(cost)} exceeds what peer ${pinned} has (${describeResources(peer.capabilities)})`,
      };
    return { kind: 'peer', peer: pinned };
  }
  let capable = false;
  let first: PeerLoad | undefined;
  for (const p of peers) {
    if (!canEverFit(cost, p.capabilities)) continue;
    capable = true;
    if (fitsNow(cost, p.capabilities, p.used) && (first === undefined || p.id < first.id))
      first = p;
  }
  if (!capable)
    return {
      kind: 'never',
      reason: `no peer in the room could ever cover its cost ${describeResources(cost)}`,
    };
  return first === undefined ? { kind: 'wait' } : { kind: 'peer', peer: first.id };
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
