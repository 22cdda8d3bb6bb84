/**
 * Placement: which peer runs a task. Pure: it sees a snapshot of the peers and answers.
 *
 * - A pinned task runs on its peer, or fails with a reason if that peer is absent or can never
 *   fit its cost.
 * - Otherwise the candidates are the peers whose capabilities could ever cover the cost; none is
 *   a failure now. Among those with free capacity right now, the one holding the most bytes of
 *   the task's inputs wins, then the least loaded (of equally loaded peers, the orchestrator
 *   itself, then the lower id). When the inputs are small (under
 *   `LOCALITY_MIN_BYTES` in all) the holder wins only while it has at most `SMALL_INPUT_SLACK`
 *   more tasks than the least loaded peer: moving small data is cheaper than queueing. If no
 *   candidate has free capacity, the task waits.
 */

import type { Resources } from '../resources.ts';
import { canEverFit, describeResources, fitsNow } from './fit.ts';

export type { Resources };
export { canEverFit, describeResources, fitsNow };

export interface PeerLoad {
  readonly id: string;
  readonly capabilities: Resources;
  /** Resources claimed by tasks running or dispatched there. */
  readonly used: Resources;
  /** Tasks running or queued there: the tie-breaker between equally good peers. */
  readonly tasks: number;
}

/**
 * The room's peers as placement reads them: one by id, the least loaded with room for a cost, or
 * all of them. The orchestrator's book keeps them ordered by load, so a task is placed without
 * looking at every peer; {@link listView} answers the same questions over a plain list.
 */
export interface PeerView {
  get(id: string): PeerLoad | undefined;
  /** The least loaded peer whose free capacity covers `cost` now (ties: see {@link before}). */
  idlest(cost: Resources): PeerLoad | undefined;
  all(): readonly PeerLoad[];
}

/**
 * Which of two equally loaded peers goes first: `first` (the orchestrator itself: a task it
 * keeps needs no order, report or fetch over the wire), then the lower id.
 */
export function before(a: string, b: string, first?: string): boolean {
  if (a === first) return a !== b;
  if (b === first) return false;
  return a < b;
}

/** A view over a plain list: every question scans it (a handful of peers, tests, allocators). */
export function listView(peers: readonly PeerLoad[], first?: string): PeerView {
  return {
    get: (id) => peers.find((p) => p.id === id),
    idlest: (cost) => idlestOf(peers, cost, first),
    all: () => peers,
  };
}

/** The least loaded of `peers` with room for `cost` now, ties as {@link before} says: a scan. */
export function idlestOf(
  peers: Iterable<PeerLoad>,
  cost: Resources,
  first?: string,
): PeerLoad | undefined {
  let best: PeerLoad | undefined;
  for (const p of peers) {
    if (!fitsNow(cost, p.capabilities, p.used)) continue;
    if (
      best === undefined ||
      loadOf(p) < loadOf(best) ||
      (loadOf(p) === loadOf(best) && before(p.id, best.id, first))
    )
      best = p;
  }
  return best;
}

const asView = (peers: PeerView | readonly PeerLoad[]): PeerView =>
  'idlest' in peers ? peers : listView(peers);

export interface PlacementQuery {
  readonly cost: Resources;
  /** A peer id the task is pinned to (directly, or through its collocation group). */
  readonly pinned?: string | undefined;
  /** Bytes of the task's inputs each peer already holds. */
  readonly inputBytes?: ReadonlyMap<string, number> | undefined;
}

export type PlaceDecision =
  | { readonly kind: 'peer'; readonly peer: string }
  | { readonly kind: 'wait' }
  | { readonly kind: 'never'; readonly reason: string };

/** Inputs below this many bytes in all are cheap to move: they do not pull a task to a peer. */
export const LOCALITY_MIN_BYTES = 64 * 1024;
/** How many more tasks a holder of small inputs may have than the least loaded peer and still win. */
export const SMALL_INPUT_SLACK = 2;

export function place(query: PlacementQuery, peers: PeerView | readonly PeerLoad[]): PlaceDecision {
  const { cost, pinned } = query;
  const view = asView(peers);
  if (pinned !== undefined) {
    const peer = view.get(pinned);
    if (peer === undefined)
      return { kind: 'never', reason: `it is pinned to peer ${pinned}, which is not in the room` };
    if (!canEverFit(cost, peer.capabilities)) {
      return {
        kind: 'never',
        reason: `its cost ${describeResources(cost)} exceeds what peer ${pinned} has (${describeResources(peer.capabilities)})`,
      };
    }
    return { kind: 'peer', peer: pinned };
  }
  const idlest = view.idlest(cost);
  if (idlest === undefined) {
    // Nobody has room now (a scan, only then): does anyone ever?
    if (view.all().some((p) => canEverFit(cost, p.capabilities))) return { kind: 'wait' };
    return {
      kind: 'never',
      reason: `no peer in the room could ever cover its cost ${describeResources(cost)}`,
    };
  }
  let total = 0;
  for (const bytes of query.inputBytes?.values() ?? []) total += bytes;
  if (total === 0) return { kind: 'peer', peer: idlest.id };
  const held = (p: PeerLoad) => query.inputBytes?.get(p.id) ?? 0;
  // Large inputs pull the task to whoever holds most of them. Small ones pull only while that
  // peer is about as idle as the least loaded: fetches are saved, and a fan-out still spreads.
  // Only the holders of inputs can beat the least loaded: they are the only ones asked.
  let holder = idlest;
  for (const id of query.inputBytes?.keys() ?? []) {
    const p = view.get(id);
    if (p === undefined || !fitsNow(cost, p.capabilities, p.used)) continue;
    if (held(p) > held(holder) || (held(p) === held(holder) && loadOf(p) < loadOf(holder)))
      holder = p;
  }
  const closeEnough =
    tasksOf(holder) <= tasksOf(idlest) + SMALL_INPUT_SLACK && share(holder) <= share(idlest);
  return { kind: 'peer', peer: total >= LOCALITY_MIN_BYTES || closeEnough ? holder.id : idlest.id };
}

const tasksOf = (p: PeerLoad) => p.tasks;

/** How busy a peer is: the largest share of any resource it uses, then its task count. */
export function loadOf(p: PeerLoad): number {
  return share(p) * 1e6 + p.tasks;
}

function share(p: PeerLoad): number {
  let most = 0;
  for (const [resource, used] of Object.entries(p.used)) {
    const capacity = p.capabilities[resource] ?? 0;
    if (capacity > 0) most = Math.max(most, used / capacity);
  }
  return most;
}

/** Whether a cost asks for nothing (most tasks): no accounting needed. */
export function isFree(cost: Resources): boolean {
  for (const _ in cost) return false;
  return true;
}

/** `used` less `cost`: a task that ended gives its resources back. */
export function subtractCosts(used: Resources, cost: Resources): Resources {
  const out: Record<string, number> = { ...used };
  for (const [k, v] of Object.entries(cost)) out[k] = (out[k] ?? 0) - v;
  return out;
}

/** Adds costs (collocated tasks are placed with their costs merged). */
export function addCosts(...costs: Resources[]): Resources {
  const out: Record<string, number> = {};
  for (const cost of costs) for (const [k, v] of Object.entries(cost)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Handoff's `:first_available`: the first peer by id that could take the task now. */
export function placeFirstAvailable(
  query: PlacementQuery,
  given: PeerView | readonly PeerLoad[],
): PlaceDecision {
  const { cost, pinned } = query;
  const view = asView(given);
  const peers = view.all(); // first by id: a scan
  if (pinned !== undefined) {
    const peer = view.get(pinned);
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
