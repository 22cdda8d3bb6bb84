// `npm run bench -- --scale`: how the cost grows. Three curves, each a table and an SVG chart
// (bench/charts/): tabs (2 to 12: room formation, dispatch, many small DAGs), DAG size (1,000 to
// 100,000 tasks over 4 tabs: time per task, the orchestrating tab's heap per task mid-run), and
// simulated peers (10 to 1,000 Node.js nodes on the in-memory transport: the orchestrator's time
// per task).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserServer, Page } from '@playwright/test';
import { lineChart } from './chart.ts';
import { simulateRoom } from './scale-sim.ts';
import { type BenchConfig, deadline, median, progress, round, type Scenario } from './stats.ts';

const charts = resolve(dirname(fileURLToPath(import.meta.url)), 'charts');
type Open = (server: BrowserServer) => Promise<Page>;

const row = (name: string, unit: string, value: number, note: string): Scenario => ({
  name,
  unit,
  median: round(value),
  min: round(value),
  max: round(value),
  runs: 1,
  anchor: null,
  ratio: null,
  note,
});

function chart(file: string, spec: Parameters<typeof lineChart>[0]): void {
  mkdirSync(charts, { recursive: true });
  writeFileSync(resolve(charts, file), lineChart(spec));
}

/** Tabs 2 to 12, each a browser context of its own, alternating between two browsers. */
async function tabsCurve(
  open: Open,
  servers: BrowserServer[],
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  const sizes = config.quick ? [2, 4] : [2, 4, 8, 12];
  const tasks = config.option('scale-dispatch-tasks', config.quick ? 300 : 3000);
  const dags = config.option('scale-dags', config.quick ? 20 : 200);
  const out: Scenario[] = [];
  const points = { formation: [] as [number, number][], dispatch: [] as [number, number][] };
  const many: [number, number][] = [];
  const linkOpen: [number, number][] = [];
  for (const n of sizes) {
    const room = `scale-tabs-${n}-${Date.now()}`;
    const pages: Page[] = [];
    for (let i = 0; i < n; i++)
      pages.push(await open(servers[i % servers.length] as BrowserServer));
    // Opened one after another, as people do; formation is timed from the last one's join.
    const ids: string[] = [];
    for (const page of pages.slice(0, -1))
      ids.push(
        await page.evaluate(({ c, r }) => window.swarm.swarmJoin(c, r), {
          c: coordinator,
          r: room,
        }),
      );
    const started = Date.now();
    ids.push(
      await (pages.at(-1) as Page).evaluate(({ c, r }) => window.swarm.swarmJoin(c, r), {
        c: coordinator,
        r: room,
      }),
    );
    await deadline(
      Promise.all(pages.map((p) => p.evaluate((k) => window.swarm.swarmWait(k), n - 1))),
      60_000,
      `a room of ${n} tabs forming`,
    );
    const formation = Date.now() - started;
    const first = pages[0] as Page;
    // A one-task DAG pinned on a peer this tab has no link to yet, then the same again: the
    // difference is what opening the link costs the first run.
    const fresh = await first.evaluate((id) => window.swarm.chain(1, [id]), ids[1] as string);
    const linked = await first.evaluate((id) => window.swarm.chain(1, [id]), ids[1] as string);
    linkOpen.push([n, fresh - linked]);
    const rates: number[] = [];
    const dagRates: number[] = [];
    for (let i = 0; i < config.warmup + config.runs; i++) {
      const d = await first.evaluate((t) => window.swarm.dispatch(t), tasks);
      const m = await first.evaluate((k) => window.swarm.manyDags(k), dags);
      if (!m.correct) throw new Error(`many-dags over ${n} tabs gave a wrong result`);
      if (i >= config.warmup) {
        rates.push(tasks / (d.ms / 1000));
        dagRates.push((dags * 5) / (m.ms / 1000));
      }
    }
    progress(`${n} tabs: formed in ${formation} ms, dispatch ${Math.round(median(rates))}/s`);
    points.formation.push([n, formation]);
    points.dispatch.push([n, median(rates)]);
    many.push([n, median(dagRates)]);
    out.push(
      row(`scale-formation-${n}`, 'ms', formation, `${n} tabs: last tab joins -> all see all`),
      row(
        `scale-link-open-${n}`,
        'ms',
        fresh - linked,
        `a one-task DAG on a peer not linked yet: ${Math.round(fresh)} ms; once linked: ${Math.round(linked)} ms`,
      ),
      row(`scale-dispatch-${n}`, 'tasks/s', median(rates), `${tasks} trivial tasks over ${n} tabs`),
      row(`scale-many-dags-${n}`, 'tasks/s', median(dagRates), `${dags} DAGs of 5 over ${n} tabs`),
    );
    await Promise.all(pages.map((p) => p.context().close()));
  }
  chart('scale-tabs-formation.svg', {
    title: 'Room formation, and opening a link',
    x: 'tabs',
    y: 'ms, last join to all seeing all',
    series: [
      { name: 'formation', points: points.formation },
      { name: 'opening a link', points: linkOpen },
    ],
  });
  chart('scale-tabs-rate.svg', {
    title: 'Trivial tasks per second',
    x: 'tabs (one machine, 2 cores)',
    y: 'tasks/s',
    series: [
      { name: 'dispatch', points: points.dispatch },
      { name: 'many-dags', points: many },
    ],
  });
  return out;
}

/** Layered DAGs over 4 tabs: time per task, and the orchestrator's heap per task mid-run. */
async function sizeCurve(
  open: Open,
  servers: BrowserServer[],
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  const sizes = config.quick ? [1000, 10_000] : [1000, 10_000, 100_000];
  const room = `scale-size-${Date.now()}`;
  const pages = await Promise.all([0, 1, 2, 3].map((i) => open(servers[i % 2] as BrowserServer)));
  for (const page of pages)
    await page.evaluate(({ c, r }) => window.scale.join(c, r), { c: coordinator, r: room });
  await Promise.all(pages.map((p) => p.evaluate(() => window.scale.seen(3))));
  const first = pages[0] as Page;
  const cdp = await first.context().newCDPSession(first);
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  const out: Scenario[] = [];
  const perTask: [number, number][] = [];
  const heapPerTask: [number, number][] = [];
  for (const size of sizes) {
    const layers = 20;
    const before = await heap();
    const tasks = await first.evaluate(({ s, l }) => window.scale.start(s, l), {
      s: size,
      l: layers,
    });
    // Weighed once half the tasks are done: the run's table, its results so far, in flight.
    while ((await first.evaluate(() => window.scale.progress())) < tasks / 2)
      await new Promise((r) => setTimeout(r, 50));
    const during = await heap();
    const { ms, correct } = await deadline(
      first.evaluate(() => window.scale.wait()),
      600_000,
      `a layered DAG of ${tasks} tasks`,
    );
    if (!correct) throw new Error(`the layered DAG of ${tasks} tasks gave a wrong result`);
    const bytes = (during - before) / tasks;
    progress(`${tasks} tasks: ${(ms / tasks).toFixed(3)} ms/task, ${Math.round(bytes)} B/task`);
    perTask.push([tasks, (ms * 1000) / tasks]);
    heapPerTask.push([tasks, bytes]);
    out.push(
      row(
        `scale-dag-${tasks}`,
        'µs/task',
        (ms * 1000) / tasks,
        `${layers} layers over 4 tabs, every result right`,
      ),
      row(
        `scale-dag-heap-${tasks}`,
        'B/task',
        bytes,
        'orchestrating tab, heap after GC mid-run, over before',
      ),
    );
  }
  await Promise.all(pages.map((p) => p.context().close()));
  chart('scale-dag-size.svg', {
    title: 'Layered DAG over 4 tabs',
    x: 'tasks in the DAG',
    y: 'µs per task / bytes of heap per task',
    logX: true,
    series: [
      { name: 'µs per task', points: perTask },
      { name: 'heap B per task', points: heapPerTask },
    ],
  });
  return out;
}

/** Simulated rooms of 10 to 1,000 peers in this process. */
async function simulatedCurve(config: BenchConfig): Promise<Scenario[]> {
  const sizes = config.quick ? [10, 100] : [10, 100, 1000];
  const tasks = config.option('scale-sim-tasks', config.quick ? 20_000 : 100_000);
  const out: Scenario[] = [];
  const orchestrator: [number, number][] = [];
  const cpu: [number, number][] = [];
  for (const peers of sizes) {
    const r = await simulateRoom(peers, tasks, 1);
    progress(`${peers} simulated peers: ${r.orchestratorUsPerTask.toFixed(1)} µs/task`);
    orchestrator.push([peers, r.orchestratorUsPerTask]);
    cpu.push([peers, r.cpuUsPerTask]);
    out.push(
      row(
        `scale-sim-orchestrator-${peers}`,
        'µs/task',
        r.orchestratorUsPerTask,
        `${tasks} tasks over ${peers} peers (1 ms a message), ${r.used} used; placement, dispatch, reports`,
      ),
      row(
        `scale-sim-cpu-${peers}`,
        'µs/task',
        r.cpuUsPerTask,
        `the whole process (every simulated peer) per task; ${(r.ms / 1000).toFixed(1)} s`,
      ),
    );
  }
  chart('scale-simulated-peers.svg', {
    title: 'Orchestrator cost per task vs peers',
    x: 'simulated peers',
    y: 'µs per task',
    logX: true,
    series: [
      { name: 'orchestrator', points: orchestrator },
      { name: 'whole process', points: cpu },
    ],
  });
  return out;
}

export async function scaleScenarios(
  open: Open,
  servers: BrowserServer[],
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  return [
    ...(await simulatedCurve(config)),
    ...(await tabsCurve(open, servers, coordinator, config)),
    ...(await sizeCurve(open, servers, coordinator, config)),
  ];
}
