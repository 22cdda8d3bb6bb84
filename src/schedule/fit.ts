/**
 * Whether a cost fits a peer, and how to say a cost in an error message: what placement and
 * the allocation checks share. A module of its own, small, because a lone node's page loads
 * the allocation checks and should not load placement with them. Pure.
 */
import type { Resources } from '../resources.ts';

/** Whether a peer's total capabilities could ever cover a cost. */
export function canEverFit(cost: Resources, capabilities: Resources): boolean {
  for (const [resource, amount] of Object.entries(cost)) {
    if (amount > 0 && !((capabilities[resource] ?? 0) >= amount)) return false;
  }
  return true;
}

/** Whether a cost fits in what is free now. */
export function fitsNow(cost: Resources, capabilities: Resources, used: Resources): boolean {
  for (const [resource, amount] of Object.entries(cost)) {
    if (amount > 0 && (used[resource] ?? 0) + amount > (capabilities[resource] ?? 0)) return false;
  }
  return true;
}

/** `cpu 2, gpu 1`, or `nothing`: a cost or capabilities in an error message. */
export function describeResources(resources: Resources): string {
  const parts = Object.entries(resources).map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}
