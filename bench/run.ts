// `npm run bench [-- --quick]`: benchmark scenarios in headless Chromium, with a real
// coordinator, printed next to their targets and baselines. Figures, never assertions.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Browser,
  type BrowserContext,
  type BrowserServer,
  chromium,
  type Page,
} from '@playwright/test';
import { createServer } from 'vite';
import { startCoordinator } from '../src/coordinator/coordinator.ts';
import { CHROMIUM_ARGS, findChromium } from '../test/browser/find-chromium.mjs';
import { bigValueScenarios } from './big-value.ts';
import { coordinatorScenarios } from './coordinator-load.ts';
import { runDask, withDask } from './dask.ts';
import { edgeScenarios } from './edge.ts';
import { firefoxScenarios } from './firefox.ts';
import { hiddenScenarios } from './hidden.ts';
import { localScenarios } from './local.ts';
import { recoveryScenarios } from './recovery.ts';
import { sameBrowserScenarios } from './same-browser.ts';
import { scaleScenarios } from './scale.ts';
import { soakHeapScenarios } from './soak-heap.ts';
import type { BenchConfig, Scenario } from './stats.ts';
import { streamScenarios } from './stream.ts';
import { swarmScenarios } from './swarm.ts';
import { transferScenarios } from './transfer.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string, fallback: number) => {
  const found = args.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const config: BenchConfig = {
  quick,
  runs: option('runs', quick ? 3 : 7),
  warmup: option('warmup', quick ? 1 : 2),
  option,
};
/** Where the figures go: `--out=path` (the markdown table goes beside it). */
const outFile = resolve(
  args.find((a) => a.startsWith('--out='))?.slice(6) ?? resolve(here, 'results.json'),
);
/**
 * Which scenario groups to run: `--only=local,transfer,edge,swarm,stream,same-browser,...`;
 * `--scale` runs the scale curves alone (or add `scale` to `--only`).
 */
const only = (
  args.find((a) => a.startsWith('--only='))?.slice(7) ??
  (args.includes('--scale')
    ? 'scale'
    : 'local,transfer,firefox,edge,swarm,stream,same-browser,big,recovery,hidden,soak,coordinator')
).split(',');

async function main(): Promise<void> {
  const server = await createServer({
    configFile: false,
    root: resolve(here, 'pages'),
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0, fs: { allow: [resolve(here, '..')] } },
  });
  await server.listen();
  const address = server.httpServer?.address();
  const pageUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/index.html`;
  const coordinator = await startCoordinator({ port: 0 });
  const executablePath = findChromium()?.path;
  const launch = () =>
    chromium.launchServer({ ...(executablePath ? { executablePath } : {}), args: CHROMIUM_ARGS });
  const [serverA, serverB] = [await launch(), await launch()];
  const scenarios: Scenario[] = [];
  try {
    const a = await openPage(serverA, pageUrl);
    const b = await openPage(serverB, pageUrl);
    console.log(
      `Chromium ${a.context().browser()?.version()}; ${quick ? 'quick run' : 'full run'}: ${config.warmup} warm-up + ${config.runs} measured runs each`,
    );
    if (only.includes('local')) scenarios.push(...(await localScenarios(a, config)));
    if (only.includes('transfer'))
      scenarios.push(
        ...(await transferScenarios(a, b, coordinator.url, config, {
          name: 'transfer',
          receiverServer: serverB,
        })),
      );
    if (only.includes('firefox'))
      scenarios.push(
        ...(await firefoxScenarios(
          pageUrl,
          () => openPage(serverA, pageUrl),
          coordinator.url,
          config,
        )),
      );
    if (only.includes('edge'))
      scenarios.push(
        ...(await edgeScenarios(await openPage(serverA, pageUrl), coordinator.url, config)),
      );
    if (only.includes('swarm')) {
      const tabs = [
        await openPage(serverA, pageUrl),
        await openPage(serverB, pageUrl),
        await openPage(serverA, pageUrl),
        await openPage(serverB, pageUrl),
      ];
      scenarios.push(...(await swarmScenarios(tabs, coordinator.url, config)));
    }
    if (only.includes('stream')) {
      const tabs = [serverA, serverB, serverA].map((s) => openPage(s, pageUrl));
      scenarios.push(...(await streamScenarios(await Promise.all(tabs), coordinator.url, config)));
    }
    if (only.includes('same-browser')) {
      // Tabs of one context of browser A: tabs of one browser.
      const open = async (n: number) => {
        const browser = await chromium.connect(serverA.wsEndpoint());
        connections.push(browser);
        const context = await browser.newContext();
        return Promise.all(Array.from({ length: n }, () => readyPage(context, pageUrl)));
      };
      scenarios.push(
        ...(await sameBrowserScenarios(open, serverA, coordinator.url, config, scenarios)),
      );
    }
    if (only.includes('big')) {
      // A browser of its own whose tabs can collect garbage on demand, so each run starts clean.
      const server = await chromium.launchServer({
        ...(executablePath ? { executablePath } : {}),
        args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'],
      });
      try {
        const browser = await chromium.connect(server.wsEndpoint());
        connections.push(browser);
        const context = await browser.newContext();
        const open = (n: number) =>
          Promise.all(Array.from({ length: n }, () => readyPage(context, pageUrl)));
        scenarios.push(...(await bigValueScenarios(open, server, coordinator.url, config)));
      } finally {
        await server.close();
      }
    }
    if (only.includes('recovery')) {
      // Fresh tabs each time: one of them is closed in every run.
      const openTabs = async () =>
        Promise.all([serverA, serverB, serverA, serverB].map((s) => openPage(s, pageUrl)));
      scenarios.push(...(await recoveryScenarios(openTabs, coordinator.url, config)));
    }
    if (only.includes('hidden'))
      scenarios.push(...(await hiddenScenarios(pageUrl, coordinator.url, config)));
    if (only.includes('soak')) {
      const tabs = await Promise.all(
        [serverA, serverB, serverA, serverB].map((s) => openPage(s, pageUrl)),
      );
      scenarios.push(...(await soakHeapScenarios(tabs, coordinator.url, config)));
    }
    if (only.includes('coordinator')) scenarios.push(...(await coordinatorScenarios(config)));
    if (only.includes('scale'))
      scenarios.push(
        ...(await scaleScenarios(
          (s) => openPage(s, pageUrl),
          [serverA, serverB],
          coordinator.url,
          config,
        )),
      );
  } finally {
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
    await Promise.all([serverA.close(), serverB.close(), server.close(), coordinator.close()]);
  }
  const dask =
    args.includes('--no-dask') || (only.length === 1 && only[0] === 'scale')
      ? 'skipped (--no-dask)'
      : runDask({
          // Dask's rates barely depend on the count at these sizes; a quick run uses fewer tasks.
          tasks: Math.min(config.option('dispatch-tasks', 5000), quick ? 2000 : 5000),
          chain: config.option('chain', 200),
          dags: Math.min(config.option('dags', 1000), quick ? 400 : 1000),
          transferMib: config.option('transfer-mib', 64),
          streamItems: config.option('stream-items', quick ? 2000 : 5000),
          warmup: 1,
          runs: quick ? 2 : config.runs,
        });
  const rows = typeof dask === 'string' ? scenarios : withDask(scenarios, dask);
  const daskLine =
    typeof dask === 'string'
      ? `Dask: no comparison: ${dask}.`
      : `Dask ${dask.version}: LocalCluster of 4 single-threaded worker processes on this machine, in this run${quick ? ' (quick: 2,000 tasks and 400 graphs, 1 warm-up + 2 runs)' : ''}.`;
  const table = markdown(rows);
  console.log(`\n${table}\n${daskLine}`);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${os.release()}`,
  };
  const dasked = typeof dask === 'string' ? { dask: null, daskNote: dask } : { dask: dask.version };
  writeFileSync(outFile, `${JSON.stringify({ machine, ...dasked, scenarios: rows }, null, 2)}\n`);
  const md = `${outFile.replace(/\.json$/, '')}.md`;
  writeFileSync(md, `${table}\n\n${daskLine}\n`);
  console.log(`\nwrote ${outFile} and ${md}`);
}

/** Connections to the browser servers, closed at the end so the process can exit. */
const connections: Browser[] = [];

/** A page in its own context of the given browser, ready to run scenarios. */
async function openPage(server: BrowserServer, url: string): Promise<Page> {
  const browser = await chromium.connect(server.wsEndpoint());
  connections.push(browser);
  return readyPage(await browser.newContext(), url);
}

/** A new page of the context, ready to run scenarios. */
async function readyPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(
    () =>
      document.getElementById('status')?.textContent === 'ready' &&
      'transfer' in window &&
      'swarm' in window &&
      'recovery' in window &&
      'scale' in window,
  );
  return page;
}

function markdown(rows: Scenario[]): string {
  const fmt = (n: number) => n.toLocaleString('en', { maximumFractionDigits: 2 });
  const lines = [
    '| scenario | unit | median | min | max | runs | compared with (median) | ratio | target | note |',
    '|---|---|---:|---:|---:|---:|---|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.unit} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.runs} | ${
          r.anchor ? `${r.anchor.name} (${fmt(r.anchor.median)})` : ''
        } | ${r.ratio ?? ''} | ${r.target ?? ''} | ${r.note ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}

// Exits explicitly: with every browser, server and socket closed (no active handle is left)
// the process was still seen to linger after a run.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
