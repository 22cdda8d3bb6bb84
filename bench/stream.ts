import type { Page } from '@playwright/test';
import { type BenchConfig, repeat, round, type Scenario, summary } from './stats.ts';

/**
 * Pipelines over three tabs: items through a 3-stage pipeline (one trivial stage per tab),
 * the same work as one small DAG per item through `execute`, and per-item latency at a steady
 * rate. Dask does the same per item (`stream` in dask_bench.py), in the same run.
 */
export async function streamScenarios(
  tabs: Page[],
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  const room = `stream-${Date.now()}`;
  const ids = await Promise.all(
    tabs.map((t) =>
      t.evaluate(({ c, r }) => window.swarm.swarmJoin(c, r), { c: coordinator, r: room }),
    ),
  );
  await Promise.all(tabs.map((t) => t.evaluate((n) => window.swarm.swarmWait(n), tabs.length - 1)));
  const first = tabs[0] as Page;
  const items = config.option('stream-items', config.quick ? 2000 : 5000);
  const check = (runs: { correct: boolean }[], what: string) => {
    if (!runs.every((r) => r.correct)) throw new Error(`${what} gave a wrong item`);
  };
  const streamed = await repeat(config, `${items} items through a 3-stage pipeline`, () =>
    first.evaluate(({ n, pins }) => window.swarm.streamItems(n, pins), { n: items, pins: ids }),
  );
  check(streamed, 'stream');
  const asDags = await repeat(config, `${items} items as one DAG each`, () =>
    first.evaluate(({ n, pins }) => window.swarm.streamAsDags(n, pins), { n: items, pins: ids }),
  );
  check(asDags, 'stream-as-dags');
  const rate = (runs: { ms: number }[]) => runs.map((r) => items / (r.ms / 1000));
  const stream = summary('stream', 'items/s', rate(streamed));
  const dags = summary('stream-as-dags', 'items/s', rate(asDags));
  const out: Scenario[] = [
    {
      ...stream,
      anchor: null,
      ratio: null,
      target: '>= 10x Dask',
      note: `${items} items, 3 trivial stages pinned one per tab (${tabs.length} tabs), maxInFlight 64; ${round(stream.median / dags.median)}x stream-as-dags (aim >= 5x)`,
    },
    {
      ...dags,
      anchor: { name: 'stream', median: stream.median },
      ratio: round(dags.median / stream.median),
      target: '<= 0.2 (stream >= 5x)',
      note: `the same ${items} items, one 4-task DAG each through execute (64 at once), same pins`,
    },
  ];
  const count = config.option('latency-items', config.quick ? 200 : 500);
  const perSecond = config.option('latency-rate', 200);
  const latencies = await repeat(config, `${count} items at ${perSecond}/s`, () =>
    first.evaluate(({ n, r, pins }) => window.swarm.streamLatency(n, r, pins), {
      n: count,
      r: perSecond,
      pins: ids,
    }),
  );
  const pick = (q: number) =>
    latencies.map((runs) => {
      const sorted = [...runs].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    });
  for (const [name, q] of [
    ['stream-latency-p50', 0.5],
    ['stream-latency-p99', 0.99],
  ] as const)
    out.push({
      ...summary(name, 'ms/item', pick(q)),
      anchor: null,
      ratio: null,
      note: `${count} items pushed at ${perSecond}/s through the same pipeline: ms from push to out`,
    });
  return out;
}
