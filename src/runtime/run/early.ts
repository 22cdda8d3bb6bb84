import { isFree } from '../../schedule/placement.ts';
import type { Slot, TaskTable } from './task-table.ts';

/** A producer feeding at most this many tasks takes them along when they go early. */
const EARLY_FAN_OUT = 4;
/** A task with more inputs than this goes once they all exist, never early. */
const EARLY_FAN_IN = 64;

/**
 * The tasks that go ahead, before their inputs exist, once `placed` is placed: its waiting
 * dependents that have an {@link earlyPeer} the room has (`reachable`), then theirs, while the
 * run is under `cap` tasks in flight. The caller sends each one it is given (which places it)
 * before asking for the next. A list, not recursion: a chain of 100,000 tasks goes out without
 * deepening the stack.
 */
export function* ahead(
  table: TaskTable,
  placed: string,
  cap: number,
  reachable: (peer: string) => boolean,
  assigned?: (taskId: string) => string | undefined,
): Generator<[Slot, string]> {
  const sent = [placed];
  for (let i = 0; i < sent.length; i++) {
    for (const dependent of table.plan.dependents.get(sent[i] as string) ?? []) {
      const slot = table.slots.get(dependent) as Slot;
      if (slot.state !== 'waiting' || table.inFlight >= cap) continue;
      const peer = earlyPeer(table, slot, assigned);
      if (peer === undefined || !reachable(peer)) continue;
      if (slot.task.args.some((a) => a.serialize !== undefined)) continue;
      yield [slot, peer];
      sent.push(dependent);
    }
  }
}

/**
 * Where a task can go before its inputs exist, if anywhere: a pinned task whose producers are
 * all pinned, or a plain task (no pin, no cost) whose producers all sit on one peer and feed
 * few others: chains and small fan-outs follow their producer, so a small DAG runs on one peer
 * in one message. A producer's retries stay on its peer, so the wait cannot be in vain. Under
 * the caller's allocator (`assigned`), a task goes early only to the peer it was given, once
 * every producer is placed: where its producer sits says nothing then.
 */
export function earlyPeer(
  table: TaskTable,
  slot: Slot,
  assigned?: (taskId: string) => string | undefined,
): string | undefined {
  const ids = table.plan.deps.get(slot.task.id) ?? [];
  // A wide fan-in waits to be ready: asked again as each of its inputs is placed, it would
  // cost the square of its width.
  if (ids.length > EARLY_FAN_IN) return undefined;
  if (assigned !== undefined) {
    for (const id of ids) {
      const dep = table.slots.get(id) as Slot;
      if (dep.peer === undefined || dep.state === 'failed') return undefined;
    }
    return assigned(slot.task.id);
  }
  const pin = slot.task.node;
  if (pin !== undefined && typeof pin !== 'string') return undefined;
  if (pin === undefined && !isFree(slot.task.cost)) return undefined;
  let peer: string | undefined;
  for (const id of ids) {
    const dep = table.slots.get(id) as Slot;
    if (dep.peer === undefined || dep.state === 'failed') return undefined;
    if (typeof pin === 'string') {
      if (typeof dep.task.node !== 'string') return undefined;
      continue;
    }
    if (peer !== undefined && dep.peer !== peer) return undefined;
    if ((table.plan.dependents.get(id)?.length ?? 0) > EARLY_FAN_OUT) return undefined;
    peer = dep.peer;
  }
  return typeof pin === 'string' ? pin : peer;
}
