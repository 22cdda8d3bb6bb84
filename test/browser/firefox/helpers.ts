import type { TaskSpec } from '../../../src/index.ts';
import type { AnyTab } from '../room.ts';

/** For the Firefox project's specs: runs whose outcome is plain data, and what tabs hold. */

/**
 * Submits a DAG on a tab and resolves with how the run ended: its results, or its error (one
 * `submit` throws, for a function no peer has, included).
 */
export const outcome = (tab: AnyTab, dagId: string, tasks: TaskSpec[], options = {}) =>
  tab.page.evaluate(
    async ({ id, dagId, tasks, options }) => {
      try {
        const dag = window.harness.submit(id, dagId, tasks, options);
        return await window.harness.runs.get(dag)?.outcome;
      } catch (e) {
        const { name, code, message } = e as { name: string; code: string; message: string };
        return { ok: false as const, name, code, message };
      }
    },
    { id: tab.id, dagId, tasks, options },
  );

/** Bytes each peer sent to and received from the tab's node, by peer. */
export const traffic = (tab: AnyTab) =>
  tab.page.evaluate((id) => window.harness.nodes.get(id)?.traffic() ?? {}, tab.id);

/** The ids of the peers the tab's node knows. */
export const peersOf = (tab: AnyTab) =>
  tab.page.evaluate(
    (id) =>
      window.harness.nodes
        .get(id)
        ?.peers()
        .map((p) => p.id) ?? [],
    tab.id,
  );

/** `bytes(n)` summed by `sumBytes`, as the test functions compute them. */
export function bytesSum(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum = (sum + (i % 251)) % 1_000_003;
  return sum;
}
