// `npm run soak [-- --seed=N] [--minutes=M] [--tabs=K] [--steps=S]`: the randomized model test
// across real tabs (test/browser/model.spec.ts), for as long as asked, one fresh seed after
// another (or counting up from --seed). Stops at the first sequence that does not match the
// model and prints its seed and ops, so it can be replayed (MODEL_SEED=N npm run test:browser
// -- model.spec.ts) and kept as a regular test.
import { resolve } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { createServer } from 'vite';
import { startCoordinator } from '../src/coordinator/coordinator.ts';
import { CHROMIUM_ARGS, findChromium } from '../test/browser/find-chromium.mjs';
import { runSequence } from '../test/model/sequence.ts';
import { TabDriver } from '../test/model/tab-driver.ts';

const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const minutes = Number(arg('minutes') ?? 5);
const tabs = Number(arg('tabs') ?? 4);
const steps = Number(arg('steps') ?? 60);
const given = arg('seed');
let seed = given === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(given);

const root = resolve(import.meta.dirname, '..');
const server = await createServer({
  configFile: resolve(root, 'test/browser/vite.config.ts'),
  server: { host: '127.0.0.1', port: 0 },
});
await server.listen();
const address = server.httpServer?.address();
const pageUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/index.html`;
const coordinator = await startCoordinator({ port: 0 });
const browser = await chromium.launch({
  ...(findChromium()?.path ? { executablePath: findChromium()?.path } : {}),
  args: CHROMIUM_ARGS,
});
/** The tabs of the sequence running now: weighed before they close. */
let open: Page[] = [];
const openTab = async () => {
  const page = await (await browser.newContext()).newPage();
  open.push(page);
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(pageUrl);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  return page;
};

/** Each tab's JS heap (after a collection), and the links its nodes hold and have made. */
async function weigh(pages: Page[]): Promise<{ heap: string; connections: string; links: string }> {
  // The sequence closes and reopens tabs: only those still open are weighed.
  const figures = await Promise.all(
    pages
      .filter((page) => !page.isClosed())
      .map(async (page) => {
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('HeapProfiler.collectGarbage');
        const { usedSize } = await cdp.send('Runtime.getHeapUsage');
        const links = await page.evaluate(() =>
          [...window.harness.nodes.values()].map((n) => n.links()),
        );
        return {
          heap: (usedSize / 2 ** 20).toFixed(1),
          made: links.reduce((sum, l) => sum + l.peerConnections, 0),
          open: links.reduce((sum, l) => sum + l.open, 0),
        };
      }),
  );
  return {
    heap: figures.map((f) => f.heap).join(' '),
    connections: figures.map((f) => f.made).join(' '),
    links: figures.map((f) => f.open).join(' '),
  };
}

const until = Date.now() + minutes * 60_000;
let sequences = 0;
let ops = 0;
let failed = false;
console.log(`soak: ${tabs} tabs, ${steps} ops a sequence, ${minutes} min, first seed ${seed}`);
try {
  while (Date.now() < until) {
    const driver = await TabDriver.start(tabs, {
      coordinator: coordinator.url,
      room: `soak-${seed}`,
      openTab,
    });
    try {
      ops += (await runSequence(driver, seed, steps)).ops;
      sequences++;
      const weighed = await weigh(open);
      console.log(
        `  seed ${seed}: ok (${sequences} sequences, ${ops} ops so far); heap per tab ${weighed.heap} MiB; RTCPeerConnections made per tab ${weighed.connections}; links open ${weighed.links}`,
      );
    } finally {
      await driver.close();
      open = [];
    }
    seed = given === undefined ? Math.floor(Math.random() * 2 ** 31) : seed + 1;
  }
} catch (error) {
  failed = true;
  console.error(error instanceof Error ? error.message : error);
} finally {
  await browser.close();
  await Promise.all([server.close(), coordinator.close()]);
}
console.log(`soak: ${sequences} sequences, ${ops} ops, ${failed ? 'FAILED' : 'nothing found'}`);
process.exit(failed ? 1 : 0);
