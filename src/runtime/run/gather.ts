import { isLoss } from '../base/loss.ts';
import type { RunResult, RunStatus } from '../base/run-handle.ts';
import type { TaskTable } from './task-table.ts';

/** Where each input of a task lives: its holders, else the peer it was sent to. */
export function locationsOf(table: TaskTable, taskId: string): Record<string, string[]> {
  const locations: Record<string, string[]> = {};
  for (const dep of table.plan.deps.get(taskId) ?? []) {
    const holders = [...(table.registry.holders.get(dep) ?? [])];
    const producer = table.slots.get(dep)?.peer;
    locations[dep] = holders.length > 0 || producer === undefined ? holders : [producer];
  }
  return locations;
}

/** Each task's state, peer and failures, as `status()` reports them. */
export function taskStatus(table: TaskTable): RunStatus['tasks'] {
  return Object.fromEntries(
    [...table.slots].map(([id, s]) => [id, { state: s.state, peer: s.peer, failures: s.failures }]),
  );
}

/** What a run resolves to: the results collected and where each task ran. */
export function runResult(
  dagId: string,
  table: TaskTable,
  results: [string, unknown][],
): RunResult {
  const allocations = [...table.slots].map(([id, s]) => [id, s.peer as string]);
  return {
    dagId,
    results: Object.fromEntries(results),
    allocations: Object.fromEntries(allocations),
  };
}

/**
 * The results a finished run collects (`collect`: all, the sinks, or none), each from memory
 * or from any peer holding it; those no holder could provide are listed as lost (the holders
 * that failed are forgotten), so the run makes them again.
 */
export async function gather(
  table: TaskTable,
  fetch: (peer: string, taskId: string) => Promise<unknown>,
): Promise<{ results: [string, unknown][]; lost: string[] }> {
  const { collect, plan, registry, values } = table;
  const wanted =
    collect === 'none'
      ? []
      : [...table.slots.keys()].filter(
          (id) => collect === 'all' || (plan.dependents.get(id)?.length ?? 0) === 0,
        );
  const lost: string[] = [];
  // Results carried in reports are read at once; only the others cost a promise each.
  const results = wanted.map((id): [string, unknown] => [id, values.get(id)]);
  const elsewhere = results.filter(([id]) => !values.has(id));
  await Promise.all(
    elsewhere.map(async (entry) => {
      const id = entry[0];
      for (const holder of byProducer(table, id)) {
        try {
          entry[1] = await fetch(holder, id);
          return;
        } catch (error) {
          if (!isLoss(error)) throw error;
          registry.holders.get(id)?.delete(holder);
        }
      }
      lost.push(id);
    }),
  );
  return { results, lost };
}

/**
 * A result's holders, the peer that made it first: which consumer's report arrived first
 * must not decide whose link carries the result home.
 */
function byProducer(table: TaskTable, id: string): string[] {
  const holders = [...(table.registry.holders.get(id) ?? [])];
  const maker = table.slots.get(id)?.peer;
  return maker !== undefined && holders.includes(maker)
    ? [maker, ...holders.filter((h) => h !== maker)]
    : holders;
}
