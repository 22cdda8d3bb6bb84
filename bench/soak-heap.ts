import type { Page } from '@playwright/test';
import { type BenchConfig, progress, round, type Scenario } from './stats.ts';

/** The JS heap a page uses after a forced garbage collection, in bytes (DevTools protocol). */
async function heapAfterGc(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    return usedSize;
  } finally {
    await cdp.detach();
  }
}

/**
 * soak-heap: a long life. `count` small DAGs (5 tasks, every other one with `collect: 'none'`)
 * from one tab through a room of four, then the heap of each tab after a forced garbage
 * collection, beside the same figure after the first tenth. Finished runs' registries, waits,
 * caches and timers must not pile up: the aim is growth of at most 10%.
 */
export async function soakHeapScenarios(
  tabs: Page[],
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  const count = config.option('soak-dags', config.quick ? 2000 : 10_000);
  const first = Math.max(1, Math.round(count / 10));
  const room = `soak-${Date.now()}`;
  await Promise.all(
    tabs.map((t) =>
      t.evaluate(({ c, r }) => window.swarm.swarmJoin(c, r), { c: coordinator, r: room }),
    ),
  );
  await Promise.all(tabs.map((t) => t.evaluate((n) => window.swarm.swarmWait(n), tabs.length - 1)));
  const [orchestrator] = tabs as [Page];
  const run = (n: number, offset: number) =>
    orchestrator.evaluate(({ n, offset }) => window.swarm.soak(n, 50, offset), { n, offset });
  progress(`soak-heap: ${first} DAGs`);
  let correct = await run(first, 0);
  const early = await Promise.all(tabs.map(heapAfterGc));
  progress(`soak-heap: ${count - first} more DAGs`);
  correct = (await run(count - first, first)) && correct;
  const late = await Promise.all(tabs.map(heapAfterGc));
  const growth = late.map((bytes, i) => (bytes / (early[i] as number) - 1) * 100);
  const worst = Math.max(...growth);
  const mib = (b: number) => round(b / 2 ** 20);
  const each = tabs
    .map(
      (_, i) =>
        `${i === 0 ? 'orchestrator' : `worker ${i}`} ${mib(early[i] as number)} -> ${mib(late[i] as number)} MiB`,
    )
    .join(', ');
  return [
    {
      name: 'soak-heap',
      unit: '% heap growth',
      median: round(worst),
      min: round(Math.min(...growth)),
      max: round(worst),
      runs: 1,
      anchor: null,
      ratio: null,
      target: '<= 10%',
      note: `${count} DAGs of 5 tasks (half collect: 'none') from one tab over ${tabs.length} tabs; heap after GC at ${first} DAGs and at ${count}: ${each}; every result right: ${correct ? 'yes' : 'NO'}`,
    },
  ];
}
