// `npm run bench [-- --quick]`: benchmark scenarios in headless Chromium, with a real
// coordinator, printed next to their targets and baselines. Figures, never assertions.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserServer, chromium, type Page } from '@playwright/test';
import { createServer } from 'vite';
import { startCoordinator } from '../src/coordinator/coordinator.ts';
import { CHROMIUM_ARGS, findChromium } from '../test/browser/find-chromium.mjs';
import { canMeasure, peakGrowth, rendererPids, resetPeaks } from './process-memory.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string, fallback: number) => {
  const found = args.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const TASKS = option('tasks', 10_000);
const TRANSFER_MIB = option('transfer-mib', 64);
const RUNS = option('runs', quick ? 3 : 7);
const WARMUP = quick ? 1 : 2;

export interface Scenario {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number;
  /** The figure it is measured against in the same run (a baseline), if any. */
  anchor: { name: string; median: number } | null;
  ratio: number | null;
  target?: string;
  note?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const summary = (name: string, unit: string, values: number[]) => ({
  name,
  unit,
  median: round(median(values)),
  min: round(Math.min(...values)),
  max: round(Math.max(...values)),
  runs: values.length,
});
const round = (n: number) => Math.round(n * 100) / 100;
const progress = (line: string) => console.log(`  … ${line}`);

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
    chromium.launchServer({
      ...(executablePath ? { executablePath } : {}),
      args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'],
    });
  const [serverA, serverB] = [await launch(), await launch()];
  const scenarios: Scenario[] = [];
  try {
    const a = await openPage(serverA, pageUrl);
    const b = await openPage(serverB, pageUrl);
    console.log(
      `Chromium ${a.context().browser()?.version()}; ${quick ? 'quick run' : 'full run'}: ${WARMUP} warm-up + ${RUNS} measured runs each`,
    );
    scenarios.push(...(await local(a)));
    scenarios.push(...(await transfer(a, b, serverB, coordinator.url)));
  } finally {
    await Promise.all([serverA.close(), serverB.close(), server.close(), coordinator.close()]);
  }
  print(scenarios);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${os.release()}`,
  };
  const out = resolve(here, 'results.json');
  writeFileSync(out, `${JSON.stringify({ machine, scenarios }, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}

async function openPage(server: BrowserServer, url: string): Promise<Page> {
  const browser = await chromium.connect(server.wsEndpoint());
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(
    () => document.getElementById('status')?.textContent === 'ready' && 'transfer' in window,
  );
  return page;
}

/** 10,000-task fan-out/fan-in on one node, IndexedDB and memory stores. */
async function local(page: Page): Promise<Scenario[]> {
  const out: Scenario[] = [];
  for (const [name, store, target] of [
    ['local-idb', 'indexeddb', 10_000],
    ['local-memory', 'memory', 100_000],
  ] as const) {
    progress(`${name}: ${TASKS} tasks × ${WARMUP + RUNS}`);
    const times = await page.evaluate((o) => window.bench.local(o), {
      store,
      tasks: TASKS,
      runs: RUNS,
      warmup: WARMUP,
    });
    const rates = times.map((ms) => TASKS / (ms / 1000));
    const s = summary(name, 'tasks/s', rates);
    out.push({
      ...s,
      anchor: null,
      ratio: null,
      target: `>= ${target.toLocaleString('en')} tasks/s`,
      note: `${round((median(times) * 1000) / TASKS)} µs/task`,
    });
  }
  return out;
}

/** A 64 MiB ArrayBuffer between two tabs (separate browsers), beside a raw RTCDataChannel. */
async function transfer(
  a: Page,
  b: Page,
  receiverServer: BrowserServer,
  coordinator: string,
): Promise<Scenario[]> {
  const bytes = TRANSFER_MIB << 20;
  const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);
  const room = `bench-${Date.now()}`;
  const [, idb] = await Promise.all([
    a.evaluate(({ c, r }) => window.transfer.handoutJoin(c, r), { c: coordinator, r: room }),
    b.evaluate(({ c, r }) => window.transfer.handoutJoin(c, r), { c: coordinator, r: room }),
  ]);
  await a.evaluate((id) => window.transfer.handoutWaitFor(id), idb);
  const offer = await a.evaluate(() => window.transfer.rawOffer());
  const answer = await b.evaluate((o) => window.transfer.rawAnswer(o), offer);
  await a.evaluate((ans) => window.transfer.rawAccept(ans), answer);

  const pids = rendererPids(receiverServer.process().pid as number);
  const handout: number[] = [];
  const raw: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    progress(`transfer ${TRANSFER_MIB} MiB: run ${i + 1} of ${WARMUP + RUNS}`);
    // Raw first, then Handout, alternating within each run so both see the same conditions.
    const arrived = b.evaluate((n) => window.transfer.rawExpect(n), bytes);
    const started = await a.evaluate((n) => window.transfer.rawSend(n), bytes);
    const rawMs = (await arrived) - started;
    await b.evaluate(() => (globalThis as { gc?: () => void }).gc?.());
    const base = canMeasure() ? resetPeaks(pids) : undefined;
    const handoutMs = await a.evaluate(({ id, n }) => window.transfer.handoutSend(id, n), {
      id: idb,
      n: bytes,
    });
    if (i < WARMUP) continue;
    raw.push(mbps(rawMs));
    handout.push(mbps(handoutMs));
    if (base !== undefined) heap.push(peakGrowth(base) / bytes);
  }
  const rawSummary = summary('transfer-raw', 'MB/s', raw);
  const handoutSummary = summary('transfer', 'MB/s', handout);
  const out: Scenario[] = [
    {
      ...handoutSummary,
      anchor: { name: 'transfer-raw', median: rawSummary.median },
      ratio: round(handoutSummary.median / rawSummary.median),
      target: '>= 0.90 of raw',
      note: `${TRANSFER_MIB} MiB ArrayBuffer, tab to tab (two browsers), through Handout's transport`,
    },
    {
      ...rawSummary,
      anchor: null,
      ratio: null,
      note: 'one raw ordered RTCDataChannel, 64 KiB messages',
    },
  ];
  if (heap.length > 0) {
    out.push({
      ...summary('transfer-memory', 'x payload', heap),
      anchor: null,
      ratio: null,
      target: '<= 2x',
      note: "receiving tab's peak resident memory growth over the payload size",
    });
  }
  return out;
}

function print(rows: Scenario[]): void {
  const fmt = (n: number) => n.toLocaleString('en', { maximumFractionDigits: 2 });
  const lines = [
    '| scenario | unit | median | min | max | runs | baseline (median) | ratio | target | note |',
    '|---|---|---:|---:|---:|---:|---|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.unit} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.runs} | ${
          r.anchor ? `${r.anchor.name} (${fmt(r.anchor.median)})` : ''
        } | ${r.ratio ?? ''} | ${r.target ?? ''} | ${r.note ?? ''} |`,
    ),
  ];
  console.log(`\n${lines.join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
