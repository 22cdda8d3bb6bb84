import type { Page } from '@playwright/test';
import { type BenchConfig, progress, round, type Scenario, summary } from './stats.ts';

/**
 * Recovery: a layered run of 400 tasks over four fresh tabs, once whole and once with a worker
 * tab closed when half the tasks are done; its lost results are made again from their lineage.
 * Reports the failed run's time beside the whole one's, and whether their results match.
 */
export async function recoveryScenarios(
  openTabs: () => Promise<Page[]>,
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  const layers = 4;
  const width = config.option('recovery-width', 100);
  const ms = config.option('recovery-ms', 10);
  const whole: number[] = [];
  const failed: number[] = [];
  let lost = 0;
  let match = true;
  for (let i = 0; i < config.warmup + config.runs; i++) {
    progress(
      `recovery: ${layers * width} tasks, run ${i + 1} of ${config.warmup + config.runs}${i < config.warmup ? ' (warm-up)' : ''}`,
    );
    const tabs = await openTabs();
    const room = `recovery-${Date.now()}-${i}`;
    await Promise.all(
      tabs.map((t) =>
        t.evaluate(({ c, r }) => window.recovery.recoveryJoin(c, r), { c: coordinator, r: room }),
      ),
    );
    await Promise.all(
      tabs.map((t) => t.evaluate((n) => window.recovery.recoveryWait(n), tabs.length - 1)),
    );
    const [first, victim] = tabs as [Page, Page];
    const run = async (closeHalfway: boolean) => {
      await first.evaluate(({ l, w, m }) => window.recovery.recoveryStart(l, w, m), {
        l: layers,
        w: width,
        m: ms,
      });
      if (closeHalfway) {
        await first.evaluate(() => window.recovery.recoveryHalfway());
        await victim.context().close();
      }
      // A run that does not finish is a bug worth seeing: print what it waits for.
      const watch = setInterval(() => {
        first
          .evaluate(() => window.recovery.recoveryPending())
          .then((p) => progress(`still waiting for ${p.length} tasks: ${p.slice(0, 8).join(' ')}`))
          .catch(() => undefined);
      }, 15_000);
      try {
        return await first.evaluate(() => window.recovery.recoveryFinish());
      } finally {
        clearInterval(watch);
      }
    };
    const base = await run(false);
    const broken = await run(true);
    if (i >= config.warmup) {
      whole.push(base.ms);
      failed.push(broken.ms);
      lost += broken.lost;
      match &&= base.checksum === broken.checksum;
    }
    await Promise.all(
      tabs.map((t) =>
        t
          .context()
          .close()
          .catch(() => undefined),
      ),
    );
  }
  const wholeRow = summary('recovery-whole', 'ms', whole);
  const row = summary('recovery', 'ms', failed);
  return [
    {
      ...wholeRow,
      anchor: null,
      ratio: null,
      note: `${layers} layers × ${width} tasks of ${ms} ms, each taking two of the layer before; 4 tabs, none closed`,
    },
    {
      ...row,
      anchor: { name: 'recovery-whole', median: wholeRow.median },
      ratio: round(row.median / wholeRow.median),
      target: 'ratio < 2',
      note: `the same run with one worker tab closed when half its tasks were done; ${round(lost / config.runs)} results made again per run; results match the whole run: ${match ? 'yes' : 'NO'}`,
    },
  ];
}
