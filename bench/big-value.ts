import type { BrowserServer, Page } from '@playwright/test';
import { canMeasure, rendererPids, resetPeaks, status } from './process-memory.ts';
import type { OpenTabs } from './same-browser.ts';
import { type BenchConfig, deadline, progress, round, type Scenario, summary } from './stats.ts';

const rss = (pid: number) => {
  try {
    return status(pid, 'VmRSS');
  } catch {
    return 0;
  }
};

/** The renderer process of a tab: the one whose memory grows when the tab holds 256 MiB. */
async function pidOf(tab: Page, pids: number[]): Promise<number | undefined> {
  const before = new Map(pids.map((pid) => [pid, rss(pid)]));
  await tab.evaluate(() => window.swarm.hold(256));
  let best: { pid: number; growth: number } | undefined;
  for (const pid of pids) {
    const growth = rss(pid) - (before.get(pid) ?? 0);
    if (best === undefined || growth > best.growth) best = { pid, growth };
  }
  await tab.evaluate(() => {
    window.swarm.release();
    (globalThis as { gc?: () => void }).gc?.();
  });
  return best !== undefined && best.growth > 200 << 20 ? best.pid : undefined;
}

/**
 * `big-value`: a 512 MiB typed array made on one tab and checked on another tab of the same
 * browser (a third tab orchestrates), with the receiving tab's peak resident growth. It goes
 * over the lane and into both tabs' IndexedDB, in parts.
 */
export async function bigValueScenarios(
  open: OpenTabs,
  server: BrowserServer,
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  const mib = config.option('big-mib', 512);
  const bytes = mib << 20;
  const runs = config.option('big-runs', config.quick ? 1 : 3);
  const tabs = (await open(3)) as [Page, Page, Page];
  const room = `big-${Date.now()}`;
  const ids = await Promise.all(
    tabs.map((t) =>
      t.evaluate(({ c, r }) => window.swarm.swarmJoin(c, r), { c: coordinator, r: room }),
    ),
  );
  await Promise.all(tabs.map((t) => t.evaluate(() => window.swarm.swarmWait(2))));
  const [orchestrator, , taker] = tabs;
  const pids = canMeasure() ? rendererPids(server.process().pid as number) : [];
  const takerPid = await pidOf(taker, pids);
  const times: number[] = [];
  const rates: number[] = [];
  const memory: number[] = [];
  for (let i = 0; i < runs; i++) {
    progress(`big-value ${mib} MiB: run ${i + 1} of ${runs}`);
    // The tabs run with --expose-gc: what the last run left is collected before this one.
    await Promise.all(
      tabs.map((t) => t.evaluate(() => (globalThis as { gc?: () => void }).gc?.())),
    );
    const base = takerPid === undefined ? undefined : resetPeaks([takerPid]);
    const { ms, fetchMs } = await deadline(
      orchestrator.evaluate(({ n, m, t }) => window.swarm.bigValue(n, m, t), {
        n: mib,
        m: ids[1] as string,
        t: ids[2] as string,
      }),
      600_000,
      `big value, run ${i + 1}`,
    );
    times.push(ms / 1000);
    rates.push(bytes / 1e6 / (fetchMs / 1000));
    if (base !== undefined && takerPid !== undefined)
      memory.push((status(takerPid, 'VmHWM') - (base.get(takerPid) ?? 0)) / bytes);
  }
  await Promise.all(tabs.map((t) => t.close()));
  const row = (s: ReturnType<typeof summary>, target: string, note: string): Scenario => ({
    ...s,
    anchor: null,
    ratio: null,
    target,
    note,
  });
  const out = [
    row(
      summary('big-value', 's', times),
      'completes',
      `${mib} MiB Float64Array made on one tab, checked on another of one browser: submit to done, both tabs keeping it in IndexedDB parts`,
    ),
    row(
      summary('big-value-fetch', 'MB/s', rates),
      '',
      'the consumer fetching it from the producer, over their lane',
    ),
  ];
  if (memory.length > 0)
    out.push(
      row(
        summary('big-value-memory', 'x payload', memory.map(round)),
        '<= 2x',
        'the receiving tab’s peak resident growth over the payload (Linux /proc)',
      ),
    );
  return out;
}
