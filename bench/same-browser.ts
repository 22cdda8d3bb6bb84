import type { BrowserServer, Page } from '@playwright/test';
import { canMeasure, peakGrowth, pidOf, rendererPids, resetPeaks } from './process-memory.ts';
import {
  type BenchConfig,
  chainWarmup,
  coldNote,
  deadline,
  progress,
  repeat,
  round,
  type Scenario,
  summary,
} from './stats.ts';

/** Opens `n` tabs in one context of a browser: tabs of one browser, as a person opens them. */
export type OpenTabs = (n: number) => Promise<Page[]>;

/**
 * Tabs of one browser, over their MessagePort lanes: a 64 MiB transfer, a pinned chain, dispatch
 * over four tabs, and how long it takes every peer to know that a tab closed. Anchored on the
 * WebRTC twins measured earlier in the same run (`earlier`).
 */
export async function sameBrowserScenarios(
  open: OpenTabs,
  server: BrowserServer,
  coordinator: string,
  config: BenchConfig,
  earlier: readonly Scenario[],
): Promise<Scenario[]> {
  const anchored = (s: ReturnType<typeof summary>, twin: string, target: string, note: string) => {
    const theirs = earlier.find((e) => e.name === twin);
    return {
      ...s,
      anchor: theirs === undefined ? null : { name: twin, median: theirs.median },
      ratio: theirs === undefined ? null : round(s.median / theirs.median),
      target,
      note,
    };
  };
  const out: Scenario[] = [];

  // A 64 MiB ArrayBuffer between two tabs of one context, through Handout's transport.
  const mib = config.option('transfer-mib', 64);
  const bytes = mib << 20;
  const [a, b] = (await open(2)) as [Page, Page];
  const room = `same-${Date.now()}`;
  const [, joined] = await Promise.all(
    [a, b].map((t) =>
      t.evaluate(({ c, r }) => window.transfer.handoutJoin(c, r), { c: coordinator, r: room }),
    ),
  );
  const idb = joined as string;
  await a.evaluate((id) => window.transfer.handoutWaitFor(id), idb);
  // The aim is the receiver's memory: find its process; failing that, every tab of the browser.
  const tabPids = rendererPids(server.process().pid as number);
  const receiver = canMeasure() ? await pidOf(b, tabPids) : undefined;
  const pids = receiver === undefined ? tabPids : [receiver];
  const rates: number[] = [];
  const memory: number[] = [];
  for (let i = 0; i < config.warmup + config.runs; i++) {
    progress(`transfer-same-browser ${mib} MiB: run ${i + 1} of ${config.warmup + config.runs}`);
    await b.evaluate(() => (globalThis as { gc?: () => void }).gc?.());
    const base = canMeasure() ? resetPeaks(pids) : undefined;
    const ms = await deadline(
      a.evaluate(({ id, n }) => window.transfer.handoutSend(id, n), { id: idb, n: bytes }),
      120_000,
      `same-browser transfer, run ${i + 1}`,
    );
    if (i < config.warmup) continue;
    rates.push(bytes / 1e6 / (ms / 1000));
    if (base !== undefined) memory.push(peakGrowth(base) / bytes);
  }
  await Promise.all([a, b].map((t) => t.close()));
  out.push(
    anchored(
      summary('transfer-same-browser', 'MB/s', rates),
      'transfer',
      '>= 10x transfer, >= 1.0x transfer-dask',
      `${mib} MiB ArrayBuffer between two tabs of one browser, over their MessagePort lane`,
    ),
  );
  if (memory.length > 0)
    out.push({
      ...summary('transfer-same-browser-memory', 'x payload', memory),
      anchor: null,
      ratio: null,
      target: '<= 2x',
      note:
        receiver === undefined
          ? "largest peak resident growth of the browser's tabs (the sender's too) over the payload size"
          : "receiving tab's peak resident memory growth over the payload size",
    });

  // Dispatch over four tabs of one context, and a chain pinned across two of them.
  const tabs = await open(4);
  const swarmRoom = `same-swarm-${Date.now()}`;
  const ids = await Promise.all(
    tabs.map((t) =>
      t.evaluate(({ c, r }) => window.swarm.swarmJoin(c, r), { c: coordinator, r: swarmRoom }),
    ),
  );
  await Promise.all(tabs.map((t) => t.evaluate((n) => window.swarm.swarmWait(n), tabs.length - 1)));
  const first = tabs[0] as Page;
  const tasks = config.option('dispatch-tasks', 5000);
  const dispatch = await repeat(config, `dispatch ${tasks} tasks over 4 tabs of one browser`, () =>
    first.evaluate((n) => window.swarm.dispatch(n), tasks),
  );
  out.push(
    anchored(
      summary(
        'dispatch-same-browser',
        'tasks/s',
        dispatch.map((d) => tasks / (d.ms / 1000)),
      ),
      'dispatch',
      'more than dispatch',
      `${tasks} independent trivial tasks over 4 tabs of one browser, ${dispatch[0]?.peers ?? 0} used`,
    ),
  );
  const length = config.option('chain', 200);
  const pins = [ids[1] as string, ids[2] as string];
  const cold: number[] = [];
  const hops = await repeat(
    config,
    `chain of ${length} pinned across two tabs of one browser`,
    () => first.evaluate(({ n, p }) => window.swarm.chain(n, p), { n: length, p: pins }),
    { warmup: chainWarmup(config), cold },
  );
  out.push(
    anchored(
      summary(
        'chain-hop-same-browser',
        'ms/hop',
        hops.map((ms) => ms / length),
      ),
      'chain-hop',
      '<= 0.5x chain-hop',
      `${length} dependent tasks alternately pinned on two tabs of one browser${coldNote(cold, length)}`,
    ),
  );
  await Promise.all(tabs.map((t) => t.close()));

  // From closing a tab to every other tab of the room knowing: fresh tabs each run.
  const leave = await repeat(config, 'leave-same-browser: close one of three tabs', async () => {
    const three = await open(3);
    const leaveRoom = `same-leave-${Date.now()}-${Math.random()}`;
    const who = await Promise.all(
      three.map((t) =>
        t.evaluate(({ c, r }) => window.swarm.swarmJoin(c, r), { c: coordinator, r: leaveRoom }),
      ),
    );
    await Promise.all(three.map((t) => t.evaluate(() => window.swarm.swarmWait(2))));
    const [victim, ...rest] = three as [Page, ...Page[]];
    const heard = rest.map((t) => t.evaluate((id) => window.swarm.leftAt(id), who[0] as string));
    await Promise.all(rest.map((t) => t.evaluate(() => window.swarm.swarmWait(2))));
    const closed = Date.now();
    await victim.close();
    const at = await deadline(Promise.all(heard), 30_000, 'every peer hears the tab left');
    await Promise.all(rest.map((t) => t.close()));
    return Math.max(...at) - closed;
  });
  out.push({
    ...summary('leave-same-browser', 'ms', leave),
    anchor: null,
    ratio: null,
    target: '< 1,000 ms',
    note: 'from closing one of three tabs of one browser to both others knowing (its liveness lock)',
  });
  return out;
}
