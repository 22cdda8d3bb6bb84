import type { Page } from '@playwright/test';
import { type BenchConfig, median, progress, round, type Scenario, summary } from './stats.ts';

/** A 10,000-task fan-out/fan-in DAG of trivial functions on one node, IndexedDB and memory. */
export async function localScenarios(page: Page, config: BenchConfig): Promise<Scenario[]> {
  const tasks = config.option('tasks', 10_000);
  const out: Scenario[] = [];
  for (const [name, store, target] of [
    ['local-idb', 'indexeddb', 10_000],
    ['local-memory', 'memory', 100_000],
  ] as const) {
    progress(`${name}: ${tasks} tasks × ${config.warmup + config.runs}`);
    const times = await page.evaluate((o) => window.bench.local(o), {
      store,
      tasks,
      runs: config.runs,
      warmup: config.warmup,
    });
    out.push({
      ...summary(
        name,
        'tasks/s',
        times.map((ms) => tasks / (ms / 1000)),
      ),
      anchor: null,
      ratio: null,
      target: `>= ${target.toLocaleString('en')} tasks/s`,
      note: `${round((median(times) * 1000) / tasks)} µs/task`,
    });
  }
  return out;
}
