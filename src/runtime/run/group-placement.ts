import type { Plan } from '../../dag/index.ts';
import { AllocationError } from '../../errors.ts';
import {
  type Allocation,
  type Allocator,
  allocate,
  allocatorTask,
} from '../../schedule/allocation.ts';
import {
  isFree,
  type PeerLoad,
  type PeerView,
  place,
  placeFirstAvailable,
  type Resources,
} from '../../schedule/placement.ts';
import { groupCosts, inputBytes, pinOf, type Registry } from './run-plan.ts';

export type GroupDecision =
  | { readonly kind: 'peer'; readonly peer: string }
  | { readonly kind: 'wait' }
  | { readonly kind: 'never'; readonly error: AllocationError };

/**
 * How long a group pinned to a peer that left waits for it to come back before its run fails
 * with `AllocationError`. The orchestrator looks again on every change and every sweep.
 */
const PIN_GRACE_MS = 5000;

/**
 * Where each collocation group of a run goes: chosen once for the group (its members' costs
 * merged, its pin kept), then sticky, so a group's tasks and a task's retries land on one peer
 * until that peer leaves. Chosen by the run's allocation: load-balanced ({@link place}), the
 * first available peer by id, or the caller's allocator (asked for every task when the run
 * starts, see {@link allocateAll}, and again for a group whose peer left).
 */
export class GroupPlacement {
  readonly #peerOf = new Map<string, string>();
  readonly #costs: Map<string, Resources>;
  /** Peers that groups are pinned to, gone since when. */
  readonly #absentSince = new Map<string, number>();

  readonly #place: typeof place;
  readonly #allocator: Allocator | undefined;
  /** With the caller's allocator, the peer it gave a task's group (where it may go early). */
  readonly assigned: ((taskId: string) => string | undefined) | undefined;

  constructor(
    readonly plan: Plan,
    readonly registry: Registry,
    allocation: Allocation = 'load-balanced',
  ) {
    this.#costs = groupCosts(plan);
    this.#place = allocation === 'first-available' ? placeFirstAvailable : place;
    this.#allocator = typeof allocation === 'function' ? allocation : undefined;
    if (this.#allocator !== undefined)
      this.assigned = (taskId) => this.#peerOf.get(this.#root(taskId));
  }

  /**
   * With the caller's allocator: asks it where every scheduled task goes and checks the answer
   * (peers in the room, pins kept, groups together, costs the peer could ever cover). Returns
   * the first task it got wrong; nothing runs then.
   */
  allocateAll(peers: readonly PeerLoad[]): AllocationError | undefined {
    if (this.#allocator === undefined) return this.unplaceable(peers, this.plan.scheduled);
    const tasks = this.plan.scheduled.map((id) => allocatorTask(this.plan, id));
    return this.#ask(this.#allocator, tasks, peers);
  }

  /** The peer a ready task goes to now, or why it waits or can never go. */
  decide(taskId: string, peers: PeerView): GroupDecision {
    const root = this.#root(taskId);
    const chosen = this.#peerOf.get(root);
    const pinned = pinOf(this.plan, root);
    if (pinned !== undefined && peers.get(pinned) === undefined) {
      // Pinned to a peer that left mid-run: it may come back (a reload, a link that returns over
      // WebRTC). After a grace the placement below fails the run: its pin is not in the room.
      const now = Date.now();
      const since = this.#absentSince.get(pinned) ?? now;
      this.#absentSince.set(pinned, since);
      if (now - since < PIN_GRACE_MS) return { kind: 'wait' };
    } else {
      if (pinned !== undefined) this.#absentSince.delete(pinned);
      if (chosen !== undefined) return { kind: 'peer', peer: chosen };
    }
    if (this.#allocator !== undefined) {
      // Its peer left (or it was never asked): the allocator says where the group goes now.
      const error = this.#ask(this.#allocator, [allocatorTask(this.plan, taskId)], peers.all());
      if (error !== undefined) return { kind: 'never', error };
      return { kind: 'peer', peer: this.#peerOf.get(root) as string };
    }
    const decision = this.#place(
      {
        cost: this.#costs.get(root) ?? {},
        pinned,
        // Only load-balanced placement weighs where the inputs are.
        inputBytes:
          this.#place === place ? inputBytes(this.plan, this.registry, taskId) : undefined,
      },
      peers,
    );
    if (decision.kind === 'wait') return decision;
    if (decision.kind === 'never')
      return { kind: 'never', error: new AllocationError(taskId, pinned, decision.reason) };
    this.#peerOf.set(root, decision.peer);
    return { kind: 'peer', peer: decision.peer };
  }

  /** The task was sent to `peer` by other means (early dispatch). */
  set(taskId: string, peer: string): void {
    this.#peerOf.set(taskId, peer);
  }

  /** A peer left: the groups chosen for it (unless pinned there) may go elsewhere. */
  forget(peer: string): void {
    for (const [root, chosen] of this.#peerOf)
      if (chosen === peer && pinOf(this.plan, root) === undefined) this.#peerOf.delete(root);
  }

  /** The first task that could never be placed in this room (on idle peers), if any. */
  unplaceable(peers: readonly PeerLoad[], taskIds: readonly string[]): AllocationError | undefined {
    const idle = peers.map((p) => ({ ...p, used: {}, tasks: 0 }));
    for (const id of taskIds) {
      const root = this.#root(id);
      const pinned = pinOf(this.plan, root);
      const cost = this.#costs.get(root) ?? {};
      // Free and unpinned: any peer takes it (the common case, asked once per task).
      if (pinned === undefined && isFree(cost) && idle.length > 0) continue;
      const decision = this.#place({ cost, pinned }, idle);
      if (decision.kind === 'never') return new AllocationError(id, pinned, decision.reason);
    }
    return undefined;
  }

  #ask(
    allocator: Allocator,
    tasks: Parameters<Allocator>[0],
    peers: readonly PeerLoad[],
  ): AllocationError | undefined {
    const answer = allocate(allocator, tasks, peers, (root) => this.#costs.get(root) ?? {});
    if (!(answer instanceof Map))
      return new AllocationError(answer.taskId, answer.pinned, answer.reason);
    for (const [root, peer] of answer) this.#peerOf.set(root, peer);
    return undefined;
  }

  #root(taskId: string): string {
    return this.plan.collocationRoot.get(taskId) ?? taskId;
  }
}
