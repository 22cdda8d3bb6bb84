// `npm run bench [-- --quick]`: runs the benchmark scenarios in headless Chromium and prints
// measured figures next to their targets. Figures, never assertions: timings here are noisy.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, findChromium } from '../test/browser/find-chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const tasksArg = process.argv.find((a) => a.startsWith('--tasks='));
const TASKS = tasksArg ? Number(tasksArg.slice('--tasks='.length)) : 10_000;
const RUNS = quick ? 3 : 7;
const WARMUP = quick ? 1 : 2;

const SCENARIOS = [
  { name: 'local-idb', store: 'indexeddb', target: 10_000 },
  { name: 'local-memory', store: 'memory', target: 100_000 },
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

async function main() {
  const server = await createServer({
    configFile: false,
    root: resolve(here, 'pages'),
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0, fs: { allow: [resolve(here, '..')] } },
  });
  await server.listen();
  const { port } = server.httpServer.address();
  const found = findChromium();
  const browser = await chromium.launch({
    ...(found?.path ? { executablePath: found.path } : {}),
    args: CHROMIUM_ARGS,
  });
  const scenarios = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/index.html`);
    await page.locator('#status', { hasText: 'ready' }).waitFor();
    const version = await browser.version();
    console.log(
      `Chromium ${version}; ${TASKS} tasks a run; ${WARMUP} warm-up + ${RUNS} runs${quick ? ' (quick)' : ''}`,
    );
    for (const scenario of SCENARIOS) {
      process.stdout.write(`  ${scenario.name}: running...`);
      const times = await page.evaluate((opts) => window.bench.local(opts), {
        store: scenario.store,
        tasks: TASKS,
        runs: RUNS,
        warmup: WARMUP,
      });
      const rates = times.map((ms) => TASKS / (ms / 1000));
      const result = {
        name: scenario.name,
        unit: 'tasks/s',
        median: Math.round(median(rates)),
        min: Math.round(Math.min(...rates)),
        max: Math.round(Math.max(...rates)),
        runs: rates.length,
        usPerTask: Number(((median(times) * 1000) / TASKS).toFixed(2)),
        target: scenario.target,
        anchor: null,
        ratio: null,
      };
      scenarios.push(result);
      process.stdout.write(`\r  ${scenario.name}: done${' '.repeat(10)}\n`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  printTable(scenarios);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform,
  };
  const out = resolve(here, 'results.json');
  writeFileSync(out, `${JSON.stringify({ machine, scenarios }, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}

function printTable(rows) {
  const lines = [
    '| scenario | median tasks/s | min | max | µs/task | target tasks/s | median / target |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.median.toLocaleString('en')} | ${r.min.toLocaleString('en')} | ${r.max.toLocaleString('en')} | ${r.usPerTask} | ${r.target.toLocaleString('en')} | ${(r.median / r.target).toFixed(2)}x |`,
    ),
  ];
  console.log(`\n${lines.join('\n')}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
