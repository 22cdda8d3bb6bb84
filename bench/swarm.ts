import type { Page } from '@playwright/test';
import {
  type BenchConfig,
  chainWarmup,
  coldNote,
  repeat,
  type Scenario,
  summary,
} from './stats.ts';

/**
 * Distributed scenarios over four tabs: dispatch of independent tasks, a chain across two
 * pinned tabs and unpinned, and many small DAGs submitted at once from two tabs.
 */
export async function swarmScenarios(
  tabs: Page[],
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  const room = `swarm-${Date.now()}`;
  const ids = await Promise.all(
    tabs.map((t) =>
      t.evaluate(({ c, r }) => window.swarm.swarmJoin(c, r), { c: coordinator, r: room }),
    ),
  );
  await Promise.all(tabs.map((t) => t.evaluate((n) => window.swarm.swarmWait(n), tabs.length - 1)));
  const [first, second] = tabs as [Page, Page];
  const out: Scenario[] = [];

  const tasks = config.option('dispatch-tasks', 5000);
  const dispatch = await repeat(config, `dispatch ${tasks} tasks over ${tabs.length} tabs`, () =>
    first.evaluate((n) => window.swarm.dispatch(n), tasks),
  );
  out.push({
    ...summary(
      'dispatch',
      'tasks/s',
      dispatch.map((d) => tasks / (d.ms / 1000)),
    ),
    anchor: null,
    ratio: null,
    target: '>= 5,000 tasks/s',
    note: `${tasks} independent trivial tasks, ${dispatch[0]?.peers ?? 0} tabs used`,
  });

  const length = config.option('chain', 200);
  const pins = [ids[1] as string, ids[2] as string];
  const coldHops: number[] = [];
  const hops = await repeat(
    config,
    `chain of ${length} pinned across two tabs`,
    () => first.evaluate(({ n, p }) => window.swarm.chain(n, p), { n: length, p: pins }),
    { warmup: chainWarmup(config), cold: coldHops },
  );
  out.push({
    ...summary(
      'chain-hop',
      'ms/hop',
      hops.map((ms) => ms / length),
    ),
    anchor: null,
    ratio: null,
    target: '<= 2 ms',
    note: `${length} dependent tasks, alternately pinned on two tabs: every hop crosses peers${coldNote(coldHops, length)}`,
  });
  const coldLocal: number[] = [];
  const local = await repeat(
    config,
    `chain of ${length} unpinned`,
    () => first.evaluate((n) => window.swarm.chain(n, null), length),
    { warmup: chainWarmup(config), cold: coldLocal },
  );
  out.push({
    ...summary(
      'chain-local',
      'ms/task',
      local.map((ms) => ms / length),
    ),
    anchor: null,
    ratio: null,
    note: `${length} dependent tasks, placed freely${coldNote(coldLocal, length)}`,
  });

  const count = config.option('dags', 1000);
  const many = await repeat(config, `${count} DAGs of 5 tasks from two tabs`, async () => {
    const started = Date.now();
    const both = await Promise.all(
      [first, second].map((t) => t.evaluate((n) => window.swarm.manyDags(n), count / 2)),
    );
    return { ms: Date.now() - started, correct: both.every((b) => b.correct) };
  });
  const correct = many.every((m) => m.correct);
  out.push({
    ...summary(
      'many-dags',
      'tasks/s',
      many.map((m) => (count * 5) / (m.ms / 1000)),
    ),
    anchor: null,
    ratio: null,
    target: '>= 5,000 tasks/s',
    note: `${count} DAGs × 5 tasks, half from each of two tabs, over ${tabs.length} tabs; every result right: ${correct ? 'yes' : 'NO'}`,
  });
  return out;
}
